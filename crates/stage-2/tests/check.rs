//! `cargo xtask check` finds stage 2 a pool of exactly `--workers` (4 by default, and 3).
harness::check_tests!(stage_2, "stage-2");

// A pool's grade measures no CPU (its model is the pool's size, timed with wide margins), so
// these grades need not take `measure::check::alone`: they run beside each other.

/// The real stage is what the workshop's step 1 asks for: its check passes.
#[test]
fn passes_the_workshop_step_1() {
    let step = workshop_course::step(1).expect("step 1 exists");
    let grade = workshop_course::grade(step, std::path::Path::new(env!("CARGO_BIN_EXE_stage-2")));
    assert!(grade.passed(), "{grade:#?}");
}

/// The real stage is the fix of find-the-bug server `number`, made from it.
fn fixes_bug(number: u8) {
    let bug = workshop_course::bug(number).expect("bugs 1 to 11 exist");
    assert_eq!(
        bug.from().name,
        "stage-2",
        "bug {number} comes from stage 2"
    );
    let grade =
        workshop_course::grade_bug(bug, std::path::Path::new(env!("CARGO_BIN_EXE_stage-2")));
    assert!(grade.passed(), "{}: {grade:#?}", bug.name());
}

#[test]
fn fixes_bug_1() {
    fixes_bug(1);
}

#[test]
fn fixes_bug_2() {
    fixes_bug(2);
}

#[test]
fn fixes_bug_3() {
    fixes_bug(3);
}

/// Bugs 1 to 3 are every bug made from stage 2: a new one needs a test above.
#[test]
fn bugs_1_to_3_are_the_ones_from_stage_2() {
    let from_here: Vec<u8> = workshop_course::BUGS
        .iter()
        .filter(|bug| bug.from().name == "stage-2")
        .map(|bug| bug.number)
        .collect();
    assert_eq!(from_here, [1, 2, 3]);
}
