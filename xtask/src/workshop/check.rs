//! `workshop check`: builds the student's binary and grades it by measurement
//! (`workshop_course`), printing what was measured; a pass is recorded in the store.

use std::path::{Path, PathBuf};

use serde_json::json;
use workshop_course::{self as workshop, Finding, Grade, Mark, Seen};

use crate::check::report;
use crate::style::{Color, Style};

use super::exercise::{Exercise, student_file};
use super::progress_store::ProgressStore;

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    Passed,
    NotYet,
    DidNotBuild,
    NotStarted,
}

/// Builds the student's file and grades it, printing what was measured; records a pass.
pub(super) fn check(exercise: Exercise, root: &Path, style: Style) -> CheckOutcome {
    let mine = student_file(exercise);
    let word = exercise.word();
    let label = exercise.label();
    if !root.join(&mine).exists() {
        eprintln!(
            "error: {label} is not started: there is no {}. Run `cargo xtask workshop start \
             {word}` first.",
            mine.display()
        );
        return CheckOutcome::NotStarted;
    }
    println!("Building {} (release) ...", mine.display());
    let bin = match build(root, exercise) {
        Ok(bin) => bin,
        Err(err) => {
            eprintln!("{err}");
            return CheckOutcome::DidNotBuild;
        }
    };
    println!(
        "Measuring it as {} should behave (this takes some seconds) ...\n",
        exercise.measured_as()
    );
    let grade = exercise.grade(&bin);
    for finding in &grade.findings {
        print!("{}", render_finding(finding, style));
    }
    let mut progress = ProgressStore::load(root);
    match (&grade.diagnosis, exercise) {
        (None, Exercise::Step(step)) => {
            let n = step.number;
            println!(
                "\n{} Your server behaves like stage {}.",
                style.paint(Color::Green, &format!("Step {n} passed.")),
                step.to
            );
            if n == 2 {
                println!(
                    "From outside it looks exactly like stage 1: async alone is not \
                     concurrency. That is this step's lesson."
                );
            }
            println!(
                "Compare with the real stage: `cargo xtask workshop solution {n}`.{}",
                match workshop::step(n + 1) {
                    Some(next) => format!(" Next: `cargo xtask workshop start {}`.", next.number),
                    None => " That was the last step: now find the bugs, `cargo xtask workshop \
                             start bug-1`."
                        .to_string(),
                }
            );
        }
        (None, Exercise::Bug(_)) if not_checked(&grade) => {
            println!(
                "\n{} Nothing wrong was measured, but what finds this bug could not be \
                 measured on this OS (\"not checked\" above): try it by hand, as its page in \
                 the book says.",
                style.paint(Color::Yellow, &format!("{word}: cannot tell here."))
            );
            return CheckOutcome::NotYet;
        }
        (None, Exercise::Bug(bug)) => {
            println!(
                "\n{} It behaves like {}: {}.",
                style.paint(Color::Green, &format!("{word} fixed.")),
                exercise.measured_as(),
                workshop::bugs::intended_words(bug.intended())
            );
            println!(
                "Compare with the real stage: `cargo xtask workshop solution {word}`.{}",
                match workshop::bug(bug.number + 1) {
                    Some(next) => format!(" Next: `cargo xtask workshop start {}`.", next.name()),
                    None => " That was the last bug.".to_string(),
                }
            );
        }
        (Some((_, hint)), Exercise::Step(_)) => {
            println!(
                "\n{} Hint: {hint}",
                style.paint(Color::Red, &format!("Step {word} not passed yet."))
            );
            println!(
                "More hints: `cargo xtask workshop hint {word}`. The full measurements: \
                 `cargo xtask check --bin {}`.",
                bin.display()
            );
        }
        (Some((_, symptom)), Exercise::Bug(_)) => {
            println!(
                "\n{} {symptom}",
                style.paint(Color::Red, &format!("{word} not fixed yet."))
            );
            println!(
                "From this symptom to its cause: `cargo xtask workshop hint {word}`, one step \
                 at a time."
            );
        }
    }
    if grade.passed() {
        progress.set(exercise, "passed", json!(true));
        progress.save();
        CheckOutcome::Passed
    } else {
        CheckOutcome::NotYet
    }
}

/// Whether a finding could not be measured here (no signals, no /proc).
pub(super) fn not_checked(grade: &Grade) -> bool {
    grade
        .findings
        .iter()
        .any(|finding| finding.mark == Mark::NotChecked)
}

/// One finding: its mark and what it is, then what was measured, a line each.
pub(super) fn render_finding(finding: &Finding, style: Style) -> String {
    let mark = match finding.mark {
        Mark::Pass => style.paint(Color::Green, "pass"),
        Mark::Fail => style.paint(Color::Red, "FAIL"),
        Mark::NotChecked => style.paint(Color::Yellow, "not checked"),
    };
    let lines = match &finding.seen {
        Seen::Measured { model, cpu } => {
            let mut lines = vec![report::model_name(model, cpu)];
            lines.extend(report::evidence(model, cpu));
            lines
        }
        Seen::Compared {
            intended,
            model,
            cpu,
        } => {
            let mut lines = vec![
                format!("intended: {}", workshop::bugs::intended_words(*intended)),
                format!("measured: {}", report::model_name(model, cpu)),
            ];
            lines.extend(report::evidence(model, cpu));
            lines
        }
        Seen::BrokenContract(points) => points
            .iter()
            .map(|point| match &point.outcome {
                Ok(seen) => format!("{}: {seen}", point.what),
                Err(problem) => format!("{}: {problem}", point.what),
            })
            .collect(),
        Seen::Words(words) => vec![words.clone()],
    };
    let mut text = format!("{mark}  {}\n", finding.what);
    for line in lines {
        text.push_str(&format!("      {line}\n"));
    }
    text
}

/// Builds the student's binary in release mode, showing cargo's own messages (compiler
/// errors included, in full), and returns the executable cargo names.
pub(super) fn build(root: &Path, exercise: Exercise) -> Result<PathBuf, String> {
    let manifest = root.join("Cargo.toml");
    crate::cargo::build_one_showing_errors(&manifest, "workshop", &exercise.bin_name())
        .map_err(|err| format!("\nYour file does not build yet: nothing was measured.\n{err}"))
}
