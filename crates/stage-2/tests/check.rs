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

/// The real stage is the fix of every find-the-bug server made from it (bugs 1, 2 and 3).
#[test]
fn fixes_the_bugs_made_from_it() {
    let bugs: Vec<_> = workshop_course::BUGS
        .iter()
        .filter(|bug| bug.from().name == "stage-2")
        .collect();
    assert_eq!(bugs.len(), 3, "bugs 1, 2 and 3 come from stage 2");
    for bug in bugs {
        let grade = measure::check::alone(|| {
            workshop_course::grade_bug(bug, std::path::Path::new(env!("CARGO_BIN_EXE_stage-2")))
        });
        assert!(grade.passed(), "{}: {grade:#?}", bug.name());
    }
}
