//! `workshop watch`: checks again at every save of the student's file.

use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::style::{Color, Style};

use super::check::{CheckOutcome, check};
use super::exercise::{Exercise, student_file};

/// How often `watch` looks at the file's time.
pub(super) const WATCH_POLL: Duration = Duration::from_millis(300);

pub(super) fn watch(
    exercise: Exercise,
    rounds: Option<usize>,
    root: &Path,
    style: Style,
) -> ExitCode {
    let mine = student_file(exercise);
    let word = exercise.word();
    if !root.join(&mine).exists() {
        eprintln!(
            "error: {} is not started: there is no {}. Run `cargo xtask workshop start \
             {word}` first.",
            exercise.label(),
            mine.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "Watching {}: it is built and checked now, and again every time you save it. Ctrl-C \
         ends.\n",
        mine.display()
    );
    let last = watch_loop(
        &root.join(&mine),
        rounds,
        WATCH_POLL,
        || check(exercise, root, style),
        |round, outcome| {
            let verdict = match outcome {
                CheckOutcome::Passed => style.paint(Color::Green, exercise.passed_word()),
                CheckOutcome::NotYet => {
                    style.paint(Color::Red, &format!("not {} yet", exercise.passed_word()))
                }
                CheckOutcome::DidNotBuild => style.paint(Color::Red, "does not build"),
                CheckOutcome::NotStarted => style.paint(Color::Red, "no file"),
            };
            println!("\n[watch, check {round}] {}: {verdict}.", exercise.label());
        },
    );
    match last {
        Some(CheckOutcome::Passed) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// What tells a save: the file's modification time and length (a coarse clock can miss a
/// time change, rarely both).
pub(super) fn saved_stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let metadata = fs::metadata(file).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Runs `check` at once, then again each time `file` is saved (its stamp changes, looked at
/// every `poll`), telling `report` each outcome; stops after `rounds` checks if given, else
/// never (Ctrl-C ends the process). Returns the last outcome.
pub(super) fn watch_loop(
    file: &Path,
    rounds: Option<usize>,
    poll: Duration,
    mut check: impl FnMut() -> CheckOutcome,
    mut report: impl FnMut(usize, CheckOutcome),
) -> Option<CheckOutcome> {
    let mut last = None;
    for round in 1.. {
        // The stamp before the check: a save while it builds or measures starts another.
        let checked = saved_stamp(file);
        let outcome = check();
        report(round, outcome);
        last = Some(outcome);
        if rounds.is_some_and(|rounds| round >= rounds) {
            break;
        }
        let name = file
            .file_name()
            .unwrap_or(file.as_os_str())
            .to_string_lossy();
        println!("Waiting for you to save {name} ... (Ctrl-C ends)");
        while saved_stamp(file) == checked {
            std::thread::sleep(poll);
        }
        println!("\n{name} changed: checking again.\n");
    }
    last
}
