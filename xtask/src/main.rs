//! `cargo xtask`: the project's own commands, written in Rust so they run wherever cargo does.
//! One folder per command, with the pieces they share beside them; every command reads its
//! options into a [`Command`], and [`run`] is the one dispatch. Rendering (terminal, JSON,
//! HTML) happens here, from the typed results of the measuring core (`measure`).
//!
//! The commands:
//! - [`demo`]: the slow-request demo, the one that matters most: it runs the same slow
//!   request against every stage and shows, as a timeline and a table, which stage made the
//!   fast requests wait. Its table, timeline, JSON and HTML are in its folder.
//! - [`diff`] (`cargo xtask diff 3 4`), [`book`] (`cargo xtask book`), [`bench`]
//!   (`cargo xtask bench`, with its load from `measure::load`).
//! - For classroom workshops: [`check`] (measure any server's model from outside),
//!   [`workshop`] (the guided exercises) and [`doctor`] (the day before a workshop: is this
//!   laptop ready?).
//! - [`busy`]: a command beside busy loops, to test the tools on a busy machine.
//!
//! Shared: [`args`] (option values, stage and runtime lists), [`cargo`] (the one way to run
//! cargo: find the workspace, build binaries), [`checkout`] (which clone xtask runs in),
//! [`pipeline`] (running a scenario against a set of binaries, for the demo and the lab),
//! [`usage_error`] (a command line that cannot be run; a command that fails at its work prints
//! its own error), [`stop`] (Ctrl-C stops every server started), [`progress`], [`style`] and
//! [`units`].

mod args;
mod bench;
mod book;
mod busy;
mod cargo;
mod check;
mod checkout;
mod demo;
mod diff;
mod doctor;
mod lab;
mod output;
mod pipeline;
mod progress;
mod stop;
mod style;
mod units;
mod usage_error;
mod workshop;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::usage_error::UsageError;

const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  demo     run the slow-request demo against every stage (see cargo xtask demo --help)
  diff     show the code that changes between two stages, e.g. `cargo xtask diff 3 4`
  book     build the book in docs/ (--serve: and serve it), nothing to install
  bench    throughput and memory per waiting connection, beside axum (see --help)
  check    measure which model any server behaves like, and its contract (see --help)
  workshop guided exercises and find-the-bug servers (list, start, check, watch, hint)
  doctor   check this laptop is ready for a workshop (toolchain, offline crates, port, build)
  lab      the demo live in a browser: bars grow as requests wait (see --help)
  busy     run a command beside busy loops, as on a busy laptop (see --help)
  help     print this help

Options:
  -h, --help     print this help
  -V, --version  print the version
";

/// What the command line asked for: one command, with its options parsed.
enum Command {
    Demo(demo::args::DemoOptions),
    Diff(diff::DiffOptions),
    Book(book::BookOptions),
    Bench(bench::BenchOptions),
    Check(check::CheckOptions),
    Workshop(workshop::Action),
    Doctor(doctor::DoctorOptions),
    Lab(lab::LabOptions),
    Busy(busy::BusyOptions),
}

/// A command, or a request for help or the version.
enum Parsed {
    Run(Command),
    Help(&'static str),
    Version,
}

fn main() -> ExitCode {
    match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Help(text)) => {
            output::stdout(text);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Version) => {
            // The checkout too: with a target directory shared between clones, which clone a
            // run works on is worth seeing.
            let checkout = checkout::workspace_root()
                .map_or_else(|err| err, |root| root.display().to_string());
            println!("cargo xtask {} ({checkout})", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(command)) => run(command),
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

/// Reads the command line: the command's name, then that command's own options.
fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Parsed, UsageError> {
    let Some(name) = args.next() else {
        return Ok(Parsed::Help(USAGE));
    };
    // Each command's parser gives `Ok(None)` for its --help.
    fn command<T>(
        name: &'static str,
        help: &'static str,
        parsed: Result<Option<T>, String>,
        command: fn(T) -> Command,
    ) -> Result<Parsed, UsageError> {
        match parsed {
            Ok(Some(options)) => Ok(Parsed::Run(command(options))),
            Ok(None) => Ok(Parsed::Help(help)),
            Err(message) => Err(UsageError::bad_options(name, message)),
        }
    }
    match name.to_str() {
        Some("help" | "--help" | "-h") => Ok(Parsed::Help(USAGE)),
        Some("--version" | "-V") => Ok(Parsed::Version),
        Some("demo") => command(
            "demo",
            demo::args::DEMO_HELP,
            demo::args::parse(args),
            Command::Demo,
        ),
        Some("diff") => command("diff", diff::DIFF_HELP, diff::parse(args), Command::Diff),
        Some("book") => command("book", book::BOOK_HELP, book::parse(args), Command::Book),
        Some("bench") => command(
            "bench",
            bench::BENCH_HELP,
            bench::parse(args),
            Command::Bench,
        ),
        Some("check") => command(
            "check",
            check::CHECK_HELP,
            check::parse(args),
            Command::Check,
        ),
        Some("workshop") => command(
            "workshop",
            workshop::WORKSHOP_HELP,
            workshop::parse(args),
            Command::Workshop,
        ),
        Some("doctor") => command(
            "doctor",
            doctor::DOCTOR_HELP,
            doctor::parse(args),
            Command::Doctor,
        ),
        Some("lab") => command("lab", lab::LAB_HELP, lab::parse(args), Command::Lab),
        Some("busy") => command("busy", busy::BUSY_HELP, busy::parse(args), Command::Busy),
        _ => Err(UsageError::UnknownCommand(
            name.to_string_lossy().into_owned(),
        )),
    }
}

fn run(command: Command) -> ExitCode {
    let root = match checkout::workspace_root() {
        Ok(root) => root,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Demo(options) => demo::run(options),
        Command::Diff(options) => diff::run(options, &root),
        Command::Book(options) => book::run(options, &root),
        Command::Bench(options) => bench::run(options),
        Command::Check(options) => check::run(options),
        Command::Workshop(action) => workshop::run(action, &root),
        Command::Doctor(options) => doctor::run(options, &root),
        Command::Lab(options) => lab::run(options),
        Command::Busy(options) => busy::run(options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Parsed, UsageError> {
        parse(words.split_whitespace().map(OsString::from))
    }

    #[test]
    fn help_version_and_mistakes() {
        assert!(matches!(parse_words(""), Ok(Parsed::Help(USAGE))));
        assert!(matches!(parse_words("--version"), Ok(Parsed::Version)));
        assert!(matches!(parse_words("-V"), Ok(Parsed::Version)));
        assert!(matches!(
            parse_words("demo --help"),
            Ok(Parsed::Help(demo::args::DEMO_HELP))
        ));
        assert!(matches!(
            parse_words("book --help"),
            Ok(Parsed::Help(book::BOOK_HELP))
        ));
        let Err(err) = parse_words("demo --bogus") else {
            panic!("--bogus is not a demo option");
        };
        assert_eq!(err.exit_code(), ExitCode::from(2));
        assert!(
            err.to_string().contains("see cargo xtask demo --help"),
            "{err}"
        );
        let Err(err) = parse_words("demolish") else {
            panic!("demolish is not a command");
        };
        assert!(err.to_string().contains("unknown command"), "{err}");
    }
}
