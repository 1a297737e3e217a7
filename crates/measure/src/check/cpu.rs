//! Parallel or not: `/cpu` batches against one request alone, judged by the verdicts every
//! tool shares, and two blocking requests at once where a busy machine hides what the batches
//! show.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::{LONGEST_SLOW, NoResponse, Options, probe, request};
use crate::available_cores;
use crate::client::{self, Exchange};
use crate::system::BatchWatch;
use crate::verdicts::{self, CpuBatch, Parallelism, Proof};

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
    Failed { path: String, failure: NoResponse },
    /// Not every request of a batch was answered.
    BatchUnanswered { path: String, size: usize },
}
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

/// The CPU probe's judgement of one batch: what it measured, and so whether it ran in
/// parallel. The same function the demo's cpu scenario is judged by.
pub fn cpu_attempt(alone: Duration, batch: &[Duration], together: Duration) -> Option<CpuBatch> {
    CpuBatch::measure(alone, batch, together, available_cores())
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
pub(super) fn measure_cpu(
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
                    let failure = NoResponse::of(err);
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
        Err(err) => NoResponse::of(err) == NoResponse::TimedOut,
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
