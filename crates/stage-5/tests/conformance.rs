//! Every stage-5 binary keeps the server contract, and fast requests do not wait for slow
//! ones: each connection is a task of its own on a multi-threaded executor.
harness::conformance_tests!(async_std, "stage-5");
harness::conformance_tests!(tokio, "stage-5-tokio");
harness::conformance_tests!(smol, "stage-5-smol");
harness::conformance_tests!(mini, "stage-5-mini");
