//! Finding the workspace and building the stage binaries in release mode, with the same cargo
//! that runs `cargo xtask` (the `CARGO` environment variable), into the workspace's usual
//! target directory, so the demo runs the very binaries `cargo run --release -p stage-N` runs.
//!
//! cargo decides the target directory (honouring `CARGO_TARGET_DIR` and `.cargo/config.toml`),
//! and the demo runs the executables cargo's JSON messages name, so it never guesses a path.
//!
//! A stage that does not build is only marked failed: cargo is run with `--keep-going`, and
//! which binaries were built is read from cargo's own JSON messages.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;

use crate::progress::ProgressLine;
use crate::stop;

/// A binary target to build: its cargo package and its name. The stages' come from the
/// catalogue; the bench adds its reference server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinTarget {
    pub package: &'static str,
    pub name: &'static str,
}

impl From<&measure::catalogue::Binary> for BinTarget {
    fn from(binary: &measure::catalogue::Binary) -> BinTarget {
        BinTarget {
            package: binary.package,
            name: binary.name,
        }
    }
}

/// How many lines of a compiler error the demo shows; the rest is one `cargo build` away.
const ERROR_LINES: usize = 12;

/// The workspace as `cargo metadata` sees it.
pub struct Workspace {
    pub cargo: OsString,
    pub manifest: PathBuf,
    /// Package name → its manifest path and binary targets.
    packages: BTreeMap<String, Package>,
}

struct Package {
    manifest_path: String,
    bins: Vec<String>,
}

/// The cargo to run: the one running us, else `cargo` on the PATH.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `cargo metadata --no-deps` of the workspace at `manifest`, parsed.
pub fn metadata(cargo: &OsStr, manifest: &Path) -> Result<Value, String> {
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata` failed, so the workspace cannot be read:\n{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("`cargo metadata` printed something that is not JSON: {err}"))
}

/// The workspace this xtask belongs to.
pub fn workspace() -> Result<Workspace, String> {
    let root = crate::checkout::workspace_root()?;
    let manifest = root.join("Cargo.toml");
    let cargo = cargo();
    let metadata = metadata(&cargo, &manifest)?;
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let Some(name) = package["name"].as_str() else {
            continue;
        };
        let bins = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|target| has_kind(target, "bin"))
            .filter_map(|target| target["name"].as_str().map(str::to_string))
            .collect();
        let manifest_path = package["manifest_path"].as_str().unwrap_or("").to_string();
        packages.insert(
            name.to_string(),
            Package {
                manifest_path,
                bins,
            },
        );
    }
    Ok(Workspace {
        cargo,
        manifest,
        packages,
    })
}

fn has_kind(target: &Value, kind: &str) -> bool {
    target["kind"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k.as_str() == Some(kind)))
}

/// The binary that a `compiler-artifact` message of cargo's JSON output reports: its name
/// and its executable.
pub fn built_binary(message: &Value) -> Option<(&str, PathBuf)> {
    let target = &message["target"];
    if message["reason"] != "compiler-artifact" || !has_kind(target, "bin") {
        return None;
    }
    let executable = PathBuf::from(message["executable"].as_str()?);
    Some((target["name"].as_str()?, executable))
}

/// What building gave: each binary's executable, or why there is none (the compiler's words,
/// cut to [`ERROR_LINES`]).
pub type Built = HashMap<String, Result<PathBuf, String>>;

/// Builds `binaries` in release mode. Never fails as a whole: each binary gets its result.
pub fn build(workspace: &Workspace, binaries: &[BinTarget]) -> Built {
    let mut built = Built::new();
    // Binaries that do not exist yet are not asked for: cargo would refuse the whole command.
    let mut wanted = Vec::new();
    for binary in binaries {
        match workspace.packages.get(binary.package) {
            None => fail(
                &mut built,
                binary,
                format!(
                    "there is no package {} in the workspace yet",
                    binary.package
                ),
            ),
            Some(package) if !package.bins.iter().any(|bin| bin == binary.name) => fail(
                &mut built,
                binary,
                format!(
                    "package {} has no binary {} yet",
                    binary.package, binary.name
                ),
            ),
            Some(_) => wanted.push(binary),
        }
    }
    if wanted.is_empty() {
        return built;
    }

    let progress = ProgressLine::start(format!(
        "building {} binar{} in release mode (the first build takes minutes)",
        wanted.len(),
        if wanted.len() == 1 { "y" } else { "ies" }
    ));
    let mut report = cargo_build(workspace, &wanted, &progress);
    let packages: Vec<&str> = unique(wanted.iter().map(|b| b.package));
    if !report.success && report.executables.is_empty() && packages.len() > 1 {
        // Nothing at all was built: something stopped cargo before it started (such as a
        // package whose manifest is broken). Build one package at a time to find which.
        for package in packages {
            let only: Vec<&BinTarget> = wanted
                .iter()
                .copied()
                .filter(|b| b.package == package)
                .collect();
            let one = cargo_build(workspace, &only, &progress);
            report.executables.extend(one.executables);
            report.errors.extend(one.errors);
            report.stderr_errors.extend(one.stderr_errors);
        }
    }
    progress.finish();

    for binary in wanted {
        match report.executables.get(binary.name) {
            Some(path) => {
                built.insert(binary.name.to_string(), Ok(path.clone()));
            }
            None => {
                let message = build_error(workspace, binary, &report);
                fail(&mut built, binary, message);
            }
        }
    }
    built
}

fn fail(built: &mut Built, binary: &BinTarget, message: String) {
    built.insert(binary.name.to_string(), Err(message));
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// What one `cargo build` said.
#[derive(Default)]
struct BuildReport {
    success: bool,
    /// Binary name → executable.
    executables: HashMap<String, PathBuf>,
    /// Manifest path → rendered compiler errors.
    errors: HashMap<String, Vec<String>>,
    /// Cargo's own `error:` lines (not the compiler's).
    stderr_errors: Vec<String>,
}

/// The one way every command builds: `cargo build --release --locked` of the workspace at
/// `manifest`, with the cargo that runs us. Callers add what to build and how to report.
pub fn release_build(cargo: &OsStr, manifest: &Path) -> Command {
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(manifest)
        .stdin(Stdio::null());
    command
}

/// Builds xtask in release mode (with `feature`, if any) and runs `xtask COMMAND ARGS` in this
/// process's place, so that Ctrl-C reaches it alone. For the commands whose own speed is part
/// of what they show: the bench's client (its tokio, optimized) and the lab's server. `what`
/// names the command in the messages.
pub fn exec_release_xtask(
    what: &str,
    feature: Option<&str>,
    command: &str,
    args: &[OsString],
) -> std::process::ExitCode {
    use std::process::ExitCode;

    // Windows: a Ctrl-C during the build reaches cargo, which stops; this process then says
    // so with 130 instead of ending at once (see `stop::run_in_place`).
    #[cfg(not(unix))]
    let interrupted = crate::stop::outlive_ctrl_c();
    let cargo = cargo();
    let manifest = match crate::checkout::workspace_root() {
        Ok(root) => root.join("Cargo.toml"),
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let features: Vec<&str> = feature.map_or(Vec::new(), |feature| vec!["--features", feature]);
    let shown = feature.map_or(String::new(), |feature| format!(" --features {feature}"));
    eprintln!("building {what} (xtask{shown}, release; the first time a minute or two)");
    let child = release_build(&cargo, &manifest)
        .args(["-p", "xtask", "--bin", "xtask", "--quiet"])
        .args(&features)
        .args(["--message-format", "json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            eprintln!("error: cannot run {}: {err}", cargo.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let executable = executable_named(&mut child, "xtask");
    let built = child.wait().map(|status| status.success()).unwrap_or(false);
    #[cfg(not(unix))]
    if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        return ExitCode::from(crate::stop::INTERRUPTED_EXIT_CODE);
    }
    let Some(executable) = executable.filter(|_| built) else {
        eprintln!(
            "error: {what} did not build (cargo's messages are above). Try it yourself: \
             cargo build --release -p xtask{shown}"
        );
        return ExitCode::FAILURE;
    };
    let mut command_line = Command::new(&executable);
    command_line.arg(command).args(args);
    // In this process's place, so that Ctrl-C reaches it alone (Unix) or is waited out here.
    crate::stop::run_in_place(command_line, &executable)
}

/// Reads the JSON messages of a `cargo build --message-format json…` child from its stdout,
/// to the end, and returns the executable cargo built for the binary `bin`, if it did.
pub fn executable_named(child: &mut std::process::Child, bin: &str) -> Option<PathBuf> {
    let stdout = child.stdout.take()?;
    let mut executable = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some((name, path)) = built_binary(&message) {
            if name == bin {
                executable = Some(path);
            }
        }
    }
    executable
}

/// Builds one binary, showing cargo's own messages on the terminal (compiler errors in full,
/// as `cargo build` shows them), and returns its executable: the workshop's way, where the
/// student's compiler errors are the point.
pub fn build_one_showing_errors(
    manifest: &Path,
    package: &str,
    bin: &str,
) -> Result<PathBuf, String> {
    let cargo = cargo();
    let mut child = release_build(&cargo, manifest)
        .args(["-p", package, "--bin", bin])
        .args(["--message-format", "json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("cannot run {}: {err}", cargo.to_string_lossy()))?;
    let executable = executable_named(&mut child, bin);
    let status = child
        .wait()
        .map_err(|err| format!("cargo did not finish: {err}"))?;
    match executable {
        Some(path) if status.success() => Ok(path),
        _ => Err(format!(
            "{bin} does not build (cargo's messages are above; the first error is the one to \
             fix). Try it yourself: cargo build -p {package} --bin {bin}"
        )),
    }
}

fn cargo_build(
    workspace: &Workspace,
    binaries: &[&BinTarget],
    progress: &ProgressLine,
) -> BuildReport {
    let mut command = release_build(&workspace.cargo, &workspace.manifest);
    command.args(["--keep-going", "--message-format", "json"]);
    for package in unique(binaries.iter().map(|b| b.package)) {
        command.args(["-p", package]);
    }
    for binary in binaries {
        command.args(["--bin", binary.name]);
    }
    let mut report = BuildReport::default();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    // Registered as it starts, so Ctrl-C stops it, and refused once Ctrl-C has begun.
    let (tracked, stdout, stderr) = match stop::spawn_build(command) {
        Ok(spawned) => spawned,
        Err(err) => {
            report.stderr_errors.push(format!(
                "cannot run {}: {err}",
                workspace.cargo.to_string_lossy()
            ));
            return report;
        }
    };

    // Cargo's status lines ("Compiling tokio v1.48.0") go to stderr: show the latest one.
    let stderr_errors = Arc::new(Mutex::new(Vec::new()));
    let stderr_reader = stderr.map(|stderr| {
        let errors = Arc::clone(&stderr_errors);
        let detail = progress_setter(progress);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let trimmed = line.trim();
                if trimmed.starts_with("error") {
                    if let Ok(mut errors) = errors.lock() {
                        errors.push(trimmed.to_string());
                    }
                }
                detail(trimmed.to_string());
            }
        })
    });

    if let Some(stdout) = stdout {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            read_message(&message, &mut report);
        }
    }
    if let Some(reader) = stderr_reader {
        let _ = reader.join();
    }
    if let Some(mut child) = tracked.take() {
        if let Ok(status) = child.wait() {
            report.success &= status.success();
        }
    }
    if let Ok(errors) = stderr_errors.lock() {
        report.stderr_errors.extend(errors.iter().cloned());
    }
    report
}

/// A `Send` closure that shows a line in the progress indicator.
fn progress_setter(progress: &ProgressLine) -> impl Fn(String) + Send + 'static {
    let shared = progress.detail_handle();
    move |line| {
        if let Ok(mut detail) = shared.lock() {
            *detail = line;
        }
    }
}

fn read_message(message: &Value, report: &mut BuildReport) {
    match message["reason"].as_str() {
        Some("compiler-artifact") => {
            if let Some((name, executable)) = built_binary(message) {
                report.executables.insert(name.to_string(), executable);
            }
        }
        Some("compiler-message") if message["message"]["level"].as_str() == Some("error") => {
            let manifest = message["manifest_path"].as_str().unwrap_or("").to_string();
            let rendered = message["message"]["rendered"]
                .as_str()
                .or(message["message"]["message"].as_str())
                .unwrap_or("")
                .to_string();
            report.errors.entry(manifest).or_default().push(rendered);
        }
        Some("build-finished") => {
            report.success = message["success"].as_bool().unwrap_or(false);
        }
        _ => {}
    }
}

/// Why `binary` was not built, in a few lines a learner can act on.
fn build_error(workspace: &Workspace, binary: &BinTarget, report: &BuildReport) -> String {
    let hint = format!(
        "see every error with: cargo build --release -p {}",
        binary.package
    );
    let manifest = workspace
        .packages
        .get(binary.package)
        .map(|p| p.manifest_path.as_str())
        .unwrap_or("");
    if let Some(errors) = report.errors.get(manifest).filter(|e| !e.is_empty()) {
        let first: Vec<&str> = errors[0].lines().take(ERROR_LINES).collect();
        let more = errors.len() - 1;
        let more = match more {
            0 => String::new(),
            1 => "\n(and 1 more error)".to_string(),
            n => format!("\n(and {n} more errors)"),
        };
        return format!("{}{more}\n{hint}", first.join("\n"));
    }
    // No compiler error of its own: a dependency failed, or cargo itself refused.
    let named = format!("`{}`", binary.package);
    let own = report
        .stderr_errors
        .iter()
        .find(|line| line.contains(&named));
    match own.or(report.stderr_errors.first()) {
        Some(first) => format!("{first}\n{hint}"),
        None => format!("cargo build did not produce {}\n{hint}", binary.name),
    }
}
