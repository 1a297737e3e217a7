//! The demo's scenarios: a planned set of requests, each sent at its own moment, against one
//! running server, with every request timed from the moment it was scheduled.
//!
//! A [`Scenario`] makes a [`Plan`]; [`run`] sends it and returns what happened to every
//! request. `cargo xtask demo` reports the results; tests can run the same plans.
//!
//! Each request gets its own client thread, which sleeps until its scheduled moment and then
//! connects. A request that the client sends late (a busy machine) still counts from its
//! scheduled moment, so the client's lateness can never hide the server's ("coordinated
//! omission"). Everything is bounded: the number of requests is fixed by the plan, and every
//! connect and read has a timeout.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{self, Exchange, Timing};

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
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Slow => "slow",
            Role::Fast => "fast",
            Role::Alone => "alone",
            Role::Batch => "batch",
        }
    }
}

/// One request of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub role: Role,
    /// The path of the `GET`.
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
    pub const ALL: [Scenario; 4] = [
        Scenario::Slow,
        Scenario::BusyPool,
        Scenario::Blocking,
        Scenario::Cpu,
    ];

    /// The name used on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Slow => "slow",
            Scenario::BusyPool => "busy-pool",
            Scenario::Blocking => "blocking",
            Scenario::Cpu => "cpu",
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
            Scenario::Cpu => 0,
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
            Scenario::Slow | Scenario::BusyPool | Scenario::Blocking => {
                let mut requests: Vec<Planned> = (0..self.slow_count(settings))
                    .map(|_| slow(slow_path))
                    .collect();
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
        // after all the slow ones: give it that long, and then some.
        let slow_count = u32::try_from(self.slow_count(settings) + 2).unwrap_or(u32::MAX);
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

/// What happened to one planned request.
#[derive(Debug)]
pub struct Sent {
    pub role: Role,
    pub path: &'static str,
    pub exchange: Exchange,
}

/// The results of a plan, in the plan's order.
#[derive(Debug)]
pub struct Run {
    /// The start of the first phase: every `exchange.scheduled` is at or after it.
    pub start: Instant,
    pub requests: Vec<Sent>,
}

impl Run {
    /// When a request was scheduled, counted from the start of the run.
    pub fn offset(&self, sent: &Sent) -> Duration {
        sent.exchange
            .scheduled
            .saturating_duration_since(self.start)
    }
}

/// How long before the first request every client thread is started, so starting threads
/// never delays a request.
const LEAD: Duration = Duration::from_millis(20);

/// Sends every request of `plan` to `addr` at its moment and waits for them all.
pub fn run(addr: SocketAddr, plan: &Plan) -> Run {
    let mut start = None;
    let mut requests = Vec::new();
    for phase in &plan.phases {
        let phase_start = Instant::now() + LEAD;
        start.get_or_insert(phase_start);
        let handles: Vec<_> = phase
            .iter()
            .map(|planned| {
                let scheduled = phase_start + planned.at;
                let request = client::get_request(planned.path);
                let timeout = plan.timeout;
                let handle = thread::spawn(move || {
                    sleep_until(scheduled);
                    send_scheduled_within(addr, &request, scheduled, timeout)
                });
                (planned, scheduled, handle)
            })
            .collect();
        for (planned, scheduled, handle) in handles {
            // A client thread only panics on a bug; record that as a failed request.
            let exchange = handle.join().unwrap_or_else(|_| Exchange {
                scheduled,
                timing: Timing {
                    done: scheduled.elapsed(),
                    ..Timing::default()
                },
                response: Err(io::Error::other("the client thread panicked")),
            });
            requests.push(Sent {
                role: planned.role,
                path: planned.path,
                exchange,
            });
        }
    }
    Run {
        start: start.unwrap_or_else(Instant::now),
        requests,
    }
}

fn sleep_until(moment: Instant) {
    let now = Instant::now();
    if moment > now {
        thread::sleep(moment - now);
    }
}

/// Like [`client::send_scheduled`], but with `timeout` for the connection and for each read
/// instead of the client's defaults: a stage that serves one request at a time can keep the
/// last of many waiting longer than those.
pub fn send_scheduled_within(
    addr: SocketAddr,
    request: &[u8],
    scheduled: Instant,
    timeout: Duration,
) -> Exchange {
    let mut timing = Timing::default();
    let response = (|| {
        let mut stream = TcpStream::connect_timeout(&addr, client::CONNECT_TIMEOUT.min(timeout))?;
        timing.connect = Some(scheduled.elapsed());
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        stream.write_all(request)?;
        client::read_response(&mut stream, scheduled, &mut timing)
    })();
    timing.done = scheduled.elapsed();
    Exchange {
        scheduled,
        timing,
        response,
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
    fn names_round_trip() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::from_name("fast"), None);
    }
}
