//! The bench's targets: throughput against a reference server, the bench's agreement with
//! wrk, and the memory of ten thousand waiting connections.

use crate::catalogue::Stage;

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

/// Whether a measurement reached its goal (its target's number): met, or missed by how much.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    Met,
    /// Missed by this share of the goal (0.03: by 3 %).
    MissedBy(f64),
}

/// `measured` is at least `goal`.
pub fn at_least(measured: f64, goal: f64) -> Goal {
    if measured >= goal {
        Goal::Met
    } else {
        Goal::MissedBy(1.0 - measured / goal)
    }
}

/// `measured` is at most `goal`.
pub fn at_most(measured: f64, goal: f64) -> Goal {
    if measured <= goal {
        Goal::Met
    } else {
        Goal::MissedBy(measured / goal - 1.0)
    }
}

/// A deviation (0.12: +12 %) is within `margin` either way; missed by how much beyond it.
pub fn within(deviation: f64, margin: f64) -> Goal {
    if deviation.abs() <= margin {
        Goal::Met
    } else {
        Goal::MissedBy(deviation.abs() - margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_met_or_missed_by_a_share() {
        let missed_by = |target| match target {
            Goal::MissedBy(by) => by,
            Goal::Met => 0.0,
        };
        assert_eq!(at_least(1.0, STAGE_5_VS_AXUM), Goal::Met);
        assert!((missed_by(at_least(0.92, STAGE_5_VS_NGINX)) - 0.03 / 0.95).abs() < 1e-9);
        assert_eq!(at_most(32.0, STAGE_5_PEAK_RSS_MIB), Goal::Met);
        assert!((missed_by(at_most(40.0, STAGE_5_PEAK_RSS_MIB)) - 0.25).abs() < 1e-9);
        assert_eq!(within(-0.10, AGREES_WITH_WRK), Goal::Met);
        assert!((missed_by(within(0.21, AGREES_WITH_WRK)) - 0.11).abs() < 1e-9);
        assert_eq!(throughput_targets(Stage::Five).len(), 2);
        assert_eq!(throughput_targets(Stage::One)[0].at_least, STAGE_1_VS_AXUM);
        assert!(throughput_targets(Stage::Three).is_empty());
    }
}
