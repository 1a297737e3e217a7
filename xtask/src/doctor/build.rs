//! The doctor's build check: the workshop's packages built in release mode, offline.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use serde_json::Value;

use super::{Diagnosis, EXTRA_PACKAGES, cannot_run_cargo, seconds};

pub(super) fn check_build(cargo: &OsStr, root: &Path) -> Diagnosis {
    let manifest = root.join("Cargo.toml");
    let packages = match packages_to_build(cargo, &manifest) {
        Ok(packages) => packages,
        Err(problem) => {
            return Diagnosis::fix(
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
        Ok(status) if status.success() => Diagnosis::Ok(format!(
            "built in {} ({} packages in release mode, without a network)",
            seconds(took),
            packages.len()
        )),
        Ok(status) => Diagnosis::fix(
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
/// The packages the workshop builds, read with `cargo metadata --no-deps`.
pub(super) fn packages_to_build(cargo: &OsStr, manifest: &Path) -> Result<Vec<String>, String> {
    build_list(&crate::cargo::metadata(cargo, manifest)?)
}

/// The workspace's default members, then `workshop` and `xtask` if the workspace has them.
pub(super) fn build_list(metadata: &Value) -> Result<Vec<String>, String> {
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
