//! c10k: N concurrent `GET /sleep` held open on the servers that serve connections
//! concurrently, with the server's memory and threads read while they wait.

use std::time::Duration;

use measure::catalogue::{Expected, Stage};
use measure::load;
use measure::system::{ProcStatus, Sampler};

use crate::cargo::Built;
use crate::progress::ProgressLine;
use crate::units;

use super::options::BenchOptions;
use super::servers::{BenchServer, start};
use super::{SLEEP, SPARE_FILES};

pub(super) struct Held {
    pub(super) n: usize,
    pub(super) run: load::HoldRun,
    /// Sorted.
    pub(super) latencies: Vec<Duration>,
    /// Resident memory with nothing to do (stage 2: with one worker), KiB.
    pub(super) idle_kib: Option<u64>,
    pub(super) peak: Option<ProcStatus>,
}

impl Held {
    pub(super) fn per_connection_kib(&self) -> Option<f64> {
        let (idle, peak) = (self.idle_kib?, self.peak?);
        Some(peak.peak_kib.saturating_sub(idle) as f64 / self.n.max(1) as f64)
    }
}

pub(super) struct C10k {
    pub(super) binary: BenchServer,
    pub(super) outcome: Result<Held, String>,
}

pub(super) fn c10k(
    options: &BenchOptions,
    binaries: &[BenchServer],
    built: &Built,
    open_files: Option<u64>,
) -> (Vec<C10k>, String) {
    let mut n = options.connections;
    let mut note = String::new();
    if let Some(limit) = open_files {
        let most = limit.saturating_sub(SPARE_FILES) as usize;
        if n > most {
            note = format!(
                "N lowered from {n} to {most}: the open-files limit is {limit} and could not be \
                 raised further (each connection is a socket in the client and one in the server)"
            );
            n = most.max(1);
        }
    }
    let mut results = Vec::new();
    for binary in binaries {
        let mut n = n;
        if binary.stage().is_some_and(Stage::takes_workers) {
            if let Some(lowered) = fewer_workers(n) {
                n = lowered.most;
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str(&format!("{}: {}", binary.name(), lowered.note));
            }
        }
        let outcome = match (binary.expected(), built.get(binary.name())) {
            (Some(Expected::OneAtATime), _) => Err(format!(
                "skipped: it serves one connection at a time, so {n} x {} would take {n} s",
                units::short(SLEEP)
            )),
            (_, Some(Ok(executable))) => {
                let progress =
                    ProgressLine::start(format!("c10k {} x GET /sleep on {}", n, binary.name()));
                let outcome = hold_one(binary, executable, n, &progress);
                progress.finish();
                outcome
            }
            (_, _) => Err("not built".to_string()),
        };
        results.push(C10k {
            binary: *binary,
            outcome,
        });
    }
    (results, note)
}

/// Threads a pool server keeps for itself besides its workers (main, logging, the runtime's
/// few), and room for the bench's own threads where the limit is per user (Linux's `ulimit
/// -u`).
const THREADS_KEPT: u64 = 64;

/// A lower N for a thread-per-connection pool, and why.
struct FewerWorkers {
    most: usize,
    note: String,
}

/// Whether `n` workers (a thread each) are more than this system lets one process start:
/// then the most it allows, with the reason. macOS stops a process at a few thousand
/// threads, so stage 2 with `--workers 10000` could not even start there.
fn fewer_workers(n: usize) -> Option<FewerWorkers> {
    let (limit, source) = measure::limits::thread_limit()?;
    fewer_workers_under(n, limit, source)
}

fn fewer_workers_under(n: usize, limit: u64, source: &str) -> Option<FewerWorkers> {
    let most = usize::try_from(limit.saturating_sub(THREADS_KEPT))
        .unwrap_or(usize::MAX)
        .max(1);
    (n > most).then(|| FewerWorkers {
        most,
        note: format!(
            "N lowered from {n} to {most}: a worker thread per connection, and this system \
             allows {limit} threads ({source})"
        ),
    })
}

pub(super) fn hold_one(
    binary: &BenchServer,
    executable: &std::path::Path,
    n: usize,
    progress: &ProgressLine,
) -> Result<Held, String> {
    let mut args = vec![
        "--host".to_string(),
        "127.0.0.1".to_string(),
        "--sleep-ms".to_string(),
        SLEEP.as_millis().to_string(),
        "--read-timeout-ms".to_string(),
        "60000".to_string(),
    ];
    let idle_kib = if binary.stage().is_some_and(Stage::takes_workers) {
        // The pool starts its threads at once: measure the idle server with one worker, so
        // the threads count as what the waiting connections cost.
        let mut one = args.clone();
        one.extend(["--workers".to_string(), "1".to_string()]);
        let server = start(executable, &one)?;
        let idle = ProcStatus::read(server.pid).map(|s| s.rss_kib);
        drop(server);
        args.extend(["--workers".to_string(), n.to_string()]);
        idle
    } else {
        args.extend(["--max-connections".to_string(), (n + 64).to_string()]);
        None
    };
    let server = start(executable, &args)?;
    let idle_kib = idle_kib.or_else(|| ProcStatus::read(server.pid).map(|s| s.rss_kib));
    progress.set_detail(format!("pid {}", server.pid));
    let sampler = Sampler::start(server.pid);
    let run = load::hold(
        server.addr,
        n,
        SLEEP,
        Duration::from_secs(10),
        SLEEP + Duration::from_secs(30),
    );
    let polled = sampler.finish();
    let last = ProcStatus::read(server.pid);
    let exited = server.with(|s| s.exit_status()).flatten();
    drop(server);
    if let Some(message) = &run.client_error {
        return Err(message.clone());
    }
    if let Some(status) = exited {
        return Err(format!("the server exited during the run ({status})"));
    }
    let peak = last.map(|last| ProcStatus {
        rss_kib: last.rss_kib.max(polled.rss_kib),
        peak_kib: last.peak_kib.max(polled.peak_kib).max(polled.rss_kib),
        threads: last.threads.max(polled.threads),
    });
    let mut latencies = run.latencies.clone();
    latencies.sort_unstable();
    Ok(Held {
        n,
        run,
        latencies,
        idle_kib,
        peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_gets_no_more_workers_than_the_system_allows_threads() {
        let lowered = fewer_workers_under(10_000, 4096, "sysctl kern.num_taskthreads")
            .expect("macOS's 4096 threads are fewer than 10,000");
        assert_eq!(lowered.most, 4032);
        assert_eq!(
            lowered.note,
            "N lowered from 10000 to 4032: a worker thread per connection, and this system \
             allows 4096 threads (sysctl kern.num_taskthreads)"
        );
        assert!(fewer_workers_under(10_000, 192_735, "/proc/sys/kernel/threads-max").is_none());
        assert!(fewer_workers_under(4032, 4096, "ulimit -u").is_none());
        assert_eq!(
            fewer_workers_under(500, 10, "ulimit -u").map(|lowered| lowered.most),
            Some(1)
        );
    }
}
