//! Every threshold the tools judge by, once. The demo, `cargo xtask check`, the workshop's
//! grading and the conformance suite all call these functions, so one measurement can never
//! get two verdicts, and the table's footnote prints these same constants.
//!
//! The margins are wide on purpose: the machines this runs on are 2-core laptops and CI
//! runners with other work going on, where a request that "did not wait" can still take tens
//! of milliseconds, and one that "waited" can come back a little early when timers round.
//!
//! This file holds the waiting verdicts (waited, did not wait, answered too early); the
//! parallelism verdict of a CPU batch is in `parallelism`, the bench's targets in `bench`.

mod bench;
mod parallelism;

use std::time::Duration;

pub use bench::{
    AGREES_WITH_WRK, Goal, STAGE_1_VS_AXUM, STAGE_5_PEAK_RSS_MIB, STAGE_5_VS_AXUM,
    STAGE_5_VS_NGINX, ThroughputTarget, Yardstick, at_least, at_most, throughput_targets, within,
};
pub use parallelism::{
    BLOCKED_AT_ONCE, CPU_TIME_GRAIN, CpuBatch, IDLE_CORES_FOR_ONE_THREAD, ONE_CORE_FLAT_OUT,
    ONE_THREAD_SPEEDUP, PARALLEL_CPU_PER_SECOND, PARALLEL_SPEEDUP, PARALLEL_SPREAD,
    PLAUSIBLE_PER_CORE, Parallelism, Proof, SPARE_CORES_FOR_ONE_THREAD, blocked_at_once,
};

/// A request "waited" behind a slow one when it took at least this share of the slow one's
/// delay. Not 1.0: the fast request is sent a moment after the slow one, so it waits a little
/// less than the whole delay even on an idle machine, and timers round.
pub const WAITED: f64 = 0.8;

/// A request "did not wait" when it took less than this share of the delay. Far below
/// [`WAITED`], so that a busy machine's stall of a few hundred milliseconds (with the suite's
/// one-second delay) cannot pass for waiting, nor waiting for a stall.
pub const DID_NOT_WAIT: f64 = 0.3;

/// Requests answered within this share of the delay of each other came "at the same moment":
/// two client threads woken by answers microseconds apart can run in either order.
pub const SAME_MOMENT: f64 = 0.1;

/// A slow route answered in less than this share of its announced delay did not really wait:
/// the delay given is wrong, or the route does not sleep.
pub const TOO_EARLY: f64 = 0.5;

/// How long a request must take to count as having waited behind a `delay`.
pub fn waited_floor(delay: Duration) -> Duration {
    delay.mul_f64(WAITED)
}

/// How long a request may take and still count as not having waited behind a `delay`.
pub fn did_not_wait_ceiling(delay: Duration) -> Duration {
    delay.mul_f64(DID_NOT_WAIT)
}

/// How far apart two answers may be and still count as coming at the same moment.
pub fn same_moment(delay: Duration) -> Duration {
    delay.mul_f64(SAME_MOMENT)
}

/// Whether a slow route that answered in `took` answered too early for its `delay`.
pub fn answered_too_early(took: Duration, delay: Duration) -> bool {
    took < delay.mul_f64(TOO_EARLY)
}

/// What a request's latency says about waiting behind a request that takes `delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// At least [`WAITED`] × the delay.
    Waited,
    /// Under [`DID_NOT_WAIT`] × the delay.
    DidNotWait,
    /// In between: neither can be said.
    Partly,
}

/// Judges one latency against the delay it might have waited behind.
pub fn waiting(latency: Duration, delay: Duration) -> Waiting {
    if latency >= waited_floor(delay) {
        Waiting::Waited
    } else if latency < did_not_wait_ceiling(delay) {
        Waiting::DidNotWait
    } else {
        Waiting::Partly
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn waiting_at_the_edges() {
        let delay = ms(1000);
        assert_eq!(waiting(ms(800), delay), Waiting::Waited);
        assert_eq!(waiting(ms(799), delay), Waiting::Partly);
        assert_eq!(waiting(ms(300), delay), Waiting::Partly);
        assert_eq!(waiting(ms(299), delay), Waiting::DidNotWait);
    }
}
