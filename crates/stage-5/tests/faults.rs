//! Every stage-5 binary under faults: more idle clients than open files, and a socket fuzz.
harness::fault_tests!(async_std, "stage-5");
harness::fault_tests!(tokio, "stage-5-tokio");
harness::fault_tests!(smol, "stage-5-smol");
harness::fault_tests!(mini, "stage-5-mini");
