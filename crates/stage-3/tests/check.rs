//! `cargo xtask check` finds stage 3 one at a time, on every runtime.
harness::check_tests!(async_std, "stage-3");
harness::check_tests!(tokio, "stage-3-tokio");
harness::check_tests!(smol, "stage-3-smol");
harness::check_tests!(mini, "stage-3-mini");

/// The real stage is what the workshop's step 2 asks for: its check passes.
#[test]
fn passes_the_workshop_step_2() {
    let step = workshop_course::step(2).expect("step 2 exists");
    let grade = measure::check::alone(|| {
        workshop_course::grade(step, std::path::Path::new(env!("CARGO_BIN_EXE_stage-3")))
    });
    assert!(grade.passed(), "{grade:#?}");
}
