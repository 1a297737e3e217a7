//! `cargo xtask`: the project's own commands, written in Rust so they run wherever cargo does.
//!
//! `cargo xtask demo` is the one that matters most: it runs the same slow request against
//! every stage and shows, as a timeline and a table, which stage made the fast requests wait.
//! Its modules, in the order the demo uses them:
//!
//! - [`args`]: the command line; [`catalog`]: the stages, their binaries and their lessons.
//! - [`cargo_build`]: find the workspace and build the binaries (release mode).
//! - [`demo`]: start each binary, run the scenarios (the client lives in `harness::scenario`),
//!   stop it; [`stop`]: Ctrl-C stops every server; [`progress`]: the progress line.
//! - [`summary`]: percentiles and verdicts; [`table`], [`timeline`]: the terminal output;
//!   [`json`], [`html`]: the files.
//!
//! Beside it: [`diff`] (`cargo xtask diff 3 4`), [`book`] (`cargo xtask book`),
//! [`bench`] (`cargo xtask bench`, with its clients in [`bench_load`]); and for classroom
//! workshops, [`check`] (`cargo xtask check`: measure any server's model from outside),
//! [`workshop`] (`cargo xtask workshop`: the guided exercises) and [`doctor`]
//! (`cargo xtask doctor`, the day before a workshop: is this laptop ready?).

mod args;
mod bench;
mod bench_load;
mod bench_wrk;
mod book;
mod cargo_build;
mod catalog;
mod check;
mod client_cost;
mod demo;
mod diff;
mod doctor;
mod html;
mod json;
mod progress;
mod results;
mod stop;
mod style;
mod summary;
mod table;
mod timeline;
mod units;
mod workshop;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  demo     run the slow-request demo against every stage (see cargo xtask demo --help)
  diff     show the code that changes between two stages, e.g. `cargo xtask diff 3 4`
  book     build the book in docs/ with mdbook
  bench    throughput and memory per waiting connection, beside axum (see --help)
  check    measure which model any server behaves like, and its contract (see --help)
  workshop guided exercises: write each next stage yourself (list, start, check, hint)
  doctor   check this laptop is ready for a workshop (toolchain, offline crates, port, build)
  help     print this help
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    match command.as_ref().and_then(|c| c.to_str()) {
        None | Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("demo") => match args::parse_demo(args) {
            Ok(args::Parsed::Help) => {
                print!("{}", args::DEMO_HELP);
                ExitCode::SUCCESS
            }
            Ok(args::Parsed::Demo(options)) => demo::run(options),
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        },
        Some("diff") => match diff::parse(args) {
            Ok(None) => {
                print!("{}", diff::DIFF_HELP);
                ExitCode::SUCCESS
            }
            Ok(Some(options)) => diff::run(options, &workspace_root()),
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        },
        Some("book") => book::run(&workspace_root()),
        Some("bench") => match bench::parse(args) {
            Ok(None) => {
                print!("{}", bench::BENCH_HELP);
                ExitCode::SUCCESS
            }
            Ok(Some(options)) => bench::run(options),
            Err(err) => {
                eprintln!("error: {err} (see cargo xtask bench --help)");
                ExitCode::from(2)
            }
        },
        Some("check") => match check::parse(args) {
            Ok(None) => {
                print!("{}", check::CHECK_HELP);
                ExitCode::SUCCESS
            }
            Ok(Some(options)) => check::run(options),
            Err(err) => {
                eprintln!("error: {err} (see cargo xtask check --help)");
                ExitCode::from(2)
            }
        },
        Some("workshop") => match workshop::parse(args) {
            Ok(None) => {
                print!("{}", workshop::WORKSHOP_HELP);
                ExitCode::SUCCESS
            }
            Ok(Some(action)) => workshop::run(action, &workspace_root()),
            Err(err) => {
                eprintln!("error: {err} (see cargo xtask workshop --help)");
                ExitCode::from(2)
            }
        },
        Some("doctor") => match doctor::parse(args) {
            Ok(None) => {
                print!("{}", doctor::DOCTOR_HELP);
                ExitCode::SUCCESS
            }
            Ok(Some(options)) => doctor::run(options, &workspace_root()),
            Err(err) => {
                eprintln!("error: {err} (see cargo xtask doctor --help)");
                ExitCode::from(2)
            }
        },
        Some(_) => {
            let other = command.unwrap_or_default();
            eprint!(
                "error: unknown command {:?}\n\n{USAGE}",
                other.to_string_lossy()
            );
            ExitCode::from(2)
        }
    }
}

/// The workspace's root folder: the parent of this crate's.
fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}
