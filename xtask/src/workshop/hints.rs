//! `workshop hint` and `workshop solution`: help for a student who is stuck, the next hint,
//! and, once `check` has passed (or with `--force`), the diff to the real stage.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::style::Style;

use super::exercise::{Exercise, student_file};
use super::progress_store::ProgressStore;

pub(super) fn hint(exercise: Exercise, root: &Path) -> ExitCode {
    let mut progress = ProgressStore::load(root);
    let shown = progress.hints_shown(exercise);
    let hints = exercise.hints();
    let total = hints.len();
    let next = shown.min(total - 1);
    let word = exercise.word();
    println!("Hint {} of {total} for {}:", next + 1, exercise.label());
    println!("  {}", hints[next]);
    if next + 1 < total {
        println!("(`cargo xtask workshop hint {word}` again for the next one)");
    } else {
        println!(
            "(that was the last; `cargo xtask workshop solution {word} --force` shows the answer)"
        );
    }
    progress.set(exercise, "hints", json!(next + 1));
    progress.save();
    ExitCode::SUCCESS
}
pub(super) fn solution(exercise: Exercise, force: bool, root: &Path, style: Style) -> ExitCode {
    let word = exercise.word();
    let progress = ProgressStore::load(root);
    if !progress.passed(exercise) && !force {
        eprintln!(
            "{} has not passed its check yet, so the solution stays hidden: try \
             `cargo xtask workshop check {word}` and `cargo xtask workshop hint {word}` first.\n\
             To see it anyway: `cargo xtask workshop solution {word} --force`.",
            exercise.sentence_label()
        );
        return ExitCode::FAILURE;
    }
    let mine = student_file(exercise);
    let starting_point = exercise.starting_point();
    let (from_name, from_text) = match fs::read_to_string(root.join(&mine)) {
        Ok(text) => (mine.display().to_string(), text),
        // Not started: compare the starting point instead.
        Err(_) => match fs::read_to_string(root.join(&starting_point)) {
            Ok(text) => (starting_point, text),
            Err(err) => {
                eprintln!("error: cannot read {starting_point}: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let solution_file = exercise.solution();
    let solution_text = match fs::read_to_string(root.join(solution_file)) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read {solution_file}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The code only, as `cargo xtask diff` shows it: the comments of a starting point and
    // of a stage explain different things, and would bury the few lines that matter.
    // Nor the name and description the program gives `Config::from_args` (a bug has its own).
    let code = |text: &str| {
        without_program_name(&crate::diff::code_lines(text, false)).replace("\n\n\n", "\n\n")
    };
    let diff = crate::diff::unified(
        &code(&from_text),
        &code(&solution_text),
        &from_name,
        solution_file,
        style,
    );
    let stage = exercise.measured_as();
    if diff.is_empty() {
        println!(
            "Your code is the real {stage}'s, line for line (comments and the program's name \
             aside)."
        );
    } else {
        print!("{diff}");
        println!(
            "\n(- your file, + the real {stage}, comments and the program's name left out. \
             Different code that passes the check is a right answer too.)"
        );
    }
    println!("The real stage's comments say why each line is there: {solution_file}");
    ExitCode::SUCCESS
}

/// `text` without the string arguments of `Config::from_args(..)`: the program's name and
/// description, one a line as rustfmt writes them.
pub(super) fn without_program_name(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut in_from_args = false;
    for line in text.lines() {
        let code = line.trim();
        if in_from_args && code.starts_with('"') {
            continue;
        }
        in_from_args = code.ends_with("Config::from_args(") || (in_from_args && code != ");");
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}
