//! Every threshold the tools judge by, once. The demo, `cargo xtask check`, the workshop's
//! grading and the conformance suite all call these functions, so one measurement can never
//! get two verdicts, and the table's footnote prints these same constants.
//!
//! The margins are wide on purpose: the machines this runs on are 2-core laptops and CI
//! runners with other work going on, where a request that "did not wait" can still take tens
//! of milliseconds, and one that "waited" can come back a little early when timers round.

use std::time::Duration;

use crate::catalogue::Stage;

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

/// A batch of CPU-bound requests at once ran "in parallel" when it did at least this many
/// times the work per second of one request alone. One thread can reach at most 1.0; two
/// cores up to 2.0. 1.3 leaves room for a busy second core, and for noise on one thread.
pub const PARALLEL_SPEEDUP: f64 = 1.3;

/// ...and when its last answer came at most this share of the batch's size times later than
/// its first. One thread answers a batch of n requests one after another, at about 1, 2, …,
/// n times one request's cost (a spread of n); two cores at about 1, 1, 2, 2, … (n/2), more
/// cores closer still. 0.75 is between the two: for the check's batch of 4, a spread of 3.
/// A stall while the "alone" request is measured can fake the speed-up, but not the spread
/// as well.
pub const PARALLEL_SPREAD: f64 = 0.75;

/// A batch cannot do more work per second than the machine has cores: a speed-up above this
/// many times the cores means a stall slowed the request measured alone, and the batch says
/// nothing (a one-thread server was once measured at 4.9× on a 2-core machine under load).
pub const PLAUSIBLE_PER_CORE: f64 = 1.25;

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

/// What one batch of CPU-bound requests, sent at once, showed against one request alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuBatch {
    /// How many requests the batch had.
    pub size: usize,
    /// The batch's work per second relative to one request alone: `size × alone ÷ together`.
    /// About the number of cores that were busy.
    pub speedup: f64,
    /// How many times later the batch's last answer came than its first.
    pub spread: f64,
    /// How many cores the machine has: the most a batch can keep busy.
    pub cores: usize,
}

impl CpuBatch {
    /// From the latency of one request `alone`, the latencies of the batch's requests, the
    /// time from the batch's send to its last answer, and the machine's cores. `None` without
    /// a batch.
    pub fn measure(
        alone: Duration,
        batch: &[Duration],
        together: Duration,
        cores: usize,
    ) -> Option<CpuBatch> {
        let first = batch.iter().min()?;
        let last = batch.iter().max()?;
        if together.is_zero() {
            return None;
        }
        Some(CpuBatch {
            size: batch.len(),
            speedup: alone.as_secs_f64() * batch.len() as f64 / together.as_secs_f64(),
            spread: last.as_secs_f64() / first.as_secs_f64().max(f64::EPSILON),
            cores: cores.max(1),
        })
    }

    /// Whether the batch ran in parallel on several cores: both [`PARALLEL_SPEEDUP`] and
    /// [`PARALLEL_SPREAD`] hold, and the speed-up is one this machine's cores can give
    /// ([`PLAUSIBLE_PER_CORE`]). Otherwise its requests took turns on one core, or a stall
    /// spoiled the measurement: either way it does not show parallelism.
    pub fn is_parallel(&self) -> bool {
        self.speedup >= PARALLEL_SPEEDUP
            && self.spread <= self.widest_parallel_spread()
            && self.is_plausible()
    }

    /// Whether the speed-up is one this machine's cores can give.
    pub fn is_plausible(&self) -> bool {
        self.speedup <= self.cores as f64 * PLAUSIBLE_PER_CORE
    }

    /// The widest spread a parallel batch of this size may have.
    pub fn widest_parallel_spread(&self) -> f64 {
        PARALLEL_SPREAD * self.size as f64
    }
}

// ---------------------------------------------------------------- the bench's targets
//
// What "fast enough" means beside production servers. No test judges by these (speed belongs
// in the bench, not in a timed test): `cargo xtask bench` prints each as met or missed, and the
// book's chapter "What it costs" explains every miss.

/// A stage-5 binary serves at least this many times the requests/s of axum (the reference):
/// a task per connection is what production servers do, so ours should not be slower.
pub const STAGE_5_VS_AXUM: f64 = 1.0;

/// ...and at least this share of nginx's (2 workers, an access line per request to a file, as
/// the stages log a line per request).
pub const STAGE_5_VS_NGINX: f64 = 0.95;

/// Stage 1, one connection at a time, at least this share of axum (median of rounds): on tiny
/// requests, serving on the accepting thread costs little, and the lesson must not look slow
/// for the wrong reason.
pub const STAGE_1_VS_AXUM: f64 = 0.8;

/// The bench's ratio of a server to the reference agrees with wrk's within this share: the
/// bench's own client measures the servers, not itself.
pub const AGREES_WITH_WRK: f64 = 0.10;

/// With 10,000 waiting connections, a stage-5 binary's peak resident memory is at most this
/// many MiB: a waiting task costs a couple of KiB.
pub const STAGE_5_PEAK_RSS_MIB: f64 = 32.0;

/// What a throughput target compares a binary with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Yardstick {
    /// axum on tokio, `crates/reference`.
    Axum,
    /// nginx, measured by wrk only.
    Nginx,
}

/// A binary's requests/s at least `at_least` times its yardstick's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThroughputTarget {
    pub yardstick: Yardstick,
    pub at_least: f64,
}

/// The throughput targets of a stage's binaries: stage 5 against axum and nginx, stage 1
/// against axum; none for the others.
pub fn throughput_targets(stage: Stage) -> &'static [ThroughputTarget] {
    const STAGE_5: [ThroughputTarget; 2] = [
        ThroughputTarget {
            yardstick: Yardstick::Axum,
            at_least: STAGE_5_VS_AXUM,
        },
        ThroughputTarget {
            yardstick: Yardstick::Nginx,
            at_least: STAGE_5_VS_NGINX,
        },
    ];
    const STAGE_1: [ThroughputTarget; 1] = [ThroughputTarget {
        yardstick: Yardstick::Axum,
        at_least: STAGE_1_VS_AXUM,
    }];
    match stage {
        Stage::Five => &STAGE_5,
        Stage::One => &STAGE_1,
        _ => &[],
    }
}

/// Whether a measurement reached its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    Met,
    /// Missed by this share of the goal (0.03: by 3 %).
    MissedBy(f64),
}

/// `measured` is at least `goal`.
pub fn at_least(measured: f64, goal: f64) -> Target {
    if measured >= goal {
        Target::Met
    } else {
        Target::MissedBy(1.0 - measured / goal)
    }
}

/// `measured` is at most `goal`.
pub fn at_most(measured: f64, goal: f64) -> Target {
    if measured <= goal {
        Target::Met
    } else {
        Target::MissedBy(measured / goal - 1.0)
    }
}

/// A deviation (0.12: +12 %) is within `margin` either way; missed by how much beyond it.
pub fn within(deviation: f64, margin: f64) -> Target {
    if deviation.abs() <= margin {
        Target::Met
    } else {
        Target::MissedBy(deviation.abs() - margin)
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

    #[test]
    fn a_parallel_batch_needs_both_measures() {
        let batch = |speedup, spread| CpuBatch {
            size: 4,
            speedup,
            spread,
            cores: 2,
        };
        assert!(batch(1.3, 3.0).is_parallel());
        assert!(!batch(1.29, 2.0).is_parallel());
        assert!(!batch(1.9, 3.01).is_parallel());
        // A demo's batch of 10 on two cores spreads to about 5; on one thread, to about 10.
        let ten = |spread| CpuBatch {
            size: 10,
            speedup: 1.9,
            spread,
            cores: 2,
        };
        assert!(ten(5.0).is_parallel());
        assert!(!ten(7.6).is_parallel());
        // More work per second than two cores can do: a stall, not parallelism.
        assert!(batch(2.5, 2.0).is_parallel());
        assert!(!batch(2.51, 2.0).is_parallel());
        let measured =
            CpuBatch::measure(ms(100), &[ms(100), ms(110), ms(190), ms(200)], ms(200), 2)
                .expect("a batch");
        assert_eq!(measured.size, 4);
        assert!((measured.speedup - 2.0).abs() < 1e-9);
        assert!((measured.spread - 2.0).abs() < 1e-9);
        assert_eq!(CpuBatch::measure(ms(100), &[], ms(200), 2), None);
    }

    #[test]
    fn targets_are_met_or_missed_by_a_share() {
        let missed_by = |target| match target {
            Target::MissedBy(by) => by,
            Target::Met => 0.0,
        };
        assert_eq!(at_least(1.0, STAGE_5_VS_AXUM), Target::Met);
        assert!((missed_by(at_least(0.92, STAGE_5_VS_NGINX)) - 0.03 / 0.95).abs() < 1e-9);
        assert_eq!(at_most(32.0, STAGE_5_PEAK_RSS_MIB), Target::Met);
        assert!((missed_by(at_most(40.0, STAGE_5_PEAK_RSS_MIB)) - 0.25).abs() < 1e-9);
        assert_eq!(within(-0.10, AGREES_WITH_WRK), Target::Met);
        assert!((missed_by(within(0.21, AGREES_WITH_WRK)) - 0.11).abs() < 1e-9);
        assert_eq!(throughput_targets(Stage::Five).len(), 2);
        assert_eq!(throughput_targets(Stage::One)[0].at_least, STAGE_1_VS_AXUM);
        assert!(throughput_targets(Stage::Three).is_empty());
    }
}
