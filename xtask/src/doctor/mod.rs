//! `cargo xtask doctor`: run on each laptop the day before a workshop, on a good network. It
//! checks what the workshop needs, in order: a recent enough rustc, every crate of Cargo.lock
//! downloaded (so builds work without a network), the servers' port free, a release build
//! that works offline, the book built offline with its builder, and loopback TCP (some
//! locked-down laptops block it). Each check ends as `ok`, or `FIX` with what to do.
//!
//! cargo's own output (the downloads, the build's progress) streams to stderr while the checks
//! run; the report, one line per check and a summary, is printed to stdout at the end, so every
//! fix is on screen together however long the build was.

use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

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
enum Outcome {
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

impl Outcome {
    fn fix(problem: impl Into<String>, fixes: &[&str]) -> Outcome {
        Outcome::Fix {
            problem: problem.into(),
            details: Vec::new(),
            fixes: fixes.iter().map(|fix| fix.to_string()).collect(),
        }
    }

    fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
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
fn report_line(style: Style, name: &str, outcome: &Outcome) -> String {
    let indent = " ".repeat(MARK_COLUMNS + NAME_COLUMNS);
    match outcome {
        Outcome::Ok(message) => format!(
            "{}{}{message}\n",
            pad(&style.paint(Color::Green, "ok"), MARK_COLUMNS),
            pad(name, NAME_COLUMNS)
        ),
        Outcome::Fix {
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

// ---------------------------------------------------------------------------------------------
// 1. toolchain

fn check_toolchain(root: &Path) -> Outcome {
    let manifest = root.join("Cargo.toml");
    let needed = match fs::read_to_string(&manifest) {
        Ok(text) => workspace_rust_version(&text),
        Err(err) => {
            return Outcome::fix(
                format!("cannot read {}: {err}", manifest.display()),
                &["run `cargo xtask doctor` from the project's folder, a complete git clone"],
            );
        }
    };

    let from_env = std::env::var_os("RUSTC");
    let rustc = from_env.clone().unwrap_or_else(|| "rustc".into());
    let output = match Command::new(&rustc)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            return Outcome::Fix {
                problem: format!(
                    "`{} --version` failed ({})",
                    rustc.to_string_lossy(),
                    output.status
                ),
                details: last_lines(&String::from_utf8_lossy(&output.stderr), FETCH_TAIL),
                fixes: vec!["run `rustup update stable`, then `rustup default stable`".into()],
            };
        }
        Err(err) if from_env.is_some() => {
            return Outcome::fix(
                format!(
                    "RUSTC is set to {}, which cannot be run: {err}",
                    rustc.to_string_lossy()
                ),
                &["unset RUSTC, or point it to a working rustc"],
            );
        }
        Err(err) => {
            return Outcome::fix(
                format!("cannot run rustc: {err}"),
                &[
                    "install Rust with rustup (see the Rust website's install page)",
                    "then open a new terminal, so that rustc is on the PATH",
                ],
            );
        }
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    let Some((shown, version)) = rustc_version(&printed) else {
        return Outcome::fix(
            format!(
                "cannot read a version in `rustc --version`: {:?}",
                printed.trim()
            ),
            &["run `rustup update stable`, then `rustup default stable`"],
        );
    };

    let Some(needed_text) = needed else {
        return Outcome::Ok(format!("rustc {shown} (Cargo.toml sets no rust-version)"));
    };
    let Some(needed) = parse_version(&needed_text) else {
        return Outcome::fix(
            format!("the rust-version in Cargo.toml, {needed_text:?}, is not a version like 1.85"),
            &["restore the project's Cargo.toml with `git checkout Cargo.toml`"],
        );
    };
    if at_least(&version, &needed) {
        Outcome::Ok(format!(
            "rustc {shown} (the project needs {needed_text} or newer)"
        ))
    } else {
        Outcome::Fix {
            problem: format!("rustc {shown} is too old: the project needs {needed_text} or newer"),
            details: Vec::new(),
            fixes: vec![
                "run `rustup update stable`".into(),
                format!(
                    "if `rustc --version` still shows {shown}, run `rustup default stable` too"
                ),
            ],
        }
    }
}

/// `rust-version` of `[workspace.package]` in the root Cargo.toml: a line parse, enough for
/// `rust-version = "1.85"` with spaces and a comment.
fn workspace_rust_version(manifest: &str) -> Option<String> {
    let mut in_section = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            in_section = header == "[workspace.package]";
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "rust-version" {
            continue;
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|quote| value.strip_prefix(*quote)?.strip_suffix(*quote));
        return unquoted.map(str::to_string);
    }
    None
}

/// The version in `rustc --version`'s output, as printed (`1.96.0-nightly`) and as numbers.
fn rustc_version(printed: &str) -> Option<(&str, Vec<u64>)> {
    let mut words = printed.split_whitespace();
    if words.next() != Some("rustc") {
        return None;
    }
    let shown = words.next()?;
    let numbers = shown.split('-').next()?;
    Some((shown, parse_version(numbers)?))
}

/// `1.85` or `1.95.0` as numbers; `None` for anything else.
fn parse_version(text: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = text.split('.').map(|part| part.parse().ok()).collect();
    parts.filter(|parts| (1..=3).contains(&parts.len()))
}

/// Whether `have` is `need` or newer, comparing numbers (1.100 > 1.85); a missing part is 0.
fn at_least(have: &[u64], need: &[u64]) -> bool {
    let part = |version: &[u64], i: usize| version.get(i).copied().unwrap_or(0);
    for i in 0..have.len().max(need.len()) {
        match part(have, i).cmp(&part(need, i)) {
            Ordering::Greater => return true,
            Ordering::Less => return false,
            Ordering::Equal => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// 2. crates

fn check_crates(cargo: &OsStr, root: &Path) -> Outcome {
    eprintln!("checking the crates: cargo fetch --locked ...");
    let mut child = match Command::new(cargo)
        .args(["fetch", "--locked", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => return cannot_run_cargo(cargo, err),
    };
    // cargo's lines ("Downloaded tokio v1.48.0") are passed on as they come, so a long first
    // download does not look hung; from its first error on, they are kept for the report.
    let mut lines = Vec::new();
    let mut failing = false;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            failing |= line.trim_start().starts_with("error");
            if !failing {
                eprintln!("{line}");
            }
            lines.push(line);
        }
    }
    let status = match child.wait() {
        Ok(status) => status,
        Err(err) => return cannot_run_cargo(cargo, err),
    };
    if status.success() {
        return Outcome::Ok(
            "every crate in Cargo.lock is downloaded: builds work without a network".into(),
        );
    }
    let stderr = lines.join("\n");
    let fixes: &[&str] = if stderr.contains("--locked was passed") {
        &[
            "Cargo.lock does not match the Cargo.toml files: restore the project's own with \
             `git checkout Cargo.lock` in the project's folder",
            "then run `cargo xtask doctor` again, on a network",
        ]
    } else {
        &[
            "connect to a network and run `cargo fetch --locked` in the project's folder",
            "if it says Cargo.lock needs to be updated, run `git checkout Cargo.lock` first",
        ]
    };
    let mut outcome = Outcome::fix(
        format!("cargo could not download every crate in Cargo.lock ({status}):"),
        fixes,
    );
    if let Outcome::Fix { details, .. } = &mut outcome {
        *details = last_lines(&stderr, FETCH_TAIL);
    }
    outcome
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

fn cannot_run_cargo(cargo: &OsStr, err: io::Error) -> Outcome {
    Outcome::fix(
        format!("cannot run {}: {err}", cargo.to_string_lossy()),
        &["run the doctor with cargo itself: `cargo xtask doctor`, in the project's folder"],
    )
}

// ---------------------------------------------------------------------------------------------
// 3. port

/// Binds 127.0.0.1:`port` like the servers do; the listener, if any, is for the loopback check.
fn check_port(port: u16) -> (Outcome, io::Result<TcpListener>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
    let outcome = match &listener {
        Ok(_) => Outcome::Ok(format!(
            "127.0.0.1:{port} is free for the servers (their default: --port {DEFAULT_PORT})"
        )),
        Err(err) => port_problem(port, err),
    };
    (outcome, listener)
}

fn port_problem(port: u16, err: &io::Error) -> Outcome {
    match err.kind() {
        io::ErrorKind::AddrInUse => {
            let mut fixes = vec![format!(
                "stop it (an earlier server still running? press Ctrl-C in its terminal), \
                 or run the servers with {}",
                other_port(port)
            )];
            if cfg!(windows) {
                fixes.push(format!(
                    "see which program it is: `netstat -ano | findstr :{port}`"
                ));
            } else {
                fixes.push(format!("see which program it is: `lsof -i :{port}`"));
            }
            Outcome::Fix {
                problem: format!("port {port} is in use by another program"),
                details: Vec::new(),
                fixes,
            }
        }
        io::ErrorKind::PermissionDenied => {
            let mut fixes = Vec::new();
            if port < 1024 {
                fixes.push(format!(
                    "ports below 1024 need extra rights: use the default, --port {DEFAULT_PORT}"
                ));
            } else if cfg!(windows) {
                fixes.push(format!(
                    "Windows may reserve it (`netsh interface ipv4 show excludedportrange \
                     protocol=tcp`): run the servers with {}",
                    other_port(port)
                ));
            } else {
                fixes.push(format!("run the servers with {}", other_port(port)));
            }
            fixes.push(
                "if every port is refused, ask whoever manages this laptop to allow \
                 listening on 127.0.0.1"
                    .into(),
            );
            Outcome::Fix {
                problem: format!("not allowed to listen on 127.0.0.1:{port}: {err}"),
                details: Vec::new(),
                fixes,
            }
        }
        _ => Outcome::fix(
            format!("cannot listen on 127.0.0.1:{port}: {err}"),
            &[
                "check that loopback (127.0.0.1) is enabled; ask whoever manages this \
                 laptop if a security tool blocks it",
            ],
        ),
    }
}

/// The `--port` to suggest instead of `port`: 8080 (or 8081) if it is free now, else 0.
fn other_port(port: u16) -> String {
    let candidate = if port == 8080 { 8081 } else { 8080 };
    if TcpListener::bind((Ipv4Addr::LOCALHOST, candidate)).is_ok() {
        format!("`--port {candidate}`")
    } else {
        "`--port 0` (the server then prints the port it picked)".to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// 4. build

fn check_build(cargo: &OsStr, root: &Path) -> Outcome {
    let manifest = root.join("Cargo.toml");
    let packages = match packages_to_build(cargo, &manifest) {
        Ok(packages) => packages,
        Err(problem) => {
            return Outcome::fix(
                problem,
                &["run `cargo metadata --no-deps` in the project's folder and read its error"],
            );
        }
    };
    eprintln!(
        "checking the build: cargo build --release --locked --offline -p {} ...",
        packages.join(" -p ")
    );
    let started = Instant::now();
    let status = crate::cargo::release_build(cargo, &manifest)
        .arg("--offline")
        .args(packages.iter().flat_map(|package| ["-p", package.as_str()]))
        .current_dir(root)
        .stdout(Stdio::null())
        // cargo's own progress, on the terminal: a slow first build does not look hung.
        .stderr(Stdio::inherit())
        .status();
    let took = started.elapsed();
    match status {
        Ok(status) if status.success() => Outcome::Ok(format!(
            "built in {} ({} packages in release mode, without a network)",
            seconds(took),
            packages.len()
        )),
        Ok(status) => Outcome::fix(
            format!("the release build failed ({status}); cargo's first `error` above says why"),
            &[
                "run `cargo build --release` in the project's folder and read the first error",
                "if it says the network is needed (or --offline), run `cargo fetch --locked` \
                 on a network first (the crates check)",
            ],
        ),
        Err(err) => cannot_run_cargo(cargo, err),
    }
}

/// `cargo xtask book`, offline: its builder builds (in debug mode, as `cargo xtask book`
/// builds it), and the book builds with it.
fn check_book(cargo: &OsStr, root: &Path) -> Outcome {
    eprintln!(
        "checking the book: cargo build --locked --offline -p {} ...",
        crate::book::BUILDER
    );
    let started = Instant::now();
    let fixes = [
        "run `cargo xtask book` in the project's folder and read the first error",
        "if it says the network is needed (or --offline), run `cargo fetch --locked` on a \
         network first (the crates check)",
    ];
    let builder = match crate::book::build_builder(cargo, root, true) {
        Ok(builder) => builder,
        Err(problem) => return Outcome::fix(problem, &fixes),
    };
    let docs = root.join("docs");
    let output = Command::new(&builder)
        .arg("build")
        .arg(&docs)
        .stdin(Stdio::null())
        .output();
    let took = started.elapsed();
    match output {
        Ok(output) if output.status.success() => Outcome::Ok(format!(
            "the book builds without a network, in {} (cargo xtask book; --serve to read it)",
            seconds(took)
        )),
        Ok(output) => Outcome::Fix {
            problem: format!("the book did not build ({})", output.status),
            details: last_lines(&String::from_utf8_lossy(&output.stderr), FETCH_TAIL),
            fixes: fixes.iter().map(|fix| fix.to_string()).collect(),
        },
        Err(err) => Outcome::fix(format!("cannot run {}: {err}", builder.display()), &fixes),
    }
}

/// `41 s`, or `3.2 s` and `450 ms` for a build that had little to do.
fn seconds(took: Duration) -> String {
    if took >= Duration::from_secs(10) {
        format!("{:.0} s", took.as_secs_f64())
    } else {
        units::short(took)
    }
}

/// The packages the workshop builds, read with `cargo metadata --no-deps`.
fn packages_to_build(cargo: &OsStr, manifest: &Path) -> Result<Vec<String>, String> {
    build_list(&crate::cargo::metadata(cargo, manifest)?)
}

/// The workspace's default members, then `workshop` and `xtask` if the workspace has them.
fn build_list(metadata: &Value) -> Result<Vec<String>, String> {
    let packages = metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let name_of = |id: &str| {
        packages
            .iter()
            .find(|package| package["id"].as_str() == Some(id))
            .and_then(|package| package["name"].as_str())
    };
    let Some(defaults) = metadata["workspace_default_members"].as_array() else {
        return Err(
            "`cargo metadata` does not list the default members: this cargo is too old \
             (run `rustup update stable`)"
                .into(),
        );
    };
    let mut names: Vec<String> = Vec::new();
    for id in defaults.iter().filter_map(Value::as_str) {
        if let Some(name) = name_of(id) {
            names.push(name.to_string());
        }
    }
    for extra in EXTRA_PACKAGES {
        let present = packages.iter().any(|p| p["name"].as_str() == Some(extra));
        if present && !names.iter().any(|name| name == extra) {
            names.push(extra.to_string());
        }
    }
    if names.is_empty() {
        return Err("`cargo metadata` lists no package to build".into());
    }
    Ok(names)
}

// ---------------------------------------------------------------------------------------------
// 5. loopback

fn check_loopback(listener: io::Result<TcpListener>) -> Outcome {
    let fixes = [
        "ask whoever manages this laptop to allow connections to 127.0.0.1 (loopback): \
         the workshop's servers and clients talk over it",
        "a firewall, VPN or antivirus that filters local connections is the usual cause",
    ];
    let listener = match listener {
        Ok(listener) => listener,
        Err(err) => return Outcome::fix(format!("cannot listen on 127.0.0.1: {err}"), &fixes),
    };
    match round_trip(&listener) {
        Ok(address) => Outcome::Ok(format!(
            "a connection to {address} was accepted and carried data"
        )),
        Err(problem) => Outcome::fix(problem, &fixes),
    }
}

/// Connects to `listener` from a second socket, accepts that connection, and sends a few
/// bytes through it; the listener's address on success.
fn round_trip(listener: &TcpListener) -> Result<SocketAddr, String> {
    const HELLO: &[u8] = b"doctor";
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the listener's address: {err}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|err| format!("cannot set up the listener on {address}: {err}"))?;
    let mut client = TcpStream::connect_timeout(&address, LOOPBACK_TIMEOUT)
        .map_err(|err| format!("cannot connect to {address}: {err}"))?;
    let client_address = client
        .local_addr()
        .map_err(|err| format!("cannot read the client's address: {err}"))?;
    let deadline = Instant::now() + LOOPBACK_TIMEOUT;
    let mut server = loop {
        if Instant::now() >= deadline {
            return Err(format!(
                "connected to {address}, but the connection never arrived at the listener"
            ));
        }
        match listener.accept() {
            // Another program's connection to our port is not the one we are waiting for.
            Ok((stream, peer)) if peer == client_address => break stream,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(format!("cannot accept a connection on {address}: {err}")),
        }
    };
    // An accepted socket may inherit the listener's non-blocking mode (Windows, macOS).
    server
        .set_nonblocking(false)
        .and_then(|()| server.set_read_timeout(Some(LOOPBACK_TIMEOUT)))
        .map_err(|err| format!("cannot set up the accepted connection: {err}"))?;
    client
        .write_all(HELLO)
        .map_err(|err| format!("cannot send on the connection to {address}: {err}"))?;
    let mut received = [0; HELLO.len()];
    server
        .read_exact(&mut received)
        .map_err(|err| format!("connected to {address}, but no data arrived: {err}"))?;
    if received != HELLO {
        return Err(format!(
            "connected to {address}, but the data arrived changed"
        ));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
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
            Outcome::Fix { problem, fixes, .. } => {
                assert_eq!(problem, format!("port {port} is in use by another program"));
                assert!(fixes[0].contains("--port "), "{fixes:?}");
                assert!(fixes[1].contains(&format!(":{port}")), "{fixes:?}");
            }
            Outcome::Ok(message) => panic!("port {port} is held, yet: {message}"),
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
            &Outcome::fix("port 1 is in use", &["stop it"]),
        );
        assert_eq!(
            line,
            "FIX  port       port 1 is in use\n                → stop it\n"
        );
    }
}
