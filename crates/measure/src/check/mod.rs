//! Grading a running server from outside: which concurrency model it behaves like, and which
//! points of the contract it keeps. `cargo xtask check` and the workshop's `check STEP` print
//! a [`Report`]; the stages' tests assert on its [`Model`].
//!
//! Nothing here reads the server's code or log: every finding is a measured time, so a server
//! written in any language can be graded, and a student cannot pass by writing the right
//! words. The probes, in order:
//!
//! 1. `GET /` must be answered; nothing else can be measured otherwise.
//! 2. The slow route's delay: given, or measured by one request alone.
//! 3. The ramp: slow requests are sent one by one, and after each, a fast one. The first fast
//!    request that waits until a slow one finished tells how many requests the server serves
//!    at once: 1 is one at a time, N a pool of N; none waiting up to a bound is concurrent.
//! 4. `/cpu` requests at once against one alone: parallel across cores, taking turns on one
//!    thread, or "cannot tell: the machine was busy". Load can only hide parallelism, never
//!    fake it, so parallelism needs a proof and one thread needs cores that were free; where
//!    the batches cannot tell, two blocking requests at once can ([`BlockedPair`]).
//! 5. The contract: an unknown path, `POST`, then bad input (garbage, a huge head, an empty
//!    connection), each followed by a `GET /` that must still be answered.
//! 6. At an address alone, where the process cannot be watched for a panic: a pool is
//!    measured again after the bad input, because a worker that died on it shrinks the pool
//!    while the server still answers ([`Report::model_after`]).
//!
//! A server that stops serving is reported by how: its process exited or a thread panicked
//! (a crash, seen only in a process the check started), or a `GET /` got no answer while the
//! process runs on (it has not crashed: its handlers do not run to their end). See
//! [`Stopped`].
//!
//! Every probe is bounded in count and in time: a server that hangs makes a probe fail, never
//! the check hang.
//!
//! This file holds the options, the report and the order of the probes; each probe is a file
//! of its own: `model` (the slow route's delay and the ramp), `cpu` (the `/cpu` batches and
//! the blocking pair), `contract` (the contract's points), and what became of a server that
//! stopped serving, `stopped`; `no_response` says why a request got no answer.

mod contract;
mod cpu;
mod model;
mod no_response;
mod stopped;

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::available_cores;
use crate::catalogue::Expected;
use crate::client::{self, Exchange, ReadUntil, Request};
use crate::process::ServerProcess;

use contract::{contract_points, fast_answer_point, model_kept_point};
use cpu::measure_cpu;
use model::{measure_slow, ramp};
use stopped::{last_words, panic_message};

pub use contract::ContractPoint;
pub use cpu::{BlockedPair, CPU_ROUTE_SHORTEST, Cpu, CpuFinding, NoCpu, cpu_attempt};
pub use model::{Model, SHORTEST_SLOW, Unknown, answered_at_once};
pub use no_response::NoResponse;
pub use stopped::{Process, Stopped, Unanswered};

/// What to probe, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// A route that answers after a delay without using a core (`/sleep` here).
    pub slow_path: String,
    /// A route that answers at once (`/`).
    pub fast_path: String,
    /// The slow route's delay, when known; otherwise it is measured.
    pub slow: Option<Duration>,
    /// The most slow requests the ramp keeps pending before it calls a server concurrent.
    pub max_pending: usize,
    /// The CPU-bound route (`/cpu` here); a server without it cannot be told parallel.
    pub cpu_path: String,
    /// Whether to measure parallelism at all (it takes the longest, and a check of a limit
    /// does not need it).
    pub measure_cpu: bool,
    /// A route that blocks its thread for the slow delay (`/block` here): two at once show
    /// whether handlers run on several threads, where a busy machine hides what `/cpu` shows.
    pub block_path: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            slow_path: "/sleep".into(),
            fast_path: "/".into(),
            slow: None,
            max_pending: 12,
            cpu_path: "/cpu".into(),
            measure_cpu: true,
            block_path: "/block".into(),
        }
    }
}

/// Everything a check found.
#[derive(Clone, Debug)]
pub struct Report {
    pub addr: SocketAddr,
    pub model: Model,
    pub cpu: Cpu,
    pub contract: Vec<ContractPoint>,
    /// Set when the server stopped serving: its process exited, a thread panicked, or a
    /// `GET` of the fast route got no answer.
    pub stopped: Option<Stopped>,
    /// The model measured again after the contract's bad input, where it was measured (a pool,
    /// at an address alone): the same, or what the bad input left of it.
    pub model_after: Option<Model>,
}

impl Report {
    /// Whether every contract point held and the server is still up.
    pub fn contract_kept(&self) -> bool {
        self.stopped.is_none() && self.contract.iter().all(|point| point.outcome.is_ok())
    }

    /// Whether everything `expected` promises was found but its parallelism (or its absence),
    /// which the busy machine hid: the model is concurrent as promised, and the CPU probe's
    /// verdict is [`Cpu::Busy`].
    pub fn machine_was_busy_for(&self, expected: Expected) -> bool {
        matches!(
            (expected, &self.model, &self.cpu),
            (
                Expected::Parallel | Expected::ConcurrentOnOneThread,
                Model::Concurrent { .. },
                Cpu::Busy(_)
            )
        )
    }

    /// Whether the check found what `expected` promises: one at a time, a pool of exactly
    /// that many workers, concurrent on one thread, or concurrent and parallel (where this
    /// machine has the cores to show it).
    pub fn matches(&self, expected: Expected) -> bool {
        match (expected, &self.model, &self.cpu) {
            (Expected::OneAtATime, Model::OneAtATime { .. }, _) => true,
            (Expected::Pool { workers }, Model::Pool { size, .. }, _) => *size == workers,
            (Expected::ConcurrentOnOneThread, Model::Concurrent { .. }, Cpu::OneThread(_)) => true,
            (Expected::Parallel, Model::Concurrent { .. }, Cpu::Parallel(_)) => true,
            (Expected::Parallel, Model::Concurrent { .. }, _) => available_cores() < 2,
            _ => false,
        }
    }
}

/// Probes the server at `addr`. Its process cannot be watched from here: a `GET` that gets no
/// answer is reported as [`Stopped::NotAnswering`], never as a crash.
pub fn check(addr: SocketAddr, options: &Options) -> Report {
    let mut not_watched = |unanswered: Option<Unanswered>| {
        unanswered.map(|unanswered| Stopped::NotAnswering {
            unanswered,
            process: Process::NotWatched,
        })
    };
    check_with(
        addr,
        options,
        Watch {
            pid: None,
            stopped: &mut not_watched,
        },
    )
}

/// Probes a server process started by the harness, and also watches the process itself: an
/// exit, or a panic in its log, is a crash even if the port still answers; a `GET` that gets
/// no answer while the process runs on without a panic is [`Stopped::NotAnswering`].
pub fn check_process(server: &mut ServerProcess, options: &Options) -> Report {
    let addr = server.addr();
    let pid = Some(server.pid());
    let mut watched = |unanswered: Option<Unanswered>| {
        // A server that stopped answering may still be exiting: give it a moment to finish.
        let status = if unanswered.is_some() {
            server.wait_for_exit(EXITING)
        } else {
            server.exit_status()
        };
        if let Some(status) = status {
            let log = server.stderr_text_after_exit(Duration::from_secs(1));
            let last_words = last_words(&log);
            return Some(Stopped::Exited {
                status,
                last_words,
                unanswered,
            });
        }
        // A worker that panicked on the last bad input may not have written its last words
        // yet, or they may not have been read yet, on a busy machine.
        server.wait_for_log("panicked", LAST_WORDS);
        let log = server.stderr_text();
        if let Some(line) = panic_message(&log) {
            return Some(Stopped::Panicked { line, unanswered });
        }
        unanswered.map(|unanswered| Stopped::NotAnswering {
            unanswered,
            process: Process::StillRunning,
        })
    };
    check_with(
        addr,
        options,
        Watch {
            pid,
            stopped: &mut watched,
        },
    )
}

/// What the check can see of the server's process.
struct Watch<'a> {
    /// The process, where it is watched (the check started it). Then the contract's failures
    /// are said without a guess at their cause ("did it crash?"): the check says itself
    /// whether it crashed; and the OS's count of its CPU time is evidence of parallelism.
    pid: Option<u32>,
    /// Called once, at the end or when a `GET` of the fast route got no answer (which ends
    /// the check): how the server stopped serving, if it did.
    stopped: &'a mut dyn FnMut(Option<Unanswered>) -> Option<Stopped>,
}

/// The probes, with `watch` telling how a server that stopped serving stopped.
fn check_with(addr: SocketAddr, options: &Options, watch: Watch) -> Report {
    let mut report = Report {
        addr,
        model: Model::Unknown(Unknown::FastNotAnswered {
            path: options.fast_path.clone(),
        }),
        cpu: Cpu::CannotTell(NoCpu::NoModel),
        contract: Vec::new(),
        stopped: None,
        model_after: None,
    };

    // 1. A fast request alone: without an answer, nothing else can be measured.
    let watched = watch.pid.is_some();
    let fast = request(addr, &options.fast_path, FIRST_ANSWER_TIMEOUT);
    if let Err(failure) = fast_answer_point(&mut report, &options.fast_path, &fast, watched) {
        report.stopped = (watch.stopped)(Some(Unanswered {
            after: None,
            path: options.fast_path.clone(),
            failure,
        }));
        return report;
    }

    // 2. The slow route's delay, then 3. the ramp.
    let slow = match options.slow {
        Some(slow) => Ok(slow),
        None => measure_slow(addr, &options.slow_path),
    };
    report.model = match &slow {
        Ok(slow) => ramp(addr, options, *slow),
        Err(reason) => Model::Unknown(reason.clone()),
    };

    // 4. Parallel or not; one at a time is never parallel, and an unknown model stays unknown.
    report.cpu = match (&report.model, &slow) {
        (Model::Pool { .. } | Model::Concurrent { .. }, _) if !options.measure_cpu => {
            Cpu::CannotTell(NoCpu::NotAsked)
        }
        (Model::Pool { .. } | Model::Concurrent { .. }, Ok(slow)) => {
            measure_cpu(addr, options, *slow, fast.latency(), watch.pid)
        }
        (Model::OneAtATime { .. }, _) => Cpu::CannotTell(NoCpu::OneAtATime),
        _ => Cpu::CannotTell(NoCpu::NoModel),
    };

    // 5. The contract, bad input last: a crash must not hide the model.
    let unanswered = contract_points(&mut report, options, watched);
    // 6. A pool again, where a worker's panic cannot be seen in a log.
    if let (None, Model::Pool { .. }, Ok(slow)) = (&unanswered, &report.model, &slow) {
        if !watched {
            let after = ramp(addr, options, *slow);
            report
                .contract
                .push(model_kept_point(&report.model, &after));
            report.model_after = Some(after);
        }
    }
    report.stopped = (watch.stopped)(unanswered);
    report
}

/// How long the first `GET` may take: a server that accepts and never answers (find-the-bug
/// 9 and 11) is reported after this, and any server answers a first page on loopback in far
/// less, even a debug build on a busy laptop.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a server that stopped answering is given to finish exiting, if it is exiting:
/// the close that the client saw is among the last things a process does.
const EXITING: Duration = Duration::from_secs(1);
/// How long the check waits for a panic's line in the log of a server that still answers: a
/// thread that panicked on the last bad input writes it a moment later, and beside two busy
/// loops that moment was once longer than the check's last `GET`.
const LAST_WORDS: Duration = Duration::from_millis(100);
/// How long any one probe request may take beyond the slow route's delay.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest slow route the ramp accepts: longer would make the check take minutes.
const LONGEST_SLOW: Duration = Duration::from_secs(30);

/// A probe request: sent whole, read to its `Content-Length` (a keep-alive server in any
/// language does not close), within `timeout` for connecting and each read.
fn probe(bytes: &[u8], timeout: Duration) -> Request<'_> {
    Request::new(bytes)
        .read_until(ReadUntil::ContentLength)
        .within(timeout)
}

/// Sends `GET path` and reads the answer.
fn request(addr: SocketAddr, path: &str, timeout: Duration) -> Exchange {
    send_within(addr, &client::get_request(path), timeout)
}

/// Sends raw bytes now and reads the answer.
fn send_within(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Exchange {
    client::exchange(addr, &probe(bytes, timeout), Instant::now())
}

static MEASURING_ALONE: Mutex<()> = Mutex::new(());

/// Runs `measure` with no other measurement of this process beside it (tests run many at a
/// time, and a check's ramps and CPU probe are timed): the check tests and the workshop's
/// grading tests each take this for their whole run.
pub fn alone<T>(measure: impl FnOnce() -> T) -> T {
    let _ours = MEASURING_ALONE
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    measure()
}
