//! Every stage-3 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(async_std, "stage-3");
harness::fault_tests!(tokio, "stage-3-tokio");
harness::fault_tests!(smol, "stage-3-smol");
harness::fault_tests!(mini, "stage-3-mini");
