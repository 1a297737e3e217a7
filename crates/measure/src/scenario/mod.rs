//! The demo's scenarios: a planned set of requests, each sent at its own moment, against one
//! running server, with every request timed from the moment it was scheduled.
//!
//! A [`Scenario`] makes a [`Plan`]; [`run`] sends it and returns what happened to every
//! request. `cargo xtask demo` reports the results; tests can run the same plans.
//!
//! Each request gets its own client thread, which sleeps until its scheduled moment and then
//! connects. An idle client (the idle scenario) connects and sends nothing: it ends when the
//! server closes the connection, which is what it should do after `--read-timeout-ms`.
//! A request that the client sends late (a busy machine) still counts from its
//! scheduled moment, so the client's lateness can never hide the server's ("coordinated
//! omission"). Everything is bounded: the number of requests is fixed by the plan, and every
//! connect and read has a timeout.
//!
//! This file holds the scenarios and their plans; `run` sends a plan and times what happened.

mod run;

use std::fmt;
use std::time::Duration;

pub use run::{RequestEvent, Run, Sent, run, run_watched};

/// What a request is for in its scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A request that keeps the server busy for `--sleep-ms`: `/sleep` or `/block`.
    Slow,
    /// `GET /`: the server answers it at once, if it is free to.
    Fast,
    /// `/cpu` sent alone, to measure what one costs on this machine.
    Alone,
    /// `/cpu` sent at the same moment as the rest of its batch.
    Batch,
    /// A connection that sends nothing, like a browser's spare (preconnected) connection. It
    /// gets no response: the server closes it after `--read-timeout-ms`, and that is its
    /// expected end, not a failure.
    Idle,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Slow => "slow",
            Role::Fast => "fast",
            Role::Alone => "alone",
            Role::Batch => "batch",
            Role::Idle => "idle",
        }
    }
}

/// One request of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub role: Role,
    /// The path of the `GET`; empty for an idle client, which sends nothing.
    pub path: &'static str,
    /// When to send it, after the start of its phase.
    pub at: Duration,
}

/// The requests of a scenario, in phases: a phase starts when every request of the one
/// before it has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub phases: Vec<Vec<Planned>>,
    /// How long the client waits for a connection, and for each read, before giving up.
    pub timeout: Duration,
}

impl Plan {
    /// Every request, in order.
    pub fn requests(&self) -> impl Iterator<Item = &Planned> {
        self.phases.iter().flatten()
    }
}

/// The lessons of the progression, each as a set of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One `/sleep`, then the fast requests a moment later.
    Slow,
    /// One `/sleep` more than stage 2 has workers, then the fast requests.
    BusyPool,
    /// One `/block` (it blocks its thread, even in an async stage), then the fast requests.
    Blocking,
    /// One `/cpu` alone, then a batch of `/cpu` all at once.
    Cpu,
    /// One connection that sends nothing (an idle client), then the fast requests a moment
    /// later; the server runs with `--read-timeout-ms` equal to the delay.
    Idle,
}

/// The numbers a plan is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The server's `--sleep-ms`: how long `/sleep` and `/block` take.
    pub delay: Duration,
    /// How many fast requests follow the slow ones (and how many `/cpu` make a batch).
    pub fast: usize,
    /// Stage 2's `--workers`: busy-pool sends one slow request more than this.
    pub workers: usize,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Slow,
        Scenario::BusyPool,
        Scenario::Blocking,
        Scenario::Cpu,
        Scenario::Idle,
    ];

    /// The name used on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Slow => "slow",
            Scenario::BusyPool => "busy-pool",
            Scenario::Blocking => "blocking",
            Scenario::Cpu => "cpu",
            Scenario::Idle => "idle",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// How many slow requests the scenario sends.
    pub fn slow_count(self, settings: &Settings) -> usize {
        match self {
            Scenario::Slow | Scenario::Blocking => 1,
            Scenario::BusyPool => settings.workers + 1,
            Scenario::Cpu | Scenario::Idle => 0,
        }
    }

    /// How many idle clients the scenario opens.
    pub fn idle_count(self) -> usize {
        match self {
            Scenario::Idle => 1,
            _ => 0,
        }
    }

    /// The `--read-timeout-ms` the server needs for this scenario, if not its default: the
    /// idle scenario's idle client holds its connection for the delay, like a slow request.
    pub fn server_read_timeout(self, settings: &Settings) -> Option<Duration> {
        match self {
            Scenario::Idle => Some(settings.delay),
            _ => None,
        }
    }

    /// How long after the slow requests the first fast one is sent: enough for the server to
    /// have the slow ones, short against the delay (so "waited" is close to the whole delay).
    pub fn head_start(settings: &Settings) -> Duration {
        (settings.delay / 20).clamp(Duration::from_millis(20), Duration::from_millis(100))
    }

    /// The requests to send.
    pub fn plan(self, settings: &Settings) -> Plan {
        let head_start = Scenario::head_start(settings);
        // The fast requests follow one another closely, so each gets its own row in a timeline,
        // and the last one is sent well before the slow ones end.
        let step = head_start / 10;
        let fast = |index: usize| Planned {
            role: Role::Fast,
            path: "/",
            at: head_start + step * u32::try_from(index).unwrap_or(u32::MAX),
        };
        let slow = |path: &'static str| Planned {
            role: Role::Slow,
            path,
            at: Duration::ZERO,
        };
        let slow_path = match self {
            Scenario::Blocking => "/block",
            _ => "/sleep",
        };
        let phases = match self {
            Scenario::Slow | Scenario::BusyPool | Scenario::Blocking | Scenario::Idle => {
                let mut requests: Vec<Planned> = (0..self.idle_count())
                    .map(|_| Planned {
                        role: Role::Idle,
                        path: "",
                        at: Duration::ZERO,
                    })
                    .collect();
                requests.extend((0..self.slow_count(settings)).map(|_| slow(slow_path)));
                requests.extend((0..settings.fast).map(fast));
                vec![requests]
            }
            Scenario::Cpu => {
                let alone = Planned {
                    role: Role::Alone,
                    path: "/cpu",
                    at: Duration::ZERO,
                };
                let batch = (0..settings.fast)
                    .map(|_| Planned {
                        role: Role::Batch,
                        path: "/cpu",
                        at: Duration::ZERO,
                    })
                    .collect();
                vec![vec![alone], batch]
            }
        };
        // One server that handles everything one after another (stage 1) ends the last request
        // after all the slow ones (an idle client holds it as long): give it that long, and
        // then some.
        let holders = self.slow_count(settings) + self.idle_count();
        let slow_count = u32::try_from(holders + 2).unwrap_or(u32::MAX);
        let timeout = settings
            .delay
            .saturating_mul(slow_count)
            .saturating_add(Duration::from_secs(30));
        Plan { phases, timeout }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(delay_ms: u64) -> Settings {
        Settings {
            delay: Duration::from_millis(delay_ms),
            fast: 10,
            workers: 4,
        }
    }

    #[test]
    fn fast_requests_follow_the_slow_one_well_within_the_delay() {
        for delay_ms in [100, 600, 2000, 20_000] {
            let settings = settings(delay_ms);
            let plan = Scenario::Slow.plan(&settings);
            let requests: Vec<_> = plan.requests().collect();
            assert_eq!(requests.len(), 11);
            assert_eq!((requests[0].role, requests[0].path), (Role::Slow, "/sleep"));
            let last = requests[10].at;
            assert!(requests[1].at >= Duration::from_millis(20));
            // Waiting for the slow one still means waiting at least 0.8 × the delay.
            assert!(
                last <= settings.delay / 10 || delay_ms < 400,
                "{delay_ms}: {last:?}"
            );
            assert!(plan.timeout > settings.delay * 3);
        }
    }

    #[test]
    fn busy_pool_sends_one_slow_request_more_than_the_workers() {
        let plan = Scenario::BusyPool.plan(&settings(2000));
        let slow = plan.requests().filter(|r| r.role == Role::Slow).count();
        assert_eq!(slow, 5);
        assert!(plan.timeout >= Duration::from_secs(7 * 2));
    }

    #[test]
    fn cpu_measures_one_request_alone_before_the_batch() {
        let plan = Scenario::Cpu.plan(&settings(2000));
        assert_eq!(plan.phases.len(), 2);
        assert_eq!(plan.phases[0].len(), 1);
        assert_eq!(plan.phases[1].len(), 10);
        assert!(plan.requests().all(|r| r.path == "/cpu"));
    }

    #[test]
    fn idle_opens_one_silent_connection_before_the_fast_requests() {
        let settings = settings(2000);
        let plan = Scenario::Idle.plan(&settings);
        let requests: Vec<_> = plan.requests().collect();
        assert_eq!(requests.len(), 11);
        assert_eq!(
            (requests[0].role, requests[0].path, requests[0].at),
            (Role::Idle, "", Duration::ZERO)
        );
        assert!(requests[1..].iter().all(|r| r.role == Role::Fast));
        assert_eq!(requests[1].at, Scenario::head_start(&settings));
        assert!(plan.timeout > settings.delay * 3);
        assert_eq!(
            Scenario::Idle.server_read_timeout(&settings),
            Some(settings.delay)
        );
        assert_eq!(Scenario::Slow.server_read_timeout(&settings), None);
    }

    #[test]
    fn names_round_trip() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::from_name("fast"), None);
    }
}
