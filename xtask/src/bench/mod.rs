//! `cargo xtask bench`: what each model costs, beside a production server (axum on tokio,
//! `crates/reference`), measured with the bench's own client (no wrk, no oha).
//!
//! - throughput: `GET /` on a new connection each, for T seconds, in interleaved rounds with a
//!   fresh server per run: requests/s, latency (with a histogram), errors, and the ratio to the
//!   reference in the same run. Closed loop by default (C clients, each sending its next
//!   request when the last is answered); open loop with `--rate R` (R requests a second on a
//!   fixed schedule, each timed from when it was due).
//! - `--compare-wrk`: in the same rounds, every server is measured by wrk too, and nginx is
//!   added beside axum ([`wrk`]), so the bench's ratios can be checked against an
//!   outside client's.
//! - c10k: N concurrent `GET /sleep` (1 s) on the servers that serve connections
//!   concurrently: how many completed, latency, and the server's memory and threads, so the
//!   memory per waiting connection of a thread (stage 2) and a task (stage 5) can be compared.
//!
//! The clients are in [`measure::load`], the memory readings in [`measure::system`];
//! building, starting and stopping servers reuse the demo's [`cargo`],
//! [`measure::ServerProcess`] and [`stop`].

mod open_files;
mod wrk;

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use crate::args::value_text;
use crate::cargo::{self, BinTarget, Built};
use crate::progress::ProgressLine;
use crate::stop::{self, TrackedServer};
use crate::style::{Color, Style, pad, pad_left};
use crate::units;
use measure::catalogue::{self, Expected, Runtime, Stage};
use measure::load::{self, Counts, Histogram};
use measure::system::{self, ProcStatus, Sampler};
use measure::verdicts::{self, Target, Yardstick};
use wrk::Nginx;

pub const BENCH_HELP: &str = "\
cargo xtask bench: throughput, tail latency and memory per waiting connection of
the stage servers, beside a production server (axum on tokio, crates/reference).
It builds the binaries in release mode, starts each on a free port of 127.0.0.1,
loads it with its own client, and stops it.

Usage: cargo xtask bench [OPTIONS]

Options:
  --only PART        throughput or c10k                        [default: both]
  --stage LIST       which stages, such as 1,5 or 2-5         [default: 1,2,3,4,5]
  --runtime LIST     binaries of stages 3 to 5: async-std, tokio, smol, or all
                     (all: 11 binaries)                    [default: async-std]
  --clients C        throughput: concurrent clients                 [default: 16]
  --rate R           throughput: open loop, R requests a second on a fixed
                     schedule, each timed from when it was due  [default: closed loop]
  --seconds T        throughput: seconds per run                     [default: 5]
  --rounds R         throughput: interleaved rounds                  [default: 3]
  --connections N    c10k: concurrent GET /sleep                 [default: 10000]
  --compare-wrk      throughput: measure every server with wrk too, in the same
                     rounds, and add nginx (2 workers, access log to a file)
                     beside axum; skipped, saying so, where they are not installed
  --quick            a smoke test of a few seconds: 1 round of 1 s, N = 500
  --json FILE        also write the results to FILE as JSON
  -h, --help         print this help

throughput: GET / on a new connection each, for T seconds. Each round runs every
binary once, with a fresh server, in turn; requests/s is the median of the rounds
(and the min-max), latencies are exact percentiles over every request of every
round, with a histogram. Closed loop (the default): each client sends its next
request as soon as the answer is complete, so it measures the most a server
serves, but its p99 understates the tail: while the server stalls, no requests
are sent, and the stall is counted once, not in every request that would have
been sent meanwhile. Open loop (--rate R): requests are due on a fixed schedule
whatever the server does, and each latency counts from when it was due. The
servers' request logs go to a file, as nginx's access log does.

c10k: N clients send GET /sleep (the server's --sleep-ms 1000), their connects
spread over one second, and wait for the answer. It runs on the servers that
serve connections concurrently (stages 4 and 5, the reference) and on stage 2
with --workers N (a thread per waiting connection). Memory is the server's
resident set: from /proc on Linux, from ps on macOS (its peak is the most seen
while polling every 20 ms), from PowerShell's Get-Process on Windows (working
set); elsewhere \"not measured\". Per connection is (peak - idle) / N.

The client runs on the same machine and competes with the server for its cores.
Closed loop, its C connections are driven by 2 threads without blocking, as wrk
-t2 drives its own; open loop, by C blocking threads (for a precise schedule).
";

const QUICK_SECONDS: u64 = 1;
const QUICK_CONNECTIONS: usize = 500;
/// The delay of `/sleep` in c10k, and every server's `--sleep-ms` in the bench.
const SLEEP: Duration = Duration::from_millis(1000);
/// Sockets the bench keeps for itself besides the N of c10k.
const SPARE_FILES: u64 = 128;
/// The width of the tables; the notes wrap to it.
const WIDTH: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Throughput,
    C10k,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    stages: Vec<Stage>,
    runtimes: Vec<Runtime>,
    parts: Vec<Part>,
    clients: usize,
    seconds: Duration,
    rounds: usize,
    connections: usize,
    /// Open loop at this many requests a second; closed loop if none.
    rate: Option<u64>,
    compare_wrk: bool,
    quick: bool,
    json: Option<PathBuf>,
    /// The arguments as given, for the release build to be run with.
    raw: Vec<OsString>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            stages: Stage::ALL.to_vec(),
            runtimes: vec![Runtime::AsyncStd],
            parts: vec![Part::Throughput, Part::C10k],
            clients: 16,
            seconds: Duration::from_secs(5),
            rounds: 3,
            connections: 10_000,
            rate: None,
            compare_wrk: false,
            quick: false,
            json: None,
            raw: Vec::new(),
        }
    }
}

/// Parses the arguments after `bench`; `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<BenchOptions>, String> {
    use lexopt::prelude::*;
    let raw: Vec<OsString> = args.into_iter().collect();
    let mut options = BenchOptions {
        raw: raw.clone(),
        ..BenchOptions::default()
    };
    let (mut seconds, mut rounds, mut connections) = (None, None, None);
    let mut parser = lexopt::Parser::from_args(raw);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("only") => {
                options.parts = match value_text(&mut parser)?.as_str() {
                    "throughput" => vec![Part::Throughput],
                    "c10k" => vec![Part::C10k],
                    other => {
                        return Err(format!("--only takes throughput or c10k, not {other:?}"));
                    }
                }
            }
            Long("stage") => options.stages = crate::args::parse_stages(&value_text(&mut parser)?)?,
            Long("runtime") => {
                options.runtimes = crate::args::parse_runtimes(&value_text(&mut parser)?)?
            }
            Long("clients") => options.clients = number(&mut parser, "--clients", 1, 1024)?,
            Long("seconds") => seconds = Some(number(&mut parser, "--seconds", 1, 600)?),
            Long("rounds") => rounds = Some(number(&mut parser, "--rounds", 1, 20)?),
            Long("connections") => {
                connections = Some(number(&mut parser, "--connections", 1, 100_000)?)
            }
            Long("rate") => {
                options.rate = Some(number(&mut parser, "--rate", 1, 1_000_000)? as u64)
            }
            Long("compare-wrk") => options.compare_wrk = true,
            Long("quick") => options.quick = true,
            Long("json") => {
                options.json = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?))
            }
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if options.quick {
        options.seconds = Duration::from_secs(QUICK_SECONDS);
        options.rounds = 1;
        options.connections = QUICK_CONNECTIONS;
    }
    // Explicit numbers win over --quick's.
    if let Some(seconds) = seconds {
        options.seconds = Duration::from_secs(seconds as u64);
    }
    options.rounds = rounds.unwrap_or(options.rounds);
    options.connections = connections.unwrap_or(options.connections);
    Ok(Some(options))
}

fn number(
    parser: &mut lexopt::Parser,
    flag: &str,
    min: usize,
    max: usize,
) -> Result<usize, String> {
    let value = value_text(parser)?;
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{flag} takes a whole number from {min} to {max}, not {value:?}"
        )),
    }
}

/// A server the bench runs: a stage binary of the catalogue, the reference (axum), or nginx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Binary {
    /// `None` for the reference and nginx, which are not stages.
    stage: Option<Stage>,
    package: &'static str,
    name: &'static str,
    runtime: &'static str,
    model: &'static str,
}

impl Binary {
    fn of(binary: &catalogue::Binary) -> Binary {
        Binary {
            stage: Some(binary.stage),
            package: binary.package,
            name: binary.name,
            runtime: binary.runtime.name(),
            model: binary.stage.model_words(),
        }
    }

    fn target(&self) -> BinTarget {
        BinTarget {
            package: self.package,
            name: self.name,
        }
    }

    fn expected(&self) -> Option<Expected> {
        self.stage.map(Stage::expected)
    }
}

/// The reference server: axum on tokio (`crates/reference`), built by cargo like the stages.
fn reference() -> Binary {
    Binary {
        stage: None,
        package: "reference",
        name: "reference",
        runtime: "tokio",
        model: "axum (reference)",
    }
}

fn is_reference(binary: &Binary) -> bool {
    binary.stage.is_none() && binary.package == "reference"
}

/// nginx, a row of `--compare-wrk`; not built by cargo.
fn nginx() -> Binary {
    Binary {
        stage: None,
        package: "nginx",
        name: "nginx",
        runtime: "nginx",
        model: "nginx, 2 workers",
    }
}

fn is_nginx(binary: &Binary) -> bool {
    binary.stage.is_none() && binary.package == "nginx"
}

/// The outside tools of `--compare-wrk`, where installed.
struct Outside {
    wrk: Option<PathBuf>,
    nginx: Option<PathBuf>,
    /// The directory of nginx's configuration and logs.
    dir: PathBuf,
    /// `shared-assets`, which nginx serves.
    assets: PathBuf,
}

pub fn run(options: BenchOptions) -> ExitCode {
    // The client must be optimized through and through, tokio included: in the dev profile
    // (where only xtask and measure are optimized) it took about a third more CPU per request
    // than wrk, CPU taken from the server on 2 shared cores, and its ratios fell short of
    // wrk's by up to 20 %. So a dev build of the bench runs its release build instead.
    if cfg!(debug_assertions) {
        return cargo::exec_release_xtask("the bench", None, "bench", &options.raw);
    }
    let style = Style::for_stdout();
    let json_file = match options.json.as_deref().map(File::create).transpose() {
        Ok(file) => file,
        Err(err) => return fail(&format!("cannot write the --json file: {err}")),
    };
    if let Err(message) = stop::install_ctrl_c_handler() {
        eprintln!("warning: {message}");
    }
    let (open_files, open_files_note) = open_files::raise_open_files();
    let workspace = match cargo::workspace() {
        Ok(workspace) => workspace,
        Err(message) => return fail(&message),
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    let mut binaries: Vec<Binary> = catalogue::select(&options.stages, &options.runtimes)
        .iter()
        .map(Binary::of)
        .collect();
    binaries.push(reference());
    let targets: Vec<BinTarget> = binaries.iter().map(Binary::target).collect();
    let built = cargo::build(&workspace, &targets);
    let mut broken = Vec::new();
    for binary in &binaries {
        if let Some(Err(failure)) = built.get(binary.name) {
            println!(
                "could not build {}: {}",
                binary.name,
                crate::pipeline::results::first_line(failure)
            );
            broken.push(format!("{} did not build", binary.name));
        }
    }

    let outside = options.compare_wrk.then(|| Outside {
        wrk: wrk::find("wrk"),
        nginx: wrk::find("nginx"),
        dir: std::env::temp_dir().join(format!("xtask-bench-nginx-{}", std::process::id())),
        assets: workspace
            .manifest
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("shared-assets"),
    });

    let machine = machine_line(cores);
    println!("{}", style.paint(Color::Bold, &machine));
    print!(
        "{}",
        crate::style::wrap(
            &format!(
                "The client runs on the same machine and competes with the server for these \
                 {cores} core(s): every figure here is client and server together."
            ),
            WIDTH,
            ""
        )
    );
    println!("{open_files_note}.");
    println!();

    let mut report = json!({
        "machine": machine,
        "cores": cores,
        "open_files_limit": open_files,
        "quick": options.quick,
    });
    if options.parts.contains(&Part::Throughput) {
        let mut listed = binaries.clone();
        if let Some(outside) = &outside {
            match (&outside.wrk, &outside.nginx) {
                (None, _) => println!(
                    "--compare-wrk: skipped: wrk is not installed (Debian: apt-get install wrk)"
                ),
                (Some(_), None) => println!(
                    "--compare-wrk: nginx skipped: it is not installed (Debian: apt-get install \
                     nginx)"
                ),
                (Some(_), Some(_)) => {}
            }
            if outside.nginx.is_some() {
                listed.push(nginx());
            }
        }
        let results = throughput(&options, &listed, &built, outside.as_ref());
        print_throughput(&options, &results, style);
        if let Some(outside) = &outside {
            print_comparison(&results, outside, options.clients, style);
            let _ = std::fs::remove_dir_all(&outside.dir);
        }
        for result in &results {
            if result.counts.errors() > 0 || result.runs_failed > 0 {
                broken.push(format!(
                    "throughput: {} left requests unanswered ({}; {} run(s) did not start)",
                    result.binary.name,
                    result.counts.describe_errors(),
                    result.runs_failed
                ));
            }
        }
        report["throughput"] = throughput_json(&options, &results, outside.is_some());
    }
    if options.parts.contains(&Part::C10k) {
        let (results, note) = c10k(&options, &binaries, &built, open_files);
        print_c10k(&options, &results, &note, style);
        for result in &results {
            match &result.outcome {
                Ok(held) if held.run.counts.ok < held.n as u64 => broken.push(format!(
                    "c10k: {} answered {} of {} ({})",
                    result.binary.name,
                    held.run.counts.ok,
                    held.n,
                    held.run.counts.describe_errors()
                )),
                Ok(_) => {}
                Err(message) if message.starts_with("skipped") => {}
                Err(message) => broken.push(format!("c10k: {}: {message}", result.binary.name)),
            }
        }
        report["c10k"] = c10k_json(&results, &note);
    }

    let mut status = ExitCode::SUCCESS;
    if let Some(mut file) = json_file {
        let written = serde_json::to_writer_pretty(&mut file, &report)
            .map_err(|e| e.to_string())
            .and_then(|()| writeln!(file).map_err(|e| e.to_string()));
        match (written, &options.json) {
            (Ok(()), Some(path)) => println!("wrote {}", path.display()),
            (Err(err), _) => {
                eprintln!("error: cannot write the --json file: {err}");
                status = ExitCode::FAILURE;
            }
            _ => {}
        }
    }
    if !broken.is_empty() {
        let style = Style::for_stderr();
        eprintln!(
            "{}",
            style.paint(Color::Red, "not every request was answered:")
        );
        for line in &broken {
            eprintln!("  {line}");
        }
        status = ExitCode::FAILURE;
    }
    status
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn machine_line(cores: usize) -> String {
    let cpu = system::cpu_model().unwrap_or_else(|| "unknown CPU".to_string());
    format!(
        "Machine: {cores} core(s), {cpu}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Starts a server, its request log going to a file (truncated at each start), and waits for
/// its first answer. Reading the log into the bench's memory instead would take CPU from the
/// server under load.
fn start(executable: &std::path::Path, args: &[String]) -> Result<TrackedServer, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = std::env::temp_dir().join(format!("xtask-bench-{}.log", std::process::id()));
    // Registered as it starts, so Ctrl-C stops it, and refused once Ctrl-C has begun; on Linux
    // it dies with the bench.
    let server = stop::start_server_logging_to(executable, &args, File::create(&log).ok())
        .map_err(|err| err.to_string())?;
    if measure::process::warm_up(server.addr).is_err() {
        return Err(format!(
            "it did not answer GET / with 200 within {}",
            units::short(measure::process::WARM_UP_TIMEOUT)
        ));
    }
    Ok(server)
}

fn server_args(binary: &Binary) -> Vec<String> {
    let mut args = vec![
        "--host".to_string(),
        "127.0.0.1".to_string(),
        "--sleep-ms".to_string(),
        SLEEP.as_millis().to_string(),
    ];
    if binary.stage.is_some_and(Stage::takes_workers) {
        // The pool of the demo's table ("thread pool of 4").
        args.extend(["--workers".to_string(), catalogue::WORKERS.to_string()]);
    }
    args
}

// ---------------------------------------------------------------- throughput

struct Throughput {
    binary: Binary,
    /// Requests/s of each run that started.
    rates: Vec<f64>,
    counts: Counts,
    latencies: Vec<Duration>,
    runs_failed: usize,
    start_error: Option<String>,
    /// `--compare-wrk`: requests/s by wrk, a run per round, on a fresh server of its own.
    wrk_rates: Vec<f64>,
    wrk_errors: u64,
    wrk_error: Option<String>,
}

fn median(rates: &[f64]) -> Option<f64> {
    let mut rates = rates.to_vec();
    rates.sort_by(f64::total_cmp);
    match rates.len() {
        0 => None,
        n if n % 2 == 1 => Some(rates[n / 2]),
        n => Some((rates[n / 2 - 1] + rates[n / 2]) / 2.0),
    }
}

impl Throughput {
    fn median(&self) -> Option<f64> {
        median(&self.rates)
    }

    fn wrk_median(&self) -> Option<f64> {
        median(&self.wrk_rates)
    }
}

/// A server of the throughput runs: a stage or the reference, or nginx.
enum Running {
    Server(TrackedServer),
    Nginx(Nginx),
}

impl Running {
    fn addr(&self) -> std::net::SocketAddr {
        match self {
            Running::Server(server) => server.addr,
            Running::Nginx(nginx) => nginx.addr,
        }
    }
}

fn start_any(
    binary: &Binary,
    built: &Built,
    outside: Option<&Outside>,
) -> Option<Result<Running, String>> {
    if is_nginx(binary) {
        let outside = outside?;
        let nginx = outside.nginx.as_deref()?;
        return Some(Nginx::start(nginx, &outside.dir, &outside.assets).map(Running::Nginx));
    }
    let Some(Ok(executable)) = built.get(binary.name) else {
        return None;
    };
    Some(start(executable, &server_args(binary)).map(Running::Server))
}

fn throughput(
    options: &BenchOptions,
    binaries: &[Binary],
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
        .filter(|r| is_nginx(&r.binary) || matches!(built.get(r.binary.name), Some(Ok(_))))
        .count();
    let wrk = outside.and_then(|o| o.wrk.as_deref());
    let mut done = 0;
    for round in 1..=options.rounds {
        for result in results.iter_mut() {
            if !is_nginx(&result.binary) && !matches!(built.get(result.binary.name), Some(Ok(_))) {
                continue;
            }
            done += 1;
            let progress = ProgressLine::start(format!(
                "throughput round {round}/{} [{done}/{}] {}",
                options.rounds,
                runnable * options.rounds,
                result.binary.name
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
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    (!sorted.is_empty()).then(|| measure::summary::nearest_rank(sorted, p))
}

fn cell(duration: Option<Duration>) -> String {
    duration.map_or("-".to_string(), units::cell)
}

/// What the load was, for the table's title.
fn load_line(options: &BenchOptions) -> String {
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

fn print_throughput(options: &BenchOptions, results: &[Throughput], style: Style) {
    print!(
        "{}",
        crate::style::wrap(&style.paint(Color::Bold, &load_line(options)), WIDTH, "  ")
    );
    let reference = results
        .iter()
        .find(|r| is_reference(&r.binary))
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
            result.binary.name.to_string(),
            result.binary.model.to_string(),
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
                result.binary.name,
                result.counts.describe_errors()
            );
        }
        if let Some(message) = &result.start_error {
            println!("  {}: did not start: {message}", result.binary.name);
        }
    }
    // The targets, where this run can tell (closed loop: the most served).
    if let Some(reference) = reference.filter(|r| *r > 0.0 && options.rate.is_none()) {
        for result in results {
            let Some(stage) = result.binary.stage else {
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
                        result.binary.name,
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
fn print_histograms(results: &[Throughput]) {
    let histograms: Vec<(String, Histogram, usize)> = results
        .iter()
        .filter(|r| !r.latencies.is_empty())
        .map(|r| {
            (
                r.binary.name.to_string(),
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
fn short_name(name: &str) -> String {
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

fn bound_text(bound: Duration) -> String {
    if bound < Duration::from_millis(1) {
        format!("{} µs", bound.as_micros())
    } else if bound < Duration::from_secs(1) {
        format!("{} ms", bound.as_millis())
    } else {
        format!("{} s", bound.as_secs())
    }
}

fn share_text(count: u64, share: f64) -> String {
    match count {
        0 => ".".to_string(),
        _ if share < 0.1 => "<0.1".to_string(),
        _ => format!("{share:.1}"),
    }
}

fn histogram_json(latencies: &[Duration]) -> Value {
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
fn print_comparison(results: &[Throughput], outside: &Outside, clients: usize, style: Style) {
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
    let find = |f: fn(&Binary) -> bool| results.iter().find(|r| f(&r.binary));
    let reference = find(is_reference);
    let nginx = find(is_nginx);
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
            result.binary.name.to_string(),
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
            println!("  {}: wrk: {message}", result.binary.name);
        }
        if result.wrk_errors > 0 {
            println!(
                "  {}: wrk counted {} errors",
                result.binary.name, result.wrk_errors
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
        let Some(stage) = result.binary.stage else {
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
                    result.binary.name,
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
                    result.binary.name,
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
fn target_words(target: Target) -> String {
    match target {
        Target::Met => "met".to_string(),
        Target::MissedBy(by) => format!("missed by {:.0}%", by * 100.0),
    }
}

fn print_rows(rows: &[Vec<String>], widths: &[usize]) {
    print_rows_aligned(rows, widths, 2);
}

/// Prints a table: the first `left` columns aligned left, the others right.
fn print_rows_aligned(rows: &[Vec<String>], widths: &[usize], left: usize) {
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

fn throughput_json(options: &BenchOptions, results: &[Throughput], compare_wrk: bool) -> Value {
    let millis = |d: Option<Duration>| d.map(units::millis);
    json!({
        "mode": if options.rate.is_some() { "open loop" } else { "closed loop" },
        "rate_per_second": options.rate,
        "compare_wrk": compare_wrk,
        "clients": options.clients,
        "seconds": options.seconds.as_secs(),
        "rounds": options.rounds,
        "binaries": results.iter().map(|r| json!({
            "binary": r.binary.name,
            "model": r.binary.model,
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

// ---------------------------------------------------------------------- c10k

struct Held {
    n: usize,
    run: load::HoldRun,
    /// Sorted.
    latencies: Vec<Duration>,
    /// Resident memory with nothing to do (stage 2: with one worker), KiB.
    idle_kib: Option<u64>,
    peak: Option<ProcStatus>,
}

impl Held {
    fn per_connection_kib(&self) -> Option<f64> {
        let (idle, peak) = (self.idle_kib?, self.peak?);
        Some(peak.peak_kib.saturating_sub(idle) as f64 / self.n.max(1) as f64)
    }
}

struct C10k {
    binary: Binary,
    outcome: Result<Held, String>,
}

fn c10k(
    options: &BenchOptions,
    binaries: &[Binary],
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
        let outcome = match (binary.expected(), built.get(binary.name)) {
            (Some(Expected::OneAtATime), _) => Err(format!(
                "skipped: it serves one connection at a time, so {n} x {} would take {n} s",
                units::short(SLEEP)
            )),
            (_, Some(Ok(executable))) => {
                let progress =
                    ProgressLine::start(format!("c10k {} x GET /sleep on {}", n, binary.name));
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

fn hold_one(
    binary: &Binary,
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
    let idle_kib = if binary.stage.is_some_and(Stage::takes_workers) {
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

fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".to_string(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn print_c10k(options: &BenchOptions, results: &[C10k], note: &str, style: Style) {
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
                result.binary.name.to_string(),
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
            Err(message) => skipped.push(format!("{}: {message}", result.binary.name)),
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
                    result.binary.name,
                    held.run.counts.describe_errors()
                );
            }
        }
    }
    // A thread per waiting connection beside a task per waiting connection.
    let per = |stage: Stage| {
        results.iter().find_map(|r| match &r.outcome {
            Ok(held) if r.binary.stage == Some(stage) => held
                .per_connection_kib()
                .map(|k| (r.binary.name.to_string(), k)),
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
        if let (Some(Stage::Five), Ok(held)) = (result.binary.stage, &result.outcome) {
            if let Some(peak) = held.peak {
                let mib = peak.peak_kib as f64 / 1024.0;
                println!(
                    "  target {} peak RSS <= {:.0} MiB at {}: {mib:.1} MiB, {}",
                    result.binary.name,
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

fn c10k_json(results: &[C10k], note: &str) -> Value {
    let millis = |d: Option<Duration>| d.map(units::millis);
    json!({
        "sleep_ms": SLEEP.as_millis() as u64,
        "note": note,
        "binaries": results.iter().map(|r| match &r.outcome {
            Ok(held) => json!({
                "binary": r.binary.name,
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
            Err(message) => json!({ "binary": r.binary.name, "not_run": message }),
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Option<BenchOptions>, String> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn quick_is_short_and_explicit_numbers_win() {
        let Ok(Some(quick)) = parse_words(&["--quick"]) else {
            panic!("--quick parses");
        };
        assert_eq!(quick.seconds, Duration::from_secs(1));
        assert_eq!((quick.rounds, quick.connections), (1, 500));
        let Ok(Some(mixed)) = parse_words(&["--quick", "--connections", "2000", "--only", "c10k"])
        else {
            panic!("valid options parse");
        };
        assert_eq!(mixed.connections, 2000);
        assert_eq!(mixed.parts, vec![Part::C10k]);
        assert!(parse_words(&["--only", "speed"]).is_err());
        assert!(parse_words(&["--clients", "0"]).is_err());
        assert_eq!(parse_words(&["--help"]), Ok(None));
        let Ok(Some(open)) = parse_words(&["--rate", "5000", "--stage", "5", "--compare-wrk"])
        else {
            panic!("--rate parses");
        };
        assert_eq!(
            (open.rate, open.stages.clone()),
            (Some(5000), vec![Stage::Five])
        );
        assert!(open.compare_wrk);
        assert!(parse_words(&["--rate", "0"]).is_err());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
