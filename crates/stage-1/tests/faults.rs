//! Stage 1 under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(std, "stage-1");
