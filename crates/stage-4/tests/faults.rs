//! Every stage-4 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-4"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::fault_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-4-tokio"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::fault_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-4-smol"),
    harness::Expectation::ConcurrentOnOneThread
);
