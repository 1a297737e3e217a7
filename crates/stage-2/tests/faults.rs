//! Stage 2 under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(
    threadpool,
    env!("CARGO_BIN_EXE_stage-2"),
    harness::Expectation::Pool { workers: 4 }
);
