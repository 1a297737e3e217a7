//! Stage 1 under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(
    std,
    env!("CARGO_BIN_EXE_stage-1"),
    harness::Expectation::OneAtATime
);
