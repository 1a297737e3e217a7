//! `cargo xtask check` finds stage 2 a pool of exactly `--workers` (4 by default, and 3).
harness::check_tests!(
    stage_2,
    env!("CARGO_BIN_EXE_stage-2"),
    harness::Expectation::Pool { workers: 4 }
);
