//! Every stage-5 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-5"),
    harness::Expectation::Parallel
);
harness::fault_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-5-tokio"),
    harness::Expectation::Parallel
);
harness::fault_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-5-smol"),
    harness::Expectation::Parallel
);
