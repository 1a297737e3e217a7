//! Every stage-3 binary keeps the server contract, and a fast request waits for a pending
//! slow one: async alone is not concurrency.
harness::conformance_tests!(async_std, "stage-3");
harness::conformance_tests!(tokio, "stage-3-tokio");
harness::conformance_tests!(smol, "stage-3-smol");
harness::conformance_tests!(mini, "stage-3-mini");
