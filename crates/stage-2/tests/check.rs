//! `cargo xtask check` finds stage 2 a pool of exactly `--workers` (4 by default, and 3).
harness::check_tests!(stage_2, "stage-2");

/// The real stage is what the workshop's step 1 asks for: its check passes.
#[test]
fn passes_the_workshop_step_1() {
    let step = workshop_course::step(1).expect("step 1 exists");
    let grade = measure::check::alone(|| {
        workshop_course::grade(step, std::path::Path::new(env!("CARGO_BIN_EXE_stage-2")))
    });
    assert!(grade.passed(), "{grade:#?}");
}
