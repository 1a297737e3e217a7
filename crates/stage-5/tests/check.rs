//! `cargo xtask check` finds stage 5 concurrent and parallel (on two cores or more), on every runtime, and `--max-connections 3` a pool of 3.
harness::check_tests!(async_std, "stage-5");
harness::check_tests!(tokio, "stage-5-tokio");
harness::check_tests!(smol, "stage-5-smol");

/// The real stage is what the workshop's step 4 asks for: its check passes.
#[test]
fn passes_the_workshop_step_4() {
    let step = workshop_course::step(4).expect("step 4 exists");
    let grade = measure::check::alone(|| {
        workshop_course::grade(step, std::path::Path::new(env!("CARGO_BIN_EXE_stage-5")))
    });
    assert!(grade.passed(), "{grade:#?}");
}
