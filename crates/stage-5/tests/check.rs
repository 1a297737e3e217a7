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

/// The real stage is the fix of every find-the-bug server made from it (bugs 4 to 10), on
/// each runtime.
#[test]
fn fixes_the_bugs_made_from_it() {
    let binaries = [
        ("stage-5", env!("CARGO_BIN_EXE_stage-5")),
        ("stage-5-tokio", env!("CARGO_BIN_EXE_stage-5-tokio")),
        ("stage-5-smol", env!("CARGO_BIN_EXE_stage-5-smol")),
    ];
    let mut fixed = 0;
    for bug in &workshop_course::BUGS {
        let Some((_, bin)) = binaries.iter().find(|(name, _)| *name == bug.from().name) else {
            continue;
        };
        let grade =
            measure::check::alone(|| workshop_course::grade_bug(bug, std::path::Path::new(bin)));
        assert!(grade.passed(), "{}: {grade:#?}", bug.name());
        fixed += 1;
    }
    assert_eq!(fixed, 7, "bugs 4 to 10 come from stage 5");
}
