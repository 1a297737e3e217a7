//! Every stage-4 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(async_std, "stage-4");
harness::fault_tests!(tokio, "stage-4-tokio");
harness::fault_tests!(smol, "stage-4-smol");
harness::fault_tests!(mini, "stage-4-mini");
