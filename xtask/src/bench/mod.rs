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

mod c10k;
mod options;
mod render;
mod servers;
mod throughput;
mod wrk;

pub use options::{BENCH_HELP, BenchOptions, parse};

use std::fs::File;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use measure::catalogue;
use measure::system;
use serde_json::json;

use crate::cargo::{self, BinTarget};
use crate::stop;
use crate::style::{Color, Style};
use c10k::c10k;
use options::Part;
use render::{c10k_json, print_c10k, print_comparison, print_throughput, throughput_json};
use servers::{BenchServer, Outside};
use throughput::throughput;

/// The delay of `/sleep` in c10k, and every server's `--sleep-ms` in the bench.
const SLEEP: Duration = Duration::from_millis(1000);
/// Sockets the bench keeps for itself besides the N of c10k.
const SPARE_FILES: u64 = 128;
/// The width of the tables; the notes wrap to it.
const WIDTH: usize = 100;

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
    let (open_files, open_files_note) = measure::limits::raise_open_files();
    let workspace = match cargo::workspace() {
        Ok(workspace) => workspace,
        Err(message) => return fail(&message),
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    let mut binaries: Vec<BenchServer> = catalogue::select(&options.stages, &options.runtimes)
        .iter()
        .copied()
        .map(BenchServer::Stage)
        .collect();
    binaries.push(BenchServer::Reference);
    let targets: Vec<BinTarget> = binaries.iter().filter_map(BenchServer::target).collect();
    let built = cargo::build(&workspace, &targets);
    let mut broken = Vec::new();
    for binary in &binaries {
        if let Some(Err(failure)) = built.get(binary.name()) {
            println!(
                "could not build {}: {}",
                binary.name(),
                crate::pipeline::results::first_line(failure)
            );
            broken.push(format!("{} did not build", binary.name()));
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
                listed.push(BenchServer::Nginx);
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
                    result.binary.name(),
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
                    result.binary.name(),
                    held.run.counts.ok,
                    held.n,
                    held.run.counts.describe_errors()
                )),
                Ok(_) => {}
                Err(message) if message.starts_with("skipped") => {}
                Err(message) => broken.push(format!("c10k: {}: {message}", result.binary.name())),
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
