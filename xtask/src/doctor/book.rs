//! The doctor's book check: its builder built and the book built with it, offline.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{Diagnosis, FETCH_TAIL, last_lines, seconds};

/// `cargo xtask book`, offline: its builder builds (in debug mode, as `cargo xtask book`
/// builds it), and the book builds with it.
pub(super) fn check_book(cargo: &OsStr, root: &Path) -> Diagnosis {
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
        Err(problem) => return Diagnosis::fix(problem, &fixes),
    };
    let docs = root.join("docs");
    let output = Command::new(&builder)
        .arg("build")
        .arg(&docs)
        .stdin(Stdio::null())
        .output();
    let took = started.elapsed();
    match output {
        Ok(output) if output.status.success() => Diagnosis::Ok(format!(
            "the book builds without a network, in {} (cargo xtask book; --serve to read it)",
            seconds(took)
        )),
        Ok(output) => Diagnosis::Fix {
            problem: format!("the book did not build ({})", output.status),
            details: last_lines(&String::from_utf8_lossy(&output.stderr), FETCH_TAIL),
            fixes: fixes.iter().map(|fix| fix.to_string()).collect(),
        },
        Err(err) => Diagnosis::fix(format!("cannot run {}: {err}", builder.display()), &fixes),
    }
}
