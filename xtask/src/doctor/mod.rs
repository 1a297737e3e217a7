//! `cargo xtask doctor`: run on each laptop the day before a workshop, on a good network. It
//! checks what the workshop needs, in order: a recent enough rustc, every crate of Cargo.lock
//! downloaded (so builds work without a network), the servers' port free, a release build
//! that works offline, the book built offline with its builder, and loopback TCP (some
//! locked-down laptops block it). Each check ends as `ok`, or `FIX` with what to do.
//!
//! cargo's own output (the downloads, the build's progress) streams to stderr while the checks
//! run; the report, one line per check and a summary, is printed to stdout at the end, so every
//! fix is on screen together however long the build was.
//!
//! Each check is a file of this folder that returns a [`Diagnosis`]; this file runs them and
//! prints the report.

mod book;
mod build;
mod crates;
mod loopback;
mod port;
mod toolchain;

use std::ffi::{OsStr, OsString};
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use book::check_book;
use build::check_build;
use crates::check_crates;
use loopback::check_loopback;
use port::check_port;
use toolchain::check_toolchain;

use crate::style::{Color, Style, pad};
use crate::units;

pub const DOCTOR_HELP: &str = "\
cargo xtask doctor: check that this laptop is ready for a workshop. Run it the
day before, on a good network: it downloads every crate the workshop needs and
builds the project once, so that on the day it builds without a network.

Usage: cargo xtask doctor [--port N]

Checks, in order:
  toolchain  rustc is at least the project's rust-version (Cargo.toml)
  crates     every crate in Cargo.lock is downloaded (cargo fetch --locked)
  port       the servers' port on 127.0.0.1 is free               [7878]
  build      the project builds in release mode without a network
  book       the book's builder (mdBook, from Cargo.lock) builds without a
             network, and builds the book (cargo xtask book)
  loopback   a connection to 127.0.0.1 is accepted and carries data

Each check prints `ok`, or `FIX` and what to do. cargo's own messages (the
downloads, the build's progress) appear while the checks run; the first build
takes a few minutes.

Options:
  --port N     check port N instead of 7878 (if you run the servers with --port N)
  -h, --help   print this help

Exit status: 0 when every check is ok, 1 when one needs a fix, 2 on a bad option.
";

/// The servers' default port (`--port` of every stage).
pub const DEFAULT_PORT: u16 = 7878;
/// How many of cargo's last stderr lines a failed `cargo fetch` shows.
const FETCH_TAIL: usize = 8;
/// How long the loopback check waits to connect, to accept, and to read.
const LOOPBACK_TIMEOUT: Duration = Duration::from_secs(3);
/// Packages built besides the default members, when the workspace has them.
const EXTRA_PACKAGES: [&str; 2] = ["workshop", "xtask"];
/// The columns of the report: `ok   toolchain  rustc 1.95.0 …`.
const MARK_COLUMNS: usize = 5;
const NAME_COLUMNS: usize = 11;

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct DoctorOptions {
    pub port: u16,
}

/// Parses the arguments after `doctor`; `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<DoctorOptions>, String> {
    use lexopt::prelude::*;

    let mut port = DEFAULT_PORT;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("port") => {
                let value = parser.value().map_err(|err| err.to_string())?;
                port = match value.to_str().and_then(|text| text.parse::<u16>().ok()) {
                    Some(port) if port > 0 => port,
                    _ => {
                        return Err(format!(
                            "--port takes a port number from 1 to 65535, not {:?}",
                            value.to_string_lossy()
                        ));
                    }
                };
            }
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(DoctorOptions { port }))
}

/// How one check ended.
#[derive(Debug, PartialEq, Eq)]
enum Diagnosis {
    Ok(String),
    Fix {
        /// What is wrong, in one line.
        problem: String,
        /// What a tool said about it (cargo's last lines), shown as it is.
        details: Vec<String>,
        /// What to do, one step a line.
        fixes: Vec<String>,
    },
}

impl Diagnosis {
    fn fix(problem: impl Into<String>, fixes: &[&str]) -> Diagnosis {
        Diagnosis::Fix {
            problem: problem.into(),
            details: Vec::new(),
            fixes: fixes.iter().map(|fix| fix.to_string()).collect(),
        }
    }

    fn is_ok(&self) -> bool {
        matches!(self, Diagnosis::Ok(_))
    }
}

/// Runs every check, prints the report, and exits 0 when all are ok, 1 otherwise.
pub fn run(options: DoctorOptions, root: &Path) -> ExitCode {
    let cargo = crate::cargo::cargo();
    let toolchain = check_toolchain(root);
    let crates = check_crates(&cargo, root);
    let (port, listener) = check_port(options.port);
    // Loopback uses the port check's listener (or any free port, if that one is taken), and
    // is done now so the port is not held during the build.
    let loopback =
        check_loopback(listener.or_else(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0))));
    let build = check_build(&cargo, root);
    let book = check_book(&cargo, root);

    let checks = [
        ("toolchain", toolchain),
        ("crates", crates),
        ("port", port),
        ("build", build),
        ("book", book),
        ("loopback", loopback),
    ];
    let style = Style::for_stdout();
    println!();
    for (name, outcome) in &checks {
        print!("{}", report_line(style, name, outcome));
    }
    let needing_fix = checks
        .iter()
        .filter(|(_, outcome)| !outcome.is_ok())
        .count();
    println!();
    println!("{}", summary(style, needing_fix));
    if needing_fix == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One check's lines of the report: the mark, the name and the message, then the details and
/// the fixes indented under the message.
fn report_line(style: Style, name: &str, outcome: &Diagnosis) -> String {
    let indent = " ".repeat(MARK_COLUMNS + NAME_COLUMNS);
    match outcome {
        Diagnosis::Ok(message) => format!(
            "{}{}{message}\n",
            pad(&style.paint(Color::Green, "ok"), MARK_COLUMNS),
            pad(name, NAME_COLUMNS)
        ),
        Diagnosis::Fix {
            problem,
            details,
            fixes,
        } => {
            let mut text = format!(
                "{}{}{problem}\n",
                pad(&style.paint(Color::Red, "FIX"), MARK_COLUMNS),
                pad(&style.paint(Color::Bold, name), NAME_COLUMNS)
            );
            for detail in details {
                text.push_str(&format!(
                    "{indent}{}\n",
                    style.paint(Color::Dim, &format!("| {detail}"))
                ));
            }
            for fix in fixes {
                text.push_str(&format!(
                    "{indent}{} {fix}\n",
                    style.paint(Color::Yellow, "→")
                ));
            }
            text
        }
    }
}

fn summary(style: Style, needing_fix: usize) -> String {
    match needing_fix {
        0 => style.paint(Color::Green, "Ready for the workshop."),
        1 => "1 check needs a fix; run `cargo xtask doctor` again after fixing it.".to_string(),
        n => format!("{n} checks need a fix; run `cargo xtask doctor` again after fixing them."),
    }
}

/// The last `count` lines of `text` that are not blank.
fn last_lines(text: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let skip = lines.len().saturating_sub(count);
    lines[skip..].iter().map(|line| line.to_string()).collect()
}

fn cannot_run_cargo(cargo: &OsStr, err: io::Error) -> Diagnosis {
    Diagnosis::fix(
        format!("cannot run {}: {err}", cargo.to_string_lossy()),
        &["run the doctor with cargo itself: `cargo xtask doctor`, in the project's folder"],
    )
}

/// `41 s`, or `3.2 s` and `450 ms` for a build that had little to do.
fn seconds(took: Duration) -> String {
    if took >= Duration::from_secs(10) {
        format!("{:.0} s", took.as_secs_f64())
    } else {
        units::short(took)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::build::build_list;
    use super::toolchain::{at_least, parse_version, rustc_version, workspace_rust_version};
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.85"), Some(vec![1, 85]));
        assert_eq!(parse_version("1.95.0"), Some(vec![1, 95, 0]));
        assert_eq!(parse_version("1"), Some(vec![1]));
        assert_eq!(parse_version("1.x"), None);
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("1..2"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
    }

    #[test]
    fn rustc_version_is_read() {
        let stable = "rustc 1.95.0 (59807616e 2026-04-14)\n";
        assert_eq!(rustc_version(stable), Some(("1.95.0", vec![1, 95, 0])));
        let nightly = "rustc 1.97.0-nightly (0123abc 2026-05-01)";
        assert_eq!(
            rustc_version(nightly),
            Some(("1.97.0-nightly", vec![1, 97, 0]))
        );
        assert_eq!(rustc_version("cargo 1.95.0"), None);
        assert_eq!(rustc_version("rustc"), None);
        assert_eq!(rustc_version(""), None);
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert!(at_least(&[1, 100, 0], &[1, 85]));
        assert!(at_least(&[1, 95, 0], &[1, 85]));
        assert!(at_least(&[1, 85, 0], &[1, 85]));
        assert!(at_least(&[1, 85], &[1, 85, 0]));
        assert!(at_least(&[2, 0, 0], &[1, 85]));
        assert!(!at_least(&[1, 84, 1], &[1, 85]));
        assert!(!at_least(&[1, 9, 0], &[1, 85]));
        assert!(!at_least(&[1, 85, 0], &[1, 85, 1]));
    }

    #[test]
    fn rust_version_is_read_from_the_workspace_package() {
        let manifest = "\
[workspace]
members = [\"crates/*\"]

[workspace.package]
edition = \"2024\"
rust-version = \"1.85\"
";
        assert_eq!(workspace_rust_version(manifest).as_deref(), Some("1.85"));
        let spaced = "[ workspace.package ]\n  rust-version='1.90' # the MSRV\n";
        assert_eq!(workspace_rust_version(spaced).as_deref(), Some("1.90"));
        let elsewhere =
            "[package]\nrust-version = \"1.70\"\n[workspace.package]\nedition = \"2024\"\n";
        assert_eq!(workspace_rust_version(elsewhere), None);
        let inherited =
            "[workspace.package]\nedition = \"2024\"\n[package]\nrust-version.workspace = true\n";
        assert_eq!(workspace_rust_version(inherited), None);
        assert_eq!(workspace_rust_version(""), None);
    }

    #[test]
    fn the_real_manifest_has_a_rust_version() {
        let root = crate::checkout::workspace_root().expect("the checkout");
        let text = fs::read_to_string(root.join("Cargo.toml")).expect("the root Cargo.toml");
        let version = workspace_rust_version(&text).expect("a rust-version");
        assert!(parse_version(&version).is_some(), "{version:?}");
    }

    #[test]
    fn a_port_in_use_needs_a_fix() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
        let port = held.local_addr().expect("its address").port();
        let (outcome, listener) = check_port(port);
        assert!(listener.is_err());
        match outcome {
            Diagnosis::Fix { problem, fixes, .. } => {
                assert_eq!(problem, format!("port {port} is in use by another program"));
                assert!(fixes[0].contains("--port "), "{fixes:?}");
                assert!(fixes[1].contains(&format!(":{port}")), "{fixes:?}");
            }
            Diagnosis::Ok(message) => panic!("port {port} is held, yet: {message}"),
        }
    }

    #[test]
    fn a_free_port_is_ok_and_loopback_works() {
        let (outcome, listener) = check_port(0);
        assert!(outcome.is_ok(), "{outcome:?}");
        let loopback = check_loopback(listener);
        assert!(loopback.is_ok(), "{loopback:?}");
    }

    #[test]
    fn the_build_list_adds_workshop_and_xtask_when_present() {
        let package =
            |name: &str| json!({"name": name, "id": format!("path+file:///w/{name}#0.1.0")});
        let id = |name: &str| json!(format!("path+file:///w/{name}#0.1.0"));
        let without = json!({
            "packages": [package("stage-1"), package("harness"), package("xtask")],
            "workspace_default_members": [id("stage-1"), id("harness")],
        });
        assert_eq!(
            build_list(&without),
            Ok(vec!["stage-1".into(), "harness".into(), "xtask".into()])
        );
        let with = json!({
            "packages": [package("stage-1"), package("workshop"), package("xtask")],
            "workspace_default_members": [id("stage-1"), id("workshop")],
        });
        assert_eq!(
            build_list(&with),
            Ok(vec!["stage-1".into(), "workshop".into(), "xtask".into()])
        );
        let old_cargo = json!({ "packages": [package("stage-1")] });
        assert!(build_list(&old_cargo).is_err());
    }

    #[test]
    fn last_lines_skip_blanks() {
        let text = "a\n\nerror: x\n\nCaused by:\n  y\n";
        assert_eq!(last_lines(text, 2), vec!["Caused by:", "  y"]);
        assert_eq!(
            last_lines(text, 10),
            vec!["a", "error: x", "Caused by:", "  y"]
        );
    }

    #[test]
    fn options_parse() {
        let parse_strs = |args: &[&str]| parse(args.iter().map(OsString::from));
        assert_eq!(parse_strs(&[]), Ok(Some(DoctorOptions { port: 7878 })));
        assert_eq!(
            parse_strs(&["--port", "8080"]),
            Ok(Some(DoctorOptions { port: 8080 }))
        );
        assert_eq!(
            parse_strs(&["--port=9000"]),
            Ok(Some(DoctorOptions { port: 9000 }))
        );
        assert_eq!(parse_strs(&["--help"]), Ok(None));
        assert!(parse_strs(&["--port", "0"]).is_err());
        assert!(parse_strs(&["--port", "70000"]).is_err());
        assert!(parse_strs(&["--port"]).is_err());
        assert!(parse_strs(&["--verbose"]).is_err());
        assert!(parse_strs(&["extra"]).is_err());
    }

    #[test]
    fn the_summary_counts_fixes() {
        let plain = Style::plain();
        assert_eq!(summary(plain, 0), "Ready for the workshop.");
        assert!(summary(plain, 1).starts_with("1 check needs a fix;"));
        assert!(
            summary(plain, 2).starts_with("2 checks need a fix; run `cargo xtask doctor` again")
        );
        let line = report_line(
            plain,
            "port",
            &Diagnosis::fix("port 1 is in use", &["stop it"]),
        );
        assert_eq!(
            line,
            "FIX  port       port 1 is in use\n                → stop it\n"
        );
    }
}
