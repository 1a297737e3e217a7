//! Every exercise, untouched, runs like the stage it starts from, so its step's check fails,
//! with the hint for exactly that. (Each stage's own tests show the real stage passes.)

mod common;

use std::path::Path;

use workshop_course::{Diagnosis, grade, step};

fn assert_fails_with(number: u8, bin: &str, expected: Diagnosis) {
    let step = step(number).expect("steps 1 to 4 exist");
    // Not `measure::check::alone`: these grades run beside each other. Other measurements
    // beside a grade can only make a server look slower or less parallel than it is, and
    // an untouched starting point or bug is graded for what it lacks, so it fails anyway.
    let grade = grade(step, Path::new(bin));
    println!("{grade:#?}");
    assert!(
        !grade.passed(),
        "the untouched exercise {number} passed its check"
    );
    let (diagnosis, hint) = grade.diagnosis.expect("a failed grade has a diagnosis");
    if diagnosis == Diagnosis::MachineBusy && expected == Diagnosis::NotParallel {
        // Not passed, as it must not be; but that it takes turns on one thread could not be
        // shown on a machine this busy.
        println!("NOT MEASURED: exercise {number} on one thread: {hint}");
        return;
    }
    assert_eq!(diagnosis, expected, "hint: {hint}");
}

#[test]
fn step_1_untouched_is_still_one_at_a_time() {
    assert_fails_with(
        1,
        env!("CARGO_BIN_EXE_exercise-1"),
        Diagnosis::StillOneAtATime,
    );
}

#[test]
fn step_2_untouched_is_still_a_pool() {
    assert_fails_with(2, env!("CARGO_BIN_EXE_exercise-2"), Diagnosis::StillAPool);
}

#[test]
fn step_3_untouched_is_still_one_at_a_time() {
    assert_fails_with(
        3,
        env!("CARGO_BIN_EXE_exercise-3"),
        Diagnosis::StillOneAtATime,
    );
}

#[test]
fn step_4_untouched_is_not_parallel() {
    let expected = if measure::available_cores() >= 2 {
        Diagnosis::NotParallel
    } else {
        Diagnosis::OneCore
    };
    assert_fails_with(4, env!("CARGO_BIN_EXE_exercise-4"), expected);
}

/// A starting point is the previous stage's code, line for line, plus comments: when a stage
/// changes, its exercise must change with it, or students would start from an old version.
#[test]
fn every_exercise_is_the_previous_stage_with_todos() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for step in &workshop_course::STEPS {
        let stage_file = step.from.default_binary().source;
        let read = |file: &str| {
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|err| panic!("{file}: {err}"))
        };
        let exercise = read(step.exercise);
        assert_eq!(
            common::code(&exercise),
            common::code(&read(stage_file)),
            "{} is no longer {stage_file} with TODOs",
            step.exercise
        );
        assert!(
            exercise.contains(&format!("// TODO(step {}):", step.number)),
            "{} has no TODO for its step",
            step.exercise
        );
    }
}
