//! The doctor's crates check: every crate of Cargo.lock downloaded (`cargo fetch`), so that builds
//! work without a network.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Diagnosis, FETCH_TAIL, cannot_run_cargo, last_lines};

pub(super) fn check_crates(cargo: &OsStr, root: &Path) -> Diagnosis {
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
        return Diagnosis::Ok(
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
    let mut outcome = Diagnosis::fix(
        format!("cargo could not download every crate in Cargo.lock ({status}):"),
        fixes,
    );
    if let Diagnosis::Fix { details, .. } = &mut outcome {
        *details = last_lines(&stderr, FETCH_TAIL);
    }
    outcome
}
