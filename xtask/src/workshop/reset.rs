//! `workshop reset`: the starting point back in the student's file, after asking; their
//! file is kept beside it as `.rs.old`.

use std::fs;
use std::io::{self, BufRead, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::exercise::{Exercise, student_file};
use super::progress_store::ProgressStore;
use super::start::{copy_starting_point, start};

/// The student's file kept aside by `reset`: `step-1.rs.old`.
pub(super) fn old_file(mine: &Path) -> PathBuf {
    let mut name = mine.as_os_str().to_owned();
    name.push(".old");
    PathBuf::from(name)
}

/// Puts the starting point back in the student's file, after asking on `answers` (unless
/// `yes`); the file is kept as `.rs.old` first.
pub(super) fn reset(
    exercise: Exercise,
    yes: bool,
    root: &Path,
    answers: &mut dyn BufRead,
) -> ExitCode {
    let mine = student_file(exercise);
    let target = root.join(&mine);
    if !target.exists() {
        println!(
            "{} was not started: there is nothing to reset.",
            exercise.sentence_label()
        );
        return start(exercise, root);
    }
    let old = old_file(&mine);
    if !yes {
        print!(
            "Put the starting point of {} back in {}? Your file is kept as {}{}. [y/N] ",
            exercise.label(),
            mine.display(),
            old.display(),
            if root.join(&old).exists() {
                " (replacing the one there)"
            } else {
                ""
            }
        );
        let _ = io::stdout().flush();
        let mut answer = String::new();
        let answered = answers.read_line(&mut answer).is_ok_and(|read| read > 0);
        if !answered {
            println!();
        }
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing changed: your file is as it was.");
            return ExitCode::SUCCESS;
        }
    }
    if let Err(err) = fs::rename(&target, root.join(&old)) {
        eprintln!(
            "error: could not keep your file as {}: {err}. Nothing changed.",
            old.display()
        );
        return ExitCode::FAILURE;
    }
    if let Err(err) = copy_starting_point(exercise, root) {
        eprintln!("error: {err}; your file is {}", old.display());
        return ExitCode::FAILURE;
    }
    let mut progress = ProgressStore::load(root);
    progress.set_started(exercise);
    progress.save();
    println!(
        "{} is back at its starting point ({}). Your file was kept as {}.",
        mine.display(),
        exercise.starting_point(),
        old.display()
    );
    ExitCode::SUCCESS
}
