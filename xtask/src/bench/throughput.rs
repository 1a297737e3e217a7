//! Throughput: `GET /` on a new connection each, for T seconds, in interleaved rounds with a
//! fresh server per run, closed loop or open loop (`--rate`), measured by the bench's client
//! and, with `--compare-wrk`, by wrk.

use std::time::Duration;

use measure::load::{self, Counts};

use crate::cargo::Built;
use crate::progress::ProgressLine;
use crate::stop::TrackedServer;

use super::options::BenchOptions;
use super::servers::{BenchServer, Outside, server_args, start};
use super::wrk::{self, Nginx};

pub(super) struct Throughput {
    pub(super) binary: BenchServer,
    /// Requests/s of each run that started.
    pub(super) rates: Vec<f64>,
    pub(super) counts: Counts,
    pub(super) latencies: Vec<Duration>,
    pub(super) runs_failed: usize,
    pub(super) start_error: Option<String>,
    /// `--compare-wrk`: requests/s by wrk, a run per round, on a fresh server of its own.
    pub(super) wrk_rates: Vec<f64>,
    pub(super) wrk_errors: u64,
    pub(super) wrk_error: Option<String>,
}

pub(super) fn median(rates: &[f64]) -> Option<f64> {
    let mut rates = rates.to_vec();
    rates.sort_by(f64::total_cmp);
    match rates.len() {
        0 => None,
        n if n % 2 == 1 => Some(rates[n / 2]),
        n => Some((rates[n / 2 - 1] + rates[n / 2]) / 2.0),
    }
}

impl Throughput {
    pub(super) fn median(&self) -> Option<f64> {
        median(&self.rates)
    }

    pub(super) fn wrk_median(&self) -> Option<f64> {
        median(&self.wrk_rates)
    }
}

/// A server of the throughput runs: a stage or the reference, or nginx.
pub(super) enum Running {
    Server(TrackedServer),
    Nginx(Nginx),
}

impl Running {
    pub(super) fn addr(&self) -> std::net::SocketAddr {
        match self {
            Running::Server(server) => server.addr,
            Running::Nginx(nginx) => nginx.addr,
        }
    }
}

pub(super) fn start_any(
    binary: &BenchServer,
    built: &Built,
    outside: Option<&Outside>,
) -> Option<Result<Running, String>> {
    if *binary == BenchServer::Nginx {
        let outside = outside?;
        let nginx = outside.nginx.as_deref()?;
        return Some(Nginx::start(nginx, &outside.dir, &outside.assets).map(Running::Nginx));
    }
    let Some(Ok(executable)) = built.get(binary.name()) else {
        return None;
    };
    Some(start(executable, &server_args(binary)).map(Running::Server))
}

pub(super) fn throughput(
    options: &BenchOptions,
    binaries: &[BenchServer],
    built: &Built,
    outside: Option<&Outside>,
) -> Vec<Throughput> {
    let mut results: Vec<Throughput> = binaries
        .iter()
        .map(|binary| Throughput {
            binary: *binary,
            rates: Vec::new(),
            counts: Counts::default(),
            latencies: Vec::new(),
            runs_failed: 0,
            start_error: None,
            wrk_rates: Vec::new(),
            wrk_errors: 0,
            wrk_error: None,
        })
        .collect();
    let runnable = results
        .iter()
        .filter(|r| {
            r.binary == BenchServer::Nginx || matches!(built.get(r.binary.name()), Some(Ok(_)))
        })
        .count();
    let wrk = outside.and_then(|o| o.wrk.as_deref());
    let mut done = 0;
    for round in 1..=options.rounds {
        for result in results.iter_mut() {
            if result.binary != BenchServer::Nginx
                && !matches!(built.get(result.binary.name()), Some(Ok(_)))
            {
                continue;
            }
            done += 1;
            let progress = ProgressLine::start(format!(
                "throughput round {round}/{} [{done}/{}] {}",
                options.rounds,
                runnable * options.rounds,
                result.binary.name()
            ));
            match start_any(&result.binary, built, outside) {
                Some(Ok(server)) => {
                    progress.set_detail(match options.rate {
                        Some(rate) => {
                            format!("{rate} requests/s for {} s", options.seconds.as_secs())
                        }
                        None => format!(
                            "{} clients for {} s",
                            options.clients,
                            options.seconds.as_secs()
                        ),
                    });
                    let run = match options.rate {
                        Some(rate) => Ok(load::open_loop(
                            server.addr(),
                            options.clients,
                            rate,
                            options.seconds,
                        )),
                        None => load::closed_loop(server.addr(), options.clients, options.seconds),
                    };
                    drop(server);
                    match run {
                        Ok(run) => {
                            result.rates.push(run.per_second());
                            result.counts.merge(&run.counts);
                            result.latencies.extend(run.latencies);
                        }
                        Err(message) => {
                            result.runs_failed += 1;
                            result.start_error = Some(format!("the bench's client: {message}"));
                        }
                    }
                }
                Some(Err(message)) => {
                    result.runs_failed += 1;
                    result.start_error = Some(message);
                }
                None => {}
            }
            if let Some(wrk) = wrk {
                // The same server, fresh, measured by wrk with as many connections.
                progress.set_detail(format!("wrk, {} s", options.seconds.as_secs()));
                match start_any(&result.binary, built, outside) {
                    Some(Ok(server)) => {
                        match wrk::wrk(wrk, server.addr(), options.clients, options.seconds) {
                            Ok(run) => {
                                result.wrk_rates.push(run.per_second);
                                result.wrk_errors += run.errors;
                            }
                            Err(message) => result.wrk_error = Some(message),
                        }
                        drop(server);
                    }
                    Some(Err(message)) => result.wrk_error = Some(message),
                    None => {}
                }
            }
            progress.finish();
        }
    }
    for result in &mut results {
        result.latencies.sort_unstable();
    }
    results
}

/// The nearest-rank percentile of sorted values (the demo's), or none of no values.
pub(super) fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    (!sorted.is_empty()).then(|| measure::summary::nearest_rank(sorted, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
