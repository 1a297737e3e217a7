//! Every stage-4 binary keeps the server contract, and fast requests do not wait for slow
//! ones: `for_each_concurrent` drives every connection at once.
harness::conformance_tests!(async_std, "stage-4");
harness::conformance_tests!(tokio, "stage-4-tokio");
harness::conformance_tests!(smol, "stage-4-smol");
harness::conformance_tests!(mini, "stage-4-mini");
