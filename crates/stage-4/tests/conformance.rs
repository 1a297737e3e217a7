//! Every stage-4 binary keeps the server contract, and fast requests do not wait for slow
//! ones: `for_each_concurrent` drives every connection at once.
harness::conformance_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-4"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::conformance_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-4-tokio"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::conformance_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-4-smol"),
    harness::Expectation::ConcurrentOnOneThread
);
