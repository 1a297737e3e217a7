//! Stage 1 keeps the server contract, and a fast request waits for a pending slow one.
harness::conformance_tests!(stage_1, "stage-1");
