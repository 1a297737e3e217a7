//! Stage 2 keeps the server contract, and a fast request waits only when all four workers
//! (the default) are busy with slow ones.
harness::conformance_tests!(stage_2, "stage-2");
