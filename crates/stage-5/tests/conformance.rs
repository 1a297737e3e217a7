//! Every stage-5 binary keeps the server contract, and fast requests do not wait for slow
//! ones: each connection is a task of its own on a multi-threaded executor.
harness::conformance_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-5"),
    harness::Expectation::Parallel
);
harness::conformance_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-5-tokio"),
    harness::Expectation::Parallel
);
harness::conformance_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-5-smol"),
    harness::Expectation::Parallel
);
