//! `cargo xtask check` finds stage 4 concurrent on one thread, on every runtime, and `--max-connections 3` a pool of 3.
harness::check_tests!(async_std, "stage-4");
harness::check_tests!(tokio, "stage-4-tokio");
harness::check_tests!(smol, "stage-4-smol");
harness::check_tests!(mini, "stage-4-mini");

/// The real stage is what the workshop's step 3 asks for: its check passes.
#[test]
fn passes_the_workshop_step_3() {
    let step = workshop_course::step(3).expect("step 3 exists");
    let grade = measure::check::alone(|| {
        workshop_course::grade(step, std::path::Path::new(env!("CARGO_BIN_EXE_stage-4")))
    });
    if grade.machine_was_busy() {
        println!("NOT MEASURED: parallel or not, the machine was too busy: {grade:#?}");
        return;
    }
    assert!(grade.passed(), "{grade:#?}");
}

/// Beside two busy loops, the check may say "cannot tell", never the wrong verdict (the
/// default runtime only). Ignored in a plain `cargo test`, which must stay short on a student's
/// laptop: it holds the cores for several seconds. `.ci/run` runs it with `--include-ignored`.
#[test]
#[ignore = "holds both cores for seconds; .ci/run runs it (cargo test --test check -- --include-ignored)"]
fn the_check_beside_busy_loops_never_misjudges() {
    harness::suite::the_check_beside_busy_loops_never_misjudges(&harness::suite::target(
        "stage-4",
        env!("CARGO_BIN_EXE_stage-4"),
    ));
}
