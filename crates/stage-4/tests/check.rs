//! `cargo xtask check` finds stage 4 concurrent on one thread, on every runtime, and `--max-connections 3` a pool of 3.
harness::check_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-4"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::check_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-4-tokio"),
    harness::Expectation::ConcurrentOnOneThread
);
harness::check_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-4-smol"),
    harness::Expectation::ConcurrentOnOneThread
);
