//! Stage 2 under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(threadpool, "stage-2");
