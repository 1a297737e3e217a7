//! Every stage-3 binary keeps the server contract, and a fast request waits for a pending
//! slow one: async alone is not concurrency.
harness::conformance_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-3"),
    harness::Expectation::OneAtATime
);
harness::conformance_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-3-tokio"),
    harness::Expectation::OneAtATime
);
harness::conformance_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-3-smol"),
    harness::Expectation::OneAtATime
);
