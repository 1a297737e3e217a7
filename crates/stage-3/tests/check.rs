//! `cargo xtask check` finds stage 3 one at a time, on every runtime.
harness::check_tests!(
    async_std,
    env!("CARGO_BIN_EXE_stage-3"),
    harness::Expectation::OneAtATime
);
harness::check_tests!(
    tokio,
    env!("CARGO_BIN_EXE_stage-3-tokio"),
    harness::Expectation::OneAtATime
);
harness::check_tests!(
    smol,
    env!("CARGO_BIN_EXE_stage-3-smol"),
    harness::Expectation::OneAtATime
);
