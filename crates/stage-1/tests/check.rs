//! `cargo xtask check` finds stage 1 one at a time, from outside.
harness::check_tests!(stage_1, "stage-1");
