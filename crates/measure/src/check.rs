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

use std::io;
use std::net::SocketAddr;
use std::process::ExitStatus;
use std::sync::{Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::available_cores;
use crate::catalogue::Expected;
use crate::client::{self, Exchange, ReadUntil, Request};
use crate::process::ServerProcess;
use crate::system::BatchWatch;
use crate::verdicts::{self, CpuBatch, Parallelism, Proof};

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

/// How the server treats a fast request while slow ones are pending, with what showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// A fast request waited `waited` behind one slow request, which takes `slow` (stages 1
    /// and 3).
    OneAtATime { waited: Duration, slow: Duration },
    /// `size` slow requests are served at once: with one fewer pending, a fast request was
    /// answered in `answered_at_once`; with `size`, it waited `waited`, until a slow one
    /// finished (stage 2's pool, or stages 4 and 5 with `--max-connections`).
    Pool {
        size: usize,
        answered_at_once: Duration,
        waited: Duration,
    },
    /// With `pending` slow requests pending, fast ones were still answered at once, the
    /// slowest in `slowest` (stages 4 and 5; or a pool larger than `pending`, which looks the
    /// same from outside).
    Concurrent { pending: usize, slowest: Duration },
    /// Nothing could be concluded, and why.
    Unknown(Unknown),
}

impl Model {
    /// How many requests the server was found to serve at once, if a limit was found: 1 for
    /// one at a time, the pool's size for a pool.
    pub fn limit(&self) -> Option<usize> {
        match self {
            Model::OneAtATime { .. } => Some(1),
            Model::Pool { size, .. } => Some(*size),
            Model::Concurrent { .. } | Model::Unknown(_) => None,
        }
    }
}

/// Why a model could not be measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// The fast route alone was not answered: nothing else can be measured.
    FastNotAnswered { path: String },
    /// The slow route alone failed.
    SlowFailed { path: String, failure: Failure },
    /// The slow route answered a status other than 200: it is not a slow route.
    SlowNotFound { path: String, status: u16 },
    /// The slow route answered too fast to tell waiting from a busy machine's noise.
    SlowTooShort {
        path: String,
        took: Duration,
        shortest: Duration,
    },
    /// A slow request of the ramp, with `pending` slow requests sent in all, was closed or
    /// reset without an answer (alone, the route had answered).
    RampSlowFailed {
        path: String,
        pending: usize,
        failure: Failure,
    },
    /// The `count`-th slow request of the ramp could not be sent.
    SlowNotSent { count: usize, failure: Failure },
    /// With `pending` slow requests pending, the fast route failed.
    FastFailed {
        path: String,
        pending: usize,
        failure: Failure,
    },
    /// A slow request of the ramp was answered in `took`, far less than `slow`: the route
    /// does not wait as long as announced.
    SlowAnsweredEarly {
        path: String,
        took: Duration,
        slow: Duration,
    },
    /// The slow requests kept finishing before the ramp reached `max_pending` of them.
    RampTooShort {
        path: String,
        max_pending: usize,
        slow: Duration,
    },
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Nothing listens there.
    Refused,
    /// The server closed the connection without answering.
    Closed,
    /// The server accepted but did not answer in time.
    TimedOut,
    /// The server reset the connection without answering.
    Reset,
    /// Anything else, such as a reply that is not HTTP, as the client saw it.
    Other(String),
}

impl Failure {
    pub fn of(err: &io::Error) -> Failure {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => Failure::Refused,
            io::ErrorKind::UnexpectedEof => Failure::Closed,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::TimedOut,
            io::ErrorKind::ConnectionReset => Failure::Reset,
            _ => Failure::Other(err.to_string()),
        }
    }
}

/// What the `/cpu` probe found: shown, shown not to hold, or cannot tell (why, in [`NoCpu`],
/// or [`Cpu::Busy`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Cpu {
    /// Several cores at once: by the server's CPU time, by a batch's speed-up, or by two
    /// blocking requests held at once on two threads ([`CpuFinding::proof`]).
    Parallel(CpuFinding),
    /// Taking turns on one thread: batches without a speed-up while the machine had cores to
    /// spare.
    OneThread(CpuFinding),
    /// Cannot tell, because the machine was busy: no batch had a speed-up, and the calibration
    /// beside each found no cores to spare to show one. The best attempt's numbers.
    Busy(CpuFinding),
    /// Not measured, and why.
    CannotTell(NoCpu),
}

/// The evidence behind a CPU verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuFinding {
    /// The batch that decided, or the best one measured.
    pub batch: CpuBatch,
    /// How many batches were sent.
    pub tries: usize,
    /// Two blocking requests at once, sent when the batches could not tell: `None` if not sent.
    pub blocked: Option<BlockedPair>,
}

impl CpuFinding {
    /// What proved parallelism, for a [`Cpu::Parallel`] finding.
    pub fn proof(&self) -> Option<Proof> {
        match self.batch.parallelism() {
            Parallelism::Parallel(proof) => Some(proof),
            _ => self
                .blocked
                .as_ref()
                .is_some_and(BlockedPair::at_once)
                .then_some(Proof::BlockedAtOnce),
        }
    }
}

/// Two requests to a route that blocks its thread for the slow delay (`/block` here), sent at
/// the same moment: each one's latency and the thread that answered it (`X-Served-By`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedPair {
    pub path: String,
    pub slow: Duration,
    pub took: [Duration; 2],
    pub threads: [Option<String>; 2],
}

impl BlockedPair {
    /// Both blocked for the delay, at the same time, on two different threads: the handlers
    /// run on several threads at once. One thread would have answered the second only after
    /// twice the delay.
    pub fn at_once(&self) -> bool {
        let both_blocked = self.took.iter().all(|&took| {
            took >= verdicts::waited_floor(self.slow) && took < verdicts::blocked_at_once(self.slow)
        });
        let threads_differ = match &self.threads {
            [Some(first), Some(second)] => first != second,
            _ => false,
        };
        both_blocked && threads_differ
    }
}

/// Why parallelism was not measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoCpu {
    /// The options said not to (a check of a limit does not need it).
    NotAsked,
    /// One at a time is never parallel.
    OneAtATime,
    /// The model is unknown.
    NoModel,
    /// The CPU route answered another status than 200: without one, waiting requests use no
    /// core, and one thread and many look the same from outside.
    NoCpuRoute { path: String, status: u16 },
    /// The CPU route answered 200 in less than [`CPU_ROUTE_SHORTEST`], as fast as the fast
    /// route (which took `fast`): it computes nothing (a server that answers every path
    /// with its page), so its batches cannot show cores at work.
    NoWork {
        path: String,
        took: Duration,
        fast: Duration,
    },
    /// The CPU route failed.
    Failed { path: String, failure: Failure },
    /// Not every request of a batch was answered.
    BatchUnanswered { path: String, size: usize },
}

/// One point of the contract, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractPoint {
    pub what: String,
    /// `Ok` with what was seen, or `Err` with what went wrong.
    pub outcome: Result<String, String>,
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

/// How a server stopped serving, as far as the check can see. Only a process the check
/// started ([`check_process`]) can be seen to exit or panic; at an address alone
/// ([`check`]), all it can see is that a `GET` got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The process exited: a crash (or an exit on purpose, which the contract forbids too).
    Exited {
        status: ExitStatus,
        /// Its last lines on stderr, oldest first (at most three).
        last_words: Vec<String>,
        /// The `GET` that found it gone, when that is how it was found (not at the end).
        unanswered: Option<Unanswered>,
    },
    /// A thread panicked (a `panicked` line on its stderr), while the process runs on.
    Panicked {
        line: String,
        /// The `GET` that failed, when one did.
        unanswered: Option<Unanswered>,
    },
    /// A `GET` got no answer, and the process, where the check can watch it, neither exited
    /// nor panicked: its handlers do not run to their end, it has not crashed.
    NotAnswering {
        unanswered: Unanswered,
        process: Process,
    },
}

/// What the check knows of the process of a server that does not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// The check started it and watched it: still running, no panic in its log.
    StillRunning,
    /// The check was given an address only: whether the process crashed cannot be seen.
    NotWatched,
}

/// A `GET` of the fast route that got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unanswered {
    /// The contract point probed just before, which it followed; `None` when it was the
    /// check's first request (so the server never answered at all).
    pub after: Option<String>,
    pub path: String,
    pub failure: Failure,
}

impl Stopped {
    /// Whether it is a crash: the process exited or a thread panicked.
    pub fn is_crash(&self) -> bool {
        matches!(self, Stopped::Exited { .. } | Stopped::Panicked { .. })
    }

    /// The `GET` that got no answer, if one did.
    pub fn unanswered(&self) -> Option<&Unanswered> {
        match self {
            Stopped::Exited { unanswered, .. } | Stopped::Panicked { unanswered, .. } => {
                unanswered.as_ref()
            }
            Stopped::NotAnswering { unanswered, .. } => Some(unanswered),
        }
    }
}

impl std::fmt::Display for Stopped {
    /// What happened, without a verdict ("crashed", "stopped answering"): the tools choose
    /// those words by the kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Exited {
                status,
                last_words,
                unanswered,
            } => {
                write!(f, "the process exited ({status})")?;
                match unanswered {
                    Some(Unanswered {
                        after: Some(after), ..
                    }) => write!(f, " after \"{after}\"")?,
                    Some(Unanswered {
                        after: None, path, ..
                    }) => write!(f, " without answering GET {path}")?,
                    None => {}
                }
                if !last_words.is_empty() {
                    write!(f, "; its last words: {}", last_words.join(" / "))?;
                }
                Ok(())
            }
            Stopped::Panicked { line, unanswered } => {
                write!(f, "a thread panicked: {line}")?;
                match unanswered {
                    Some(unanswered) => write!(f, "; {unanswered}"),
                    None => Ok(()),
                }
            }
            // Where the process is watched, it is known not to have crashed: the failure's
            // guess ("did it crash?") would contradict that. Where it is not, the guess is
            // the best the check can offer.
            Stopped::NotAnswering {
                unanswered,
                process: Process::StillRunning,
            } => write!(f, "{unanswered}"),
            Stopped::NotAnswering {
                unanswered,
                process: Process::NotWatched,
            } => unanswered.describe(f, &unanswered.failure.to_string()),
        }
    }
}

impl Unanswered {
    fn describe(&self, f: &mut std::fmt::Formatter<'_>, failure: &str) -> std::fmt::Result {
        match &self.after {
            Some(after) => write!(f, "after \"{after}\", GET {} failed: {failure}", self.path),
            None => write!(f, "GET {} got no answer: {failure}", self.path),
        }
    }
}

impl std::fmt::Display for Unanswered {
    /// "after "garbage gets 400", GET / failed: …", or "GET / got no answer: …" for the first
    /// request; the failure without a guess at the cause (see [`Failure::words`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.describe(f, &self.failure.words())
    }
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

/// A process's last words: its panic and the panic's message, where it panicked (a backtrace,
/// with `RUST_BACKTRACE=1`, comes after them and says less); else its last three lines.
fn last_words(log: &str) -> Vec<String> {
    if let Some(panic) = panic_message(log) {
        return vec![panic];
    }
    let mut last: Vec<String> = log.lines().rev().take(3).map(String::from).collect();
    last.reverse();
    last
}

/// The first panic in a log, with its message: Rust prints `thread 'x' panicked at
/// src/main.rs:5:9:` and the message on the next line (before 1.73, on the same line).
fn panic_message(log: &str) -> Option<String> {
    let mut lines = log.lines();
    let line = lines.find(|line| line.contains("panicked"))?;
    match lines.next() {
        Some(message) if line.trim_end().ends_with(':') && !message.starts_with("note:") => {
            Some(format!("{} {}", line.trim_end(), message.trim()))
        }
        _ => Some(line.to_string()),
    }
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

/// Whether the bad input left the model as it was: a pool that lost a worker to it is a
/// server that a client's bytes can break, even if it still answers.
fn model_kept_point(before: &Model, after: &Model) -> ContractPoint {
    let what = "the bad input left the server as it was".to_string();
    let outcome = match (before, after) {
        (Model::Pool { size: was, .. }, Model::Pool { size: now, .. }) if now == was => {
            Ok(format!("still {now} at once"))
        }
        (Model::Pool { size: was, .. }, Model::Pool { size: now, .. }) if now < was => {
            Err(format!(
                "a pool of {was} before it, {now} after: {} died on the bad input (its log may say \
             which request killed {})",
                if was - now == 1 {
                    "a worker"
                } else {
                    "workers"
                },
                if was - now == 1 { "it" } else { "them" }
            ))
        }
        (Model::Pool { size: was, .. }, Model::OneAtATime { .. }) => Err(format!(
            "a pool of {was} before it, one at a time after: workers died on the bad input"
        )),
        (Model::Pool { size: was, .. }, other) => Err(format!(
            "a pool of {was} before it; after it, {}",
            match other {
                Model::Concurrent { pending, .. } => format!("more than {pending} at once"),
                _ => "the pool could not be measured".to_string(),
            }
        )),
        _ => Ok("not measured".to_string()),
    };
    ContractPoint { what, outcome }
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
/// The shortest: below it, waiting cannot be told from a busy machine's noise.
pub const SHORTEST_SLOW: Duration = Duration::from_millis(200);
/// How many `/cpu` requests are sent at once.
const CPU_BATCH: usize = 4;
/// At most this many `/cpu` batches are sent; two must agree.
const CPU_ATTEMPTS: usize = 5;
const PARALLEL_ATTEMPTS_NEEDED: usize = 2;
/// At most this many pairs of blocking requests are sent when the batches could not tell.
const BLOCKED_PAIRS: usize = 2;
/// After this many batches in a row that could not tell, the probe stops sending batches.
const UNCLEAR_IN_A_ROW: usize = 3;
/// No new batch is sent after this long: a slow debug build on a busy machine still ends.
const CPU_PROBE_BUDGET: Duration = Duration::from_secs(30);
/// A CPU-bound route answered faster than this computes nothing worth measuring (the
/// project's `/cpu` takes about 50 ms on a laptop, several times that in a debug build).
pub const CPU_ROUTE_SHORTEST: Duration = Duration::from_millis(5);

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

/// The words of a failure in a contract point: with a guess at its cause ("did it crash?")
/// only where the process is not `watched` (where it is, the check says what became of it).
fn failure_text(failure: &Failure, watched: bool) -> String {
    if watched {
        failure.words()
    } else {
        failure.to_string()
    }
}

/// Checks the first answer to the fast path; `Err` with why there was none at all.
fn fast_answer_point(
    report: &mut Report,
    fast_path: &str,
    fast: &Exchange,
    watched: bool,
) -> Result<(), Failure> {
    let what = format!("GET {fast_path} gets 200 with Content-Type, Content-Length and a body");
    let response = match &fast.response {
        Ok(response) => response,
        Err(err) => {
            let failure = Failure::of(err);
            report.contract.push(ContractPoint {
                what,
                outcome: Err(failure_text(&failure, watched)),
            });
            return Err(failure);
        }
    };
    let length = response
        .header("Content-Length")
        .and_then(|value| value.trim().parse::<usize>().ok());
    // Every problem at once, so that one fix does not just reveal the next.
    let mut problems = Vec::new();
    if response.status != 200 {
        problems.push(format!("got {}", response.status));
    }
    if response.header("Content-Type").is_none() {
        problems.push("no Content-Type header".to_string());
    }
    match (response.header("Content-Length"), length) {
        (None, _) => problems.push("no Content-Length header".to_string()),
        (Some(_), Some(length)) if length == response.body.len() => {}
        (Some(said), _) => problems.push(format!(
            "Content-Length says {said:?}, the body has {} bytes",
            response.body.len()
        )),
    }
    if response.body.is_empty() {
        problems.push("an empty body".to_string());
    }
    if response.reset_after {
        problems.push(answered_then_reset(response.status, response.status == 200));
    }
    let outcome = if problems.is_empty() {
        Ok(format!(
            "200, {} bytes in {} ms",
            response.body.len(),
            fast.latency().as_millis()
        ))
    } else {
        Err(problems.join("; "))
    };
    report.contract.push(ContractPoint { what, outcome });
    Ok(())
}

impl Failure {
    /// Why a request got no response, in words a student can act on, without a guess at the
    /// cause: for where the check watches the process and says itself whether it crashed.
    pub fn words(&self) -> String {
        match self {
            Failure::Refused => "connection refused: nothing listens there".into(),
            Failure::Closed => "the server closed the connection without answering".into(),
            Failure::TimedOut => "no answer in time: the server accepted but never answered".into(),
            Failure::Reset => "the server reset the connection without answering".into(),
            // A reply that is not HTTP quotes all it got: the start says enough.
            Failure::Other(text) => match text.char_indices().nth(160) {
                Some((cut, _)) => format!("{} …", &text[..cut]),
                None => text.clone(),
            },
        }
    }

    /// A guess at the cause, for where the check cannot see the process.
    fn guess(&self) -> Option<&'static str> {
        match self {
            Failure::Refused => Some("did the server crash or not start?"),
            Failure::Reset => Some("did it crash?"),
            Failure::Closed | Failure::TimedOut | Failure::Other(_) => None,
        }
    }
}

impl std::fmt::Display for Failure {
    /// [`Failure::words`], with a guess at the cause where there is one: "(did it crash?)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words())?;
        match self.guess() {
            Some(guess) => write!(f, " ({guess})"),
            None => Ok(()),
        }
    }
}

/// Measures the slow route alone: the delay the ramp's judgements are made against.
fn measure_slow(addr: SocketAddr, slow_path: &str) -> Result<Duration, Unknown> {
    let path = slow_path.to_string();
    let exchange = request(addr, slow_path, LONGEST_SLOW);
    let status = match &exchange.response {
        Ok(response) => response.status,
        Err(err) => {
            let failure = Failure::of(err);
            return Err(Unknown::SlowFailed { path, failure });
        }
    };
    let took = exchange.latency();
    if status != 200 {
        return Err(Unknown::SlowNotFound { path, status });
    }
    if took < SHORTEST_SLOW {
        let shortest = SHORTEST_SLOW;
        return Err(Unknown::SlowTooShort {
            path,
            took,
            shortest,
        });
    }
    Ok(took)
}

/// A slow request in flight: sent from this thread, its answer read on another.
struct Pending {
    reader: JoinHandle<Exchange>,
}

impl Pending {
    fn send(addr: SocketAddr, slow_path: &str, timeout: Duration) -> Result<Pending, Failure> {
        let bytes = client::get_request(slow_path);
        let in_flight = client::start(addr, &probe(&bytes, timeout), Instant::now());
        match in_flight {
            Ok(in_flight) => Ok(Pending {
                reader: thread::spawn(move || in_flight.finish()),
            }),
            Err(failed) => Err(failed
                .response
                .err()
                .map_or(Failure::Closed, |err| Failure::of(&err))),
        }
    }
}

/// When the first of these slow requests got its answer.
fn first_answer(pending: Vec<Pending>) -> Option<Instant> {
    pending
        .into_iter()
        .filter_map(|pending| pending.reader.join().ok())
        .filter_map(|exchange| Some(exchange.scheduled + exchange.timing.first_byte?))
        .min()
}

/// The ramp: raise the number of pending slow requests one at a time, sending a fast request
/// after each, until a fast one waits (the server is full) or `max_pending` is reached.
fn ramp(addr: SocketAddr, options: &Options, slow: Duration) -> Model {
    let timeout = slow * 2 + PROBE_TIMEOUT;
    // After each slow request, a moment for the server to take it in hand.
    let settle = Duration::from_millis(15).min(slow / 20);
    let mut fastest_at_each: Vec<Duration> = Vec::new();
    let mut start_with = 1;
    // A round ends early when a slow request finishes while the ramp is still climbing (the
    // delay is short for this server, or the machine is busy); a new round then starts with
    // as many slow requests at once as the last one reached. At most three rounds.
    for _round in 0..3 {
        let mut pending = Vec::new();
        for count in 1..=options.max_pending {
            match Pending::send(addr, &options.slow_path, timeout) {
                Ok(slow_request) => pending.push(slow_request),
                Err(failure) => return Model::Unknown(Unknown::SlowNotSent { count, failure }),
            }
            if count < start_with {
                continue; // Catching up to where the last round ended.
            }
            thread::sleep(settle);
            if pending.iter().any(|slow| slow.reader.is_finished()) {
                // Fewer than `count` are pending now. Too early to be the slow route at all?
                let finished: Vec<_> = pending
                    .into_iter()
                    .filter_map(|p| p.reader.join().ok())
                    .collect();
                // A slow request that got no answer at all (closed, reset) did not answer
                // early: it failed, and says nothing about the route's delay.
                if let Some(err) = finished.iter().find_map(|e| e.response.as_ref().err()) {
                    let path = options.slow_path.clone();
                    let failure = Failure::of(err);
                    let pending = count;
                    return Model::Unknown(Unknown::RampSlowFailed {
                        path,
                        pending,
                        failure,
                    });
                }
                let early = finished.iter().map(Exchange::latency).min();
                if let Some(took) = early.filter(|&took| verdicts::answered_too_early(took, slow)) {
                    let path = options.slow_path.clone();
                    return Model::Unknown(Unknown::SlowAnsweredEarly { path, took, slow });
                }
                start_with = count;
                break; // Start a new round, with `count` at once.
            }
            let fast = request(addr, &options.fast_path, timeout);
            if let Err(err) = &fast.response {
                return Model::Unknown(Unknown::FastFailed {
                    path: options.fast_path.clone(),
                    pending: count,
                    failure: Failure::of(err),
                });
            }
            let latency = fast.latency();
            if answered_at_once(latency, slow) {
                fastest_at_each.push(latency);
                if count == options.max_pending {
                    return concurrent(count, &fastest_at_each);
                }
                continue;
            }
            // Slow to answer: did it wait for a slow request to finish, or was the machine
            // just busy? It waited if its answer came with or after the first slow one's
            // (two client threads woken at the same moment can run in either order).
            let answered = fast.scheduled + fast.timing.first_byte.unwrap_or(fast.timing.done);
            let freed = first_answer(pending);
            if freed.is_some_and(|freed| answered + verdicts::same_moment(slow) >= freed) {
                return full_at(count, latency, slow, &fastest_at_each);
            }
            // The machine was busy: go on from here in a new round.
            start_with = count + 1;
            break;
        }
        if start_with > options.max_pending {
            return concurrent(options.max_pending, &fastest_at_each);
        }
    }
    Model::Unknown(Unknown::RampTooShort {
        path: options.slow_path.clone(),
        max_pending: options.max_pending,
        slow,
    })
}

/// The ramp's judgement of one fast request beside pending slow ones that take `slow`: it was
/// answered at once, or it is checked against when the slow ones were answered. The same
/// threshold the demo judges "did not wait" by.
pub fn answered_at_once(latency: Duration, slow: Duration) -> bool {
    verdicts::waiting(latency, slow) == verdicts::Waiting::DidNotWait
}

/// The CPU probe's judgement of one batch: what it measured, and so whether it ran in
/// parallel. The same function the demo's cpu scenario is judged by.
pub fn cpu_attempt(alone: Duration, batch: &[Duration], together: Duration) -> Option<CpuBatch> {
    CpuBatch::measure(alone, batch, together, available_cores())
}

fn concurrent(pending: usize, fastest_at_each: &[Duration]) -> Model {
    let slowest = fastest_at_each.iter().max().copied().unwrap_or_default();
    Model::Concurrent { pending, slowest }
}

fn full_at(count: usize, waited: Duration, slow: Duration, fastest_at_each: &[Duration]) -> Model {
    if count == 1 {
        return Model::OneAtATime { waited, slow };
    }
    Model::Pool {
        size: count,
        answered_at_once: fastest_at_each.last().copied().unwrap_or_default(),
        waited,
    }
}

/// `/cpu` alone, then [`CPU_BATCH`] at once, up to [`CPU_ATTEMPTS`] times (fewer once
/// [`UNCLEAR_IN_A_ROW`] could not tell). Whether the machine had cores to spare is measured
/// by its idle time during the batch (where the OS counts it), or else by a calibration of the
/// check's own just before and right after the batch, the lower of the two
/// ([`crate::system::needs_calibration`]); where the server is the check's child (`pid`), the
/// OS's count of its CPU time during the batch is read too ([`BatchWatch`]). Each batch is
/// judged by [`cpu_attempt`], the same [`CpuBatch::parallelism`] the demo judges by:
///
/// - the server's CPU time above one core proves parallelism at once;
/// - a speed-up proves it when [`PARALLEL_ATTEMPTS_NEEDED`] batches agree (a stall while
///   "alone" is measured can fake one batch's speed-up, not two);
/// - no speed-up while cores were free shows one thread, again when that many agree;
/// - otherwise the batch cannot tell, and the probe tries again.
///
/// When no batch could tell (a busy machine), two requests to the blocking route at once
/// decide where they can ([`BlockedPair`]): blocking uses no core, so load cannot fake it.
/// Otherwise the verdict is [`Cpu::Busy`], never one thread.
fn measure_cpu(
    addr: SocketAddr,
    options: &Options,
    slow: Duration,
    fast: Duration,
    pid: Option<u32>,
) -> Cpu {
    // Two checks in one process (tests run in parallel) must not share the cores they measure.
    let _cores_are_ours = CPU_PROBE.lock().unwrap_or_else(PoisonError::into_inner);
    let path = options.cpu_path.clone();
    let timeout = LONGEST_SLOW;
    let cores = available_cores();
    let (mut parallel, mut one_thread) = (Vec::new(), Vec::new());
    let mut best_unclear: Option<CpuBatch> = None;
    let mut fastest_alone = Duration::MAX;
    let mut unclear_in_a_row = 0;
    let mut tries = 0;
    let started = Instant::now();
    while tries < CPU_ATTEMPTS && started.elapsed() < CPU_PROBE_BUDGET {
        tries += 1;
        // The fastest of two alone is the cost of one request on an idle server.
        let mut alone = Duration::MAX;
        for _ in 0..2 {
            let exchange = request(addr, &path, timeout);
            match exchange.response.as_ref().map(|response| response.status) {
                Ok(200) => alone = alone.min(exchange.latency()),
                Ok(status) => return Cpu::CannotTell(NoCpu::NoCpuRoute { path, status }),
                Err(err) => {
                    let failure = Failure::of(err);
                    return Cpu::CannotTell(NoCpu::Failed { path, failure });
                }
            }
        }
        // Load only ever makes a request slower: a route answered this fast did no work.
        fastest_alone = fastest_alone.min(alone);
        if fastest_alone < CPU_ROUTE_SHORTEST {
            let took = fastest_alone;
            return Cpu::CannotTell(NoCpu::NoWork { path, took, fast });
        }
        // Where it is needed, the calibration brackets the batch: beside busy loops one of
        // them alone sometimes reads as an idle machine (2.04× once, where 1.1 to 1.5 is
        // usual), both rarely.
        let watch = BatchWatch::calibrated(pid, cores.min(CPU_BATCH)).start();
        let sent = Instant::now();
        let batch: Vec<_> = (0..CPU_BATCH)
            .map(|_| {
                let path = path.clone();
                thread::spawn(move || request(addr, &path, timeout))
            })
            .collect();
        let latencies: Vec<Duration> = batch
            .into_iter()
            .filter_map(|handle| handle.join().ok())
            .filter(|exchange| exchange.status() == 200)
            .map(|exchange| exchange.latency())
            .collect();
        let together = sent.elapsed();
        let beside = watch.finish();
        let measured = match cpu_attempt(alone, &latencies, together) {
            Some(measured) if latencies.len() == CPU_BATCH => measured.beside(beside),
            _ => {
                let size = CPU_BATCH;
                return Cpu::CannotTell(NoCpu::BatchUnanswered { path, size });
            }
        };
        let finding = |batch| CpuFinding {
            batch,
            tries,
            blocked: None,
        };
        match measured.parallelism() {
            Parallelism::Parallel(Proof::CpuTime) => return Cpu::Parallel(finding(measured)),
            Parallelism::Parallel(_) => {
                parallel.push(measured);
                unclear_in_a_row = 0;
            }
            Parallelism::OneThread => {
                one_thread.push(measured);
                unclear_in_a_row = 0;
            }
            Parallelism::CannotTell => {
                unclear_in_a_row += 1;
                let better = |best: CpuBatch| {
                    (measured.is_plausible(), measured.speedup)
                        > (best.is_plausible(), best.speedup)
                };
                if best_unclear.is_none_or(better) {
                    best_unclear = Some(measured);
                }
            }
        }
        // A machine busy for that long is busy for a while (a build): the blocking requests
        // below can still tell, and more batches would only make the check longer.
        if unclear_in_a_row == UNCLEAR_IN_A_ROW {
            break;
        }
        if parallel.len() == PARALLEL_ATTEMPTS_NEEDED {
            return Cpu::Parallel(finding(measured));
        }
        // One thread shown as often as parallelism must be: batches without a speed-up while
        // cores were idle and the server ran its one core flat out, which a server on several
        // threads does not do.
        if one_thread.len() == PARALLEL_ATTEMPTS_NEEDED {
            break;
        }
    }
    let fastest = |batches: &[CpuBatch]| {
        batches
            .iter()
            .copied()
            .max_by(|a, b| a.speedup.total_cmp(&b.speedup))
    };
    if one_thread.len() >= PARALLEL_ATTEMPTS_NEEDED {
        if let Some(batch) = fastest(&one_thread) {
            return Cpu::OneThread(CpuFinding {
                batch,
                tries,
                blocked: None,
            });
        }
    }
    // No batch could tell: the machine was busy. Blocking requests can still tell.
    let Some(batch) = best_unclear.or(fastest(&one_thread)).or(fastest(&parallel)) else {
        let size = CPU_BATCH;
        return Cpu::CannotTell(NoCpu::BatchUnanswered { path, size });
    };
    // Only one way: one pair taking turns is no proof of one thread (a multi-threaded tokio
    // runtime can leave the second task queued behind the worker that blocks, as measured on
    // stage-5-tokio: both answered by one worker, 1.0 s and 2.0 s), so a second pair is
    // tried, and without a pair at once the verdict stays "cannot tell".
    let mut blocked = None;
    for _ in 0..BLOCKED_PAIRS {
        blocked = blocked_pair(addr, &options.block_path, slow);
        if blocked.as_ref().is_some_and(BlockedPair::at_once) {
            break;
        }
    }
    let finding = CpuFinding {
        batch,
        tries,
        blocked: blocked.clone(),
    };
    match blocked {
        Some(pair) if pair.at_once() => Cpu::Parallel(finding),
        _ => Cpu::Busy(finding),
    }
}

/// Two requests to the blocking route at the same moment; `None` if it does not answer 200
/// to both (a server without such a route).
fn blocked_pair(addr: SocketAddr, block_path: &str, slow: Duration) -> Option<BlockedPair> {
    // No longer than a pair at once can take: a later answer shows nothing more.
    let timeout = verdicts::blocked_at_once(slow);
    let sent = Instant::now();
    let pair: Vec<_> = (0..2)
        .map(|_| {
            let path = block_path.to_string();
            thread::spawn(move || {
                client::exchange(addr, &probe(&client::get_request(&path), timeout), sent)
            })
        })
        .collect();
    let exchanges: Vec<Exchange> = pair.into_iter().filter_map(|h| h.join().ok()).collect();
    let [first, second] = &exchanges[..] else {
        return None;
    };
    // A route that answers another status (a server without one) shows nothing; one still
    // blocked when the time ran out was not held at the same moment as the other.
    let answered_or_late = |exchange: &Exchange| match &exchange.response {
        Ok(response) => response.status == 200,
        Err(err) => Failure::of(err) == Failure::TimedOut,
    };
    let answered = |exchange: &Exchange| exchange.status() == 200;
    let usable = answered_or_late(first) && answered_or_late(second);
    (usable && (answered(first) || answered(second))).then(|| BlockedPair {
        path: block_path.to_string(),
        slow,
        took: [first.latency(), second.latency()],
        threads: [
            first.served_by().map(String::from),
            second.served_by().map(String::from),
        ],
    })
}

static CPU_PROBE: Mutex<()> = Mutex::new(());

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

/// The contract's other points, bad input last; each piece of bad input is followed by a
/// `GET` that must still be answered. Returns the first such `GET` that was not (the points
/// after it are not probed).
fn contract_points(report: &mut Report, options: &Options, watched: bool) -> Option<Unanswered> {
    let addr = report.addr;
    let status_point = |what: &str, request: &[u8], expected: &[u16]| {
        // Read to the connection's end too: an answer and then a reset is a point of its own.
        let probe = probe(request, PROBE_TIMEOUT).read_until(ReadUntil::ContentLengthThenEnd);
        let exchange = client::exchange(addr, &probe, Instant::now());
        let outcome = match &exchange.response {
            Ok(response) if response.reset_after => Err(answered_then_reset(
                response.status,
                expected.contains(&response.status),
            )),
            Ok(response) if expected.contains(&response.status) => {
                Ok(format!("{}", response.status))
            }
            Ok(response) => Err(format!(
                "got {}, expected {}",
                response.status,
                list(expected)
            )),
            Err(err) => Err(failure_text(&Failure::of(err), watched)),
        };
        ContractPoint {
            what: what.to_string(),
            outcome,
        }
    };
    let mut huge_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    huge_head.resize(9 * 1024, b'p');
    huge_head.extend_from_slice(b"\r\n\r\n");
    let unknown_path = client::get_request("/no-such-page-here");
    let probes: [(&str, &[u8], &[u16]); 5] = [
        ("an unknown path gets 404", &unknown_path, &[404]),
        (
            "POST gets 405 (only GET and HEAD are served)",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            &[405],
        ),
        ("garbage gets 400", b"hello there\r\n\r\n", &[400]),
        ("a 9 KiB head gets 431", &huge_head, &[431, 400, 413]),
        ("a connection closed without a request", b"", &[]),
    ];
    for (what, input, expected) in probes {
        let point = if input.is_empty() {
            let outcome = client::connect_and_close_within(addr, PROBE_TIMEOUT)
                .map(|()| "closed".to_string())
                .map_err(|err| failure_text(&Failure::of(&err), watched));
            ContractPoint {
                what: what.to_string(),
                outcome,
            }
        } else {
            status_point(what, input, expected)
        };
        report.contract.push(point);
        // And the server must still answer, whatever it made of that.
        let after = request(addr, &options.fast_path, PROBE_TIMEOUT);
        if let Err(err) = &after.response {
            return Some(Unanswered {
                after: Some(what.to_string()),
                path: options.fast_path.clone(),
                failure: Failure::of(err),
            });
        }
    }
    report.contract.push(ContractPoint {
        what: "the server still answers after all of that".into(),
        outcome: Ok("yes".into()),
    });
    None
}

/// An answer that came whole, then a reset: what happened, and the lesson in it.
fn answered_then_reset(status: u16, status_was_right: bool) -> String {
    let answer = if status_was_right {
        format!("answered {status}")
    } else {
        format!("answered {status} (not the status expected)")
    };
    format!(
        "{answer}, then reset the connection: it closed with bytes of the request unread, so \
         the kernel sent a reset, and a client that had not read the answer yet would have \
         lost it. Read the whole request before closing"
    )
}

fn list(statuses: &[u16]) -> String {
    let words: Vec<_> = statuses.iter().map(u16::to_string).collect();
    words.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `RUST_BACKTRACE=1`, the frames come last: the last words are still the panic.
    #[test]
    fn last_words_are_the_panic_and_its_message() {
        let log = "GET / -> 200 in 0 ms on main #1\n\
                   thread 'worker #2' panicked at src/main.rs:40:9:\n\
                   empty request\n\
                   stack backtrace:\n   0: rust_begin_unwind\n   1: core::panicking\n";
        assert_eq!(
            last_words(log),
            ["thread 'worker #2' panicked at src/main.rs:40:9: empty request"]
        );
        let old_style = "thread 'main' panicked at 'boom', src/main.rs:3:5\nnote: run with\n";
        assert_eq!(
            panic_message(old_style).as_deref(),
            Some("thread 'main' panicked at 'boom', src/main.rs:3:5")
        );
        assert_eq!(last_words("a\nb\nc\nd\n"), ["b", "c", "d"]);
    }
}
