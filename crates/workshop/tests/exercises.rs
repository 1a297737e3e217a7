//! Every exercise, untouched, runs like the stage it starts from, so its step's check fails,
//! with the hint for exactly that. (Each stage's own tests show the real stage passes.)

use std::path::Path;

use harness::workshop::{Diagnosis, grade, step};

fn assert_fails_with(number: u8, bin: &str, expected: Diagnosis) {
    let step = step(number).expect("steps 1 to 4 exist");
    let grade = grade(step, Path::new(bin));
    println!("{grade:#?}");
    assert!(
        !grade.passed,
        "the untouched exercise {number} passed its check"
    );
    let (diagnosis, hint) = grade.diagnosis.expect("a failed grade has a diagnosis");
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
    let expected = if harness::suite::available_cores() >= 2 {
        Diagnosis::NotParallel
    } else {
        Diagnosis::OneCore
    };
    assert_fails_with(4, env!("CARGO_BIN_EXE_exercise-4"), expected);
}
