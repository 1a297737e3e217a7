//! Every stage-3 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-3"),
    harness::Expectation::OneAtATime
);
harness::fault_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-3-tokio"),
    harness::Expectation::OneAtATime
);
harness::fault_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-3-smol"),
    harness::Expectation::OneAtATime
);
