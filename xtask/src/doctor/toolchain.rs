//! The doctor's toolchain check: a rustc at least the workspace's `rust-version`.

use std::cmp::Ordering;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Diagnosis, FETCH_TAIL, last_lines};

pub(super) fn check_toolchain(root: &Path) -> Diagnosis {
    let manifest = root.join("Cargo.toml");
    let needed = match fs::read_to_string(&manifest) {
        Ok(text) => workspace_rust_version(&text),
        Err(err) => {
            return Diagnosis::fix(
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
            return Diagnosis::Fix {
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
            return Diagnosis::fix(
                format!(
                    "RUSTC is set to {}, which cannot be run: {err}",
                    rustc.to_string_lossy()
                ),
                &["unset RUSTC, or point it to a working rustc"],
            );
        }
        Err(err) => {
            return Diagnosis::fix(
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
        return Diagnosis::fix(
            format!(
                "cannot read a version in `rustc --version`: {:?}",
                printed.trim()
            ),
            &["run `rustup update stable`, then `rustup default stable`"],
        );
    };

    let Some(needed_text) = needed else {
        return Diagnosis::Ok(format!("rustc {shown} (Cargo.toml sets no rust-version)"));
    };
    let Some(needed) = parse_version(&needed_text) else {
        return Diagnosis::fix(
            format!("the rust-version in Cargo.toml, {needed_text:?}, is not a version like 1.85"),
            &["restore the project's Cargo.toml with `git checkout Cargo.toml`"],
        );
    };
    if at_least(&version, &needed) {
        Diagnosis::Ok(format!(
            "rustc {shown} (the project needs {needed_text} or newer)"
        ))
    } else {
        Diagnosis::Fix {
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
pub(super) fn workspace_rust_version(manifest: &str) -> Option<String> {
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
pub(super) fn rustc_version(printed: &str) -> Option<(&str, Vec<u64>)> {
    let mut words = printed.split_whitespace();
    if words.next() != Some("rustc") {
        return None;
    }
    let shown = words.next()?;
    let numbers = shown.split('-').next()?;
    Some((shown, parse_version(numbers)?))
}

/// `1.85` or `1.95.0` as numbers; `None` for anything else.
pub(super) fn parse_version(text: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = text.split('.').map(|part| part.parse().ok()).collect();
    parts.filter(|parts| (1..=3).contains(&parts.len()))
}

/// Whether `have` is `need` or newer, comparing numbers (1.100 > 1.85); a missing part is 0.
pub(super) fn at_least(have: &[u64], need: &[u64]) -> bool {
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
