//! The bench's tables and JSON: throughput (with its histograms and the comparison with wrk)
//! and c10k, from what [`super::throughput`] and [`super::c10k`] measured.

use std::time::Duration;

use serde_json::{Value, json};

use measure::catalogue::Stage;
use measure::load::{self, Histogram};
use measure::system;
use measure::verdicts::{self, Goal, Yardstick};

use crate::style::{Color, Style, pad, pad_left};
use crate::units;

use super::c10k::C10k;
use super::options::BenchOptions;
use super::servers::{BenchServer, Outside};
use super::throughput::{Throughput, percentile};
use super::wrk;
use super::{SLEEP, WIDTH};

pub(super) fn cell(duration: Option<Duration>) -> String {
    duration.map_or("-".to_string(), units::cell)
}

/// What the load was, for the table's title.
pub(super) fn load_line(options: &BenchOptions) -> String {
    match options.rate {
        Some(rate) => format!(
            "throughput, open loop: GET / on a new connection each, {rate} due a second on a \
             fixed schedule, {} clients, {} s per run, {} round(s)",
            options.clients,
            options.seconds.as_secs(),
            options.rounds
        ),
        None => format!(
            "throughput, closed loop: GET / on a new connection each, {} clients on {} client \
             threads, {} s per run, {} round(s)",
            options.clients,
            load::CLIENT_THREADS.min(options.clients),
            options.seconds.as_secs(),
            options.rounds
        ),
    }
}

pub(super) fn print_throughput(options: &BenchOptions, results: &[Throughput], style: Style) {
    print!(
        "{}",
        crate::style::wrap(&style.paint(Color::Bold, &load_line(options)), WIDTH, "  ")
    );
    let reference = results
        .iter()
        .find(|r| r.binary == BenchServer::Reference)
        .and_then(Throughput::median);
    let mode_note = match options.rate {
        Some(_) => "  open loop: requests are due on a fixed schedule whatever the server does, \
                    and each latency counts from when its request was due, so a stall is \
                    charged to every request due during it. A server that cannot keep up \
                    answers fewer a second than were due, and its latencies grow with the queue. The \
                    client's own lateness in waking up for a request counts too (tens of µs)."
            .to_string(),
        None => "  closed loop: each client sends its next request when the last is answered, \
                 so this is the most each server serves, but its p99 understates the tail: \
                 while a server stalls no requests are sent, and the stall is counted once \
                 instead of in every request that would have been sent meanwhile. \
                 --rate R measures the tail honestly (open loop)."
            .to_string(),
    };
    print!("{}", crate::style::wrap(&mode_note, WIDTH, "    "));
    let header = [
        "binary", "model", "req/s", "min-max", "p50", "p99", "max", "errors", "vs ref",
    ];
    let widths = [14, 22, 7, 13, 7, 7, 7, 8, 6];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for result in results {
        let median = result.median();
        let min = result.rates.iter().copied().reduce(f64::min);
        let max = result.rates.iter().copied().reduce(f64::max);
        let range = match (min, max) {
            (Some(min), Some(max)) => format!("{min:.0}-{max:.0}"),
            _ => "-".to_string(),
        };
        let ratio = match (median, reference) {
            (Some(m), Some(r)) if r > 0.0 => format!("{:.2}x", m / r),
            _ => "-".to_string(),
        };
        let errors = if result.start_error.is_some() && result.rates.is_empty() {
            "no start".to_string()
        } else {
            result.counts.errors().to_string()
        };
        rows.push(vec![
            result.binary.name().to_string(),
            result.binary.model().to_string(),
            median.map_or("-".to_string(), |m| format!("{m:.0}")),
            range,
            cell(percentile(&result.latencies, 50.0)),
            cell(percentile(&result.latencies, 99.0)),
            cell(result.latencies.last().copied()),
            errors,
            ratio,
        ]);
    }
    print_rows(&rows, &widths);
    print_histograms(results);
    for result in results {
        if result.counts.errors() > 0 {
            println!(
                "  {}: errors: {}",
                result.binary.name(),
                result.counts.describe_errors()
            );
        }
        if let Some(message) = &result.start_error {
            println!("  {}: did not start: {message}", result.binary.name());
        }
    }
    // The targets, where this run can tell (closed loop: the most served).
    if let Some(reference) = reference.filter(|r| *r > 0.0 && options.rate.is_none()) {
        for result in results {
            let Some(stage) = result.binary.stage() else {
                continue;
            };
            let goals = verdicts::throughput_targets(stage)
                .iter()
                .filter(|target| target.yardstick == Yardstick::Axum);
            for goal in goals {
                if let Some(median) = result.median() {
                    let ratio = median / reference;
                    println!(
                        "  target {} >= {:.1}x the reference: {ratio:.2}x, {}",
                        result.binary.name(),
                        goal.at_least,
                        target_words(verdicts::at_least(ratio, goal.at_least))
                    );
                }
            }
        }
    }
    println!();
}

/// A histogram of every request's latency, a row per bucket, a column per binary: the share
/// of requests (in %) that took up to that bound.
pub(super) fn print_histograms(results: &[Throughput]) {
    let histograms: Vec<(String, Histogram, usize)> = results
        .iter()
        .filter(|r| !r.latencies.is_empty())
        .map(|r| {
            (
                r.binary.name().to_string(),
                Histogram::of(&r.latencies),
                r.latencies.len(),
            )
        })
        .collect();
    if histograms.is_empty() {
        return;
    }
    // The rows every binary needs: from the first bucket anyone used to the last.
    let first = histograms
        .iter()
        .filter_map(|(_, h, _)| h.buckets.iter().position(|(_, c)| *c > 0))
        .min()
        .unwrap_or(0);
    let last = histograms
        .iter()
        .filter_map(|(_, h, _)| h.buckets.iter().rposition(|(_, c)| *c > 0))
        .max()
        .unwrap_or(0);
    println!();
    println!("  latency histogram: % of each binary's requests, by how long they took");
    let mut header = vec![pad("  up to", 10)];
    header.extend(
        histograms
            .iter()
            .map(|(name, _, _)| pad_left(&short_name(name), 8)),
    );
    println!("{}", header.join(" ").trim_end());
    for index in first..=last {
        let bound = histograms[0].1.buckets[index].0;
        let label = if bound == Duration::MAX {
            "  more".to_string()
        } else {
            format!("  {}", bound_text(bound))
        };
        let mut row = vec![pad(&label, 10)];
        for (_, histogram, total) in &histograms {
            let count = histogram.buckets[index].1;
            let share = count as f64 * 100.0 / (*total).max(1) as f64;
            row.push(pad_left(&share_text(count, share), 8));
        }
        println!("{}", row.join(" ").trim_end());
    }
}

/// `stage-5-tokio` → `5-tokio`, to fit a column.
pub(super) fn short_name(name: &str) -> String {
    match name {
        "reference" => "axum".to_string(),
        _ => name
            .strip_prefix("stage-")
            .unwrap_or(name)
            .chars()
            .take(8)
            .collect(),
    }
}

pub(super) fn bound_text(bound: Duration) -> String {
    if bound < Duration::from_millis(1) {
        format!("{} µs", bound.as_micros())
    } else if bound < Duration::from_secs(1) {
        format!("{} ms", bound.as_millis())
    } else {
        format!("{} s", bound.as_secs())
    }
}

pub(super) fn share_text(count: u64, share: f64) -> String {
    match count {
        0 => ".".to_string(),
        _ if share < 0.1 => "<0.1".to_string(),
        _ => format!("{share:.1}"),
    }
}

pub(super) fn histogram_json(latencies: &[Duration]) -> Value {
    let histogram = Histogram::of(latencies);
    Value::Array(
        histogram
            .used()
            .iter()
            .map(|(bound, count)| {
                let bound = (*bound != Duration::MAX).then(|| units::millis(*bound));
                json!({ "up_to_ms": bound, "count": count })
            })
            .collect(),
    )
}

/// `--compare-wrk`: each server's requests/s and ratio to the reference by the bench's client
/// and by wrk, side by side, from the same rounds; and the targets by wrk.
pub(super) fn print_comparison(
    results: &[Throughput],
    outside: &Outside,
    clients: usize,
    style: Style,
) {
    if outside.wrk.is_none() {
        return;
    }
    println!(
        "{}",
        style.paint(
            Color::Bold,
            &format!(
                "the same servers by wrk -t{} -c{clients} -H 'Connection: close', a fresh \
                 server per run, in the same rounds",
                wrk::WRK_THREADS.min(clients)
            )
        )
    );
    let find = |server: BenchServer| results.iter().find(|r| r.binary == server);
    let reference = find(BenchServer::Reference);
    let nginx = find(BenchServer::Nginx);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let text = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}x"));
    let header = [
        "binary",
        "bench req/s",
        "vs ref",
        "wrk req/s",
        "vs ref",
        "vs nginx",
        "agree",
    ];
    let widths = [14, 11, 7, 10, 7, 8, 7];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for result in results {
        let bench_ratio = ratio(result.median(), reference.and_then(Throughput::median));
        let wrk_ratio = ratio(
            result.wrk_median(),
            reference.and_then(Throughput::wrk_median),
        );
        let agree = ratio(bench_ratio, wrk_ratio)
            .map_or("-".to_string(), |a| format!("{:+.0}%", (a - 1.0) * 100.0));
        rows.push(vec![
            result.binary.name().to_string(),
            result
                .median()
                .map_or("-".to_string(), |m| format!("{m:.0}")),
            text(bench_ratio),
            result
                .wrk_median()
                .map_or("-".to_string(), |m| format!("{m:.0}")),
            text(wrk_ratio),
            text(ratio(
                result.wrk_median(),
                nginx.and_then(Throughput::wrk_median),
            )),
            agree,
        ]);
    }
    print_rows_aligned(&rows, &widths, 1);
    for result in results {
        if let Some(message) = &result.wrk_error {
            println!("  {}: wrk: {message}", result.binary.name());
        }
        if result.wrk_errors > 0 {
            println!(
                "  {}: wrk counted {} errors",
                result.binary.name(),
                result.wrk_errors
            );
        }
    }
    let note = format!(
        "  agree: the bench's ratio to the reference over wrk's, minus one (target: within \
         ±{:.0}% for stage 5). Targets by wrk: every stage-5 binary >= {:.1}x axum and >= \
         {:.2}x nginx, stage 1 >= {:.1}x axum.",
        verdicts::AGREES_WITH_WRK * 100.0,
        verdicts::STAGE_5_VS_AXUM,
        verdicts::STAGE_5_VS_NGINX,
        verdicts::STAGE_1_VS_AXUM
    );
    print!("{}", crate::style::wrap(&note, WIDTH, "    "));
    let axum = reference.and_then(Throughput::wrk_median);
    let nginx = nginx.and_then(Throughput::wrk_median);
    for result in results {
        let Some(stage) = result.binary.stage() else {
            continue;
        };
        for goal in verdicts::throughput_targets(stage) {
            let (name, yardstick) = match goal.yardstick {
                Yardstick::Axum => ("axum", axum),
                Yardstick::Nginx => ("nginx", nginx),
            };
            if let Some(r) = ratio(result.wrk_median(), yardstick) {
                println!(
                    "  target {} >= {:.2}x {name} (wrk): {r:.2}x, {}",
                    result.binary.name(),
                    goal.at_least,
                    target_words(verdicts::at_least(r, goal.at_least))
                );
            }
        }
        if stage == Stage::Five {
            let bench_ratio = ratio(result.median(), reference.and_then(Throughput::median));
            if let Some(agree) = ratio(bench_ratio, ratio(result.wrk_median(), axum)) {
                println!(
                    "  target {} the bench within ±{:.0}% of wrk: {:+.0}%, {}",
                    result.binary.name(),
                    verdicts::AGREES_WITH_WRK * 100.0,
                    (agree - 1.0) * 100.0,
                    target_words(verdicts::within(agree - 1.0, verdicts::AGREES_WITH_WRK))
                );
            }
        }
    }
    if outside.nginx.is_some() {
        let line = "  nginx: 2 workers, keepalive off, an access line per request to a file (the \
                    configuration is in the book's chapter \"What it costs\")";
        print!("{}", crate::style::wrap(line, WIDTH, "    "));
    }
    println!();
}

/// "met", or "missed by 3%".
pub(super) fn target_words(target: Goal) -> String {
    match target {
        Goal::Met => "met".to_string(),
        Goal::MissedBy(by) => format!("missed by {:.0}%", by * 100.0),
    }
}

pub(super) fn print_rows(rows: &[Vec<String>], widths: &[usize]) {
    print_rows_aligned(rows, widths, 2);
}

/// Prints a table: the first `left` columns aligned left, the others right.
pub(super) fn print_rows_aligned(rows: &[Vec<String>], widths: &[usize], left: usize) {
    for (index, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (text, &width))| {
                if column < left {
                    pad(text, width)
                } else {
                    pad_left(text, width)
                }
            })
            .collect();
        println!("  {}", line.join(" ").trim_end());
        if index == 0 {
            let total: usize = widths.iter().sum::<usize>() + widths.len() - 1;
            println!("  {}", "-".repeat(total));
        }
    }
}

pub(super) fn throughput_json(
    options: &BenchOptions,
    results: &[Throughput],
    compare_wrk: bool,
) -> Value {
    let millis = |d: Option<Duration>| d.map(units::millis);
    json!({
        "mode": if options.rate.is_some() { "open loop" } else { "closed loop" },
        "rate_per_second": options.rate,
        "compare_wrk": compare_wrk,
        "clients": options.clients,
        "seconds": options.seconds.as_secs(),
        "rounds": options.rounds,
        "binaries": results.iter().map(|r| json!({
            "binary": r.binary.name(),
            "model": r.binary.model(),
            "requests_per_second": r.rates,
            "median_per_second": r.median(),
            "answered": r.counts.ok,
            "errors": {
                "connect": r.counts.connect,
                "reset": r.counts.reset,
                "timeout": r.counts.timeout,
                "wrong_status": r.counts.wrong_status,
                "other": r.counts.other,
            },
            "p50_ms": millis(percentile(&r.latencies, 50.0)),
            "p99_ms": millis(percentile(&r.latencies, 99.0)),
            "max_ms": millis(r.latencies.last().copied()),
            "histogram": histogram_json(&r.latencies),
            "runs_failed": r.runs_failed,
            "wrk_requests_per_second": r.wrk_rates,
            "wrk_median_per_second": r.wrk_median(),
            "wrk_errors": r.wrk_errors,
            "wrk_error": r.wrk_error,
        })).collect::<Vec<_>>(),
    })
}

pub(super) fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".to_string(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

pub(super) fn print_c10k(options: &BenchOptions, results: &[C10k], note: &str, style: Style) {
    let n = results
        .iter()
        .find_map(|r| r.outcome.as_ref().ok().map(|h| h.n))
        .unwrap_or(options.connections);
    println!(
        "{}",
        style.paint(
            Color::Bold,
            &format!(
                "c10k: {n} concurrent GET /sleep ({}), connects spread over {}",
                units::short(SLEEP),
                units::short(SLEEP)
            )
        )
    );
    if !note.is_empty() {
        println!("  {note}");
    }
    let header = [
        "binary",
        "completed",
        "p50",
        "p99",
        "idle RSS",
        "peak RSS",
        "threads",
        "per conn",
        "slow conn",
    ];
    let widths = [14, 11, 7, 7, 12, 12, 7, 10, 9];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut skipped = Vec::new();
    for result in results {
        match &result.outcome {
            Ok(held) => rows.push(vec![
                result.binary.name().to_string(),
                format!("{}/{}", held.run.counts.ok, held.n),
                cell(percentile(&held.latencies, 50.0)),
                cell(percentile(&held.latencies, 99.0)),
                mib(held.idle_kib),
                mib(held.peak.map(|p| p.peak_kib)),
                held.peak.map_or("-".to_string(), |p| p.threads.to_string()),
                held.per_connection_kib()
                    .map_or("-".to_string(), |k| format!("{k:.1} KiB")),
                held.run.slow_connects.to_string(),
            ]),
            Err(message) => skipped.push(format!("{}: {message}", result.binary.name())),
        }
    }
    print_rows(&rows, &widths);
    for line in skipped {
        println!("  {line}");
    }
    for result in results {
        if let Ok(held) = &result.outcome {
            if held.run.counts.errors() > 0 {
                println!(
                    "  {}: not answered: {}",
                    result.binary.name(),
                    held.run.counts.describe_errors()
                );
            }
        }
    }
    // A thread per waiting connection beside a task per waiting connection.
    let per = |stage: Stage| {
        results.iter().find_map(|r| match &r.outcome {
            Ok(held) if r.binary.stage() == Some(stage) => held
                .per_connection_kib()
                .map(|k| (r.binary.name().to_string(), k)),
            _ => None,
        })
    };
    if let (Some((thread_name, thread)), Some((task_name, task))) =
        (per(Stage::Two), per(Stage::Five))
    {
        if task > 0.0 {
            let line = format!(
                "  a waiting connection costs {thread:.1} KiB as a thread ({thread_name}) and \
                 {task:.1} KiB as a task ({task_name}): {:.1}x",
                thread / task
            );
            print!("{}", crate::style::wrap(&line, WIDTH, "    "));
        }
    }
    for result in results {
        if let (Some(Stage::Five), Ok(held)) = (result.binary.stage(), &result.outcome) {
            if let Some(peak) = held.peak {
                let mib = peak.peak_kib as f64 / 1024.0;
                println!(
                    "  target {} peak RSS <= {:.0} MiB at {}: {mib:.1} MiB, {}",
                    result.binary.name(),
                    verdicts::STAGE_5_PEAK_RSS_MIB,
                    held.n,
                    target_words(verdicts::at_most(mib, verdicts::STAGE_5_PEAK_RSS_MIB))
                );
            }
        }
    }
    let backlog = format!(
        "  slow conn: connects that took over {}: on Linux, a SYN the kernel dropped because \
         the server's listen queue (its backlog, capped by net.core.somaxconn = {}) was full, \
         sent again by the client a second later. Such a client waits; it is not refused.",
        units::short(load::SLOW_CONNECT),
        system::sysctl("net/core/somaxconn").unwrap_or_else(|| "?".to_string())
    );
    print!("{}", crate::style::wrap(&backlog, WIDTH, "    "));
    print!(
        "{}",
        crate::style::wrap(
            "  per conn: (peak RSS - idle RSS) / N; stage 2's idle RSS is measured with one \
             worker, so its N threads count.",
            WIDTH,
            "    "
        )
    );
    println!();
}

pub(super) fn c10k_json(results: &[C10k], note: &str) -> Value {
    let millis = |d: Option<Duration>| d.map(units::millis);
    json!({
        "sleep_ms": SLEEP.as_millis() as u64,
        "note": note,
        "binaries": results.iter().map(|r| match &r.outcome {
            Ok(held) => json!({
                "binary": r.binary.name(),
                "connections": held.n,
                "answered": held.run.counts.ok,
                "errors": {
                    "connect": held.run.counts.connect,
                    "reset": held.run.counts.reset,
                    "timeout": held.run.counts.timeout,
                    "wrong_status": held.run.counts.wrong_status,
                    "other": held.run.counts.other,
                },
                "slow_connects": held.run.slow_connects,
                "p50_ms": millis(percentile(&held.latencies, 50.0)),
                "p99_ms": millis(percentile(&held.latencies, 99.0)),
                "idle_rss_kib": held.idle_kib,
                "peak_rss_kib": held.peak.map(|p| p.peak_kib),
                "threads": held.peak.map(|p| p.threads),
                "per_connection_kib": held.per_connection_kib(),
            }),
            Err(message) => json!({ "binary": r.binary.name(), "not_run": message }),
        }).collect::<Vec<_>>(),
    })
}
