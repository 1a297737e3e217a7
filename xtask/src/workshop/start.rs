//! `workshop start`: the step's or bug's starting point, copied to the student's own file.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use workshop_course as workshop;

use super::exercise::{Exercise, student_file};
use super::progress_store::ProgressStore;

/// Copies the starting point to the student's file, which must not exist yet.
pub(super) fn copy_starting_point(exercise: Exercise, root: &Path) -> Result<(), String> {
    let mine = student_file(exercise);
    let target = root.join(&mine);
    target
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::copy(root.join(exercise.starting_point()), &target))
        .map(|_| ())
        .map_err(|err| {
            format!(
                "could not copy {} to {}: {err}",
                exercise.starting_point(),
                mine.display()
            )
        })
}

pub(super) fn start(exercise: Exercise, root: &Path) -> ExitCode {
    let mine = student_file(exercise);
    let word = exercise.word();
    let mut progress = ProgressStore::load(root);
    if root.join(&mine).exists() {
        println!(
            "{} is already started: your file is {} (left as it is).\n\
             To start over: `cargo xtask workshop reset {word}`.",
            exercise.sentence_label(),
            mine.display()
        );
        progress.set_started(exercise);
        progress.save();
        return ExitCode::SUCCESS;
    }
    if let Err(err) = copy_starting_point(exercise, root) {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    progress.set_started(exercise);
    progress.save();
    let bin = exercise.bin_name();
    match exercise {
        Exercise::Step(step) => println!(
            "Step {word}: stage {} -> stage {}, {}.\n\n\
             Your file: {}\n\
             It is stage {} with the step left as TODOs; it runs as it is.\n",
            step.from,
            step.to,
            step.title,
            mine.display(),
            step.from
        ),
        Exercise::Bug(bug) => {
            let from = bug.from();
            println!(
                "{word}: {}.\n\n\
                 Your file: {}\n\
                 It is {} ({}) with one mistake in it.\n\
                 It should behave like that stage: {}.\n\n\
                 What its users see: {}\n",
                bug.title,
                mine.display(),
                from.name,
                from.source,
                workshop::bugs::intended_words(bug.intended()),
                bug.symptom
            );
        }
    }
    let flags = match exercise {
        Exercise::Bug(bug) if !bug.flags.is_empty() => format!(" -- {}", bug.flags.join(" ")),
        _ => String::new(),
    };
    println!(
        "Run it:    cargo run -p workshop --bin {bin}{flags}\n\
         Check it:  cargo xtask workshop check {word}   (or `watch {word}`: at every save)\n\
         Stuck:     cargo xtask workshop hint {word}"
    );
    ExitCode::SUCCESS
}
