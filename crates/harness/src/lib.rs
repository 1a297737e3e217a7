//! The common test harness, shared by every stage's tests and by `cargo xtask`.
//!
//! - [`server`]: start a real server binary on port 0, read its `Listening on` line, and stop
//!   it (by its PID) when dropped.
//! - [`client`]: a raw-socket HTTP client that times connect, first byte and done, and can
//!   misbehave on purpose (send garbage, send slowly, reset the connection).
//! - [`suite`]: the conformance suite every server binary must pass, and the concurrency
//!   expectation of each stage; [`conformance_tests!`] turns it into `#[test]`s.
//! - [`scenario`]: the demo's scenarios (a slow request and fast ones, a busy pool, a blocking
//!   handler, CPU work) as planned requests, each sent and timed from its scheduled moment.
//! - [`check`]: grade any running server from outside: which concurrency model it behaves
//!   like (one at a time, a pool of N, concurrent, parallel), with the evidence, and the
//!   contract points it keeps; `cargo xtask check` and the workshop print its report.
//! - [`workshop`]: the workshop's four steps, their hints, and the grading of a student's
//!   server for each, by measurement with [`check`].
//! - [`faults`]: a server under a low open-files limit, flooded with idle clients: CPU, log,
//!   recovery; [`fault_tests!`] turns it and [`fuzz`] into `#[test]`s.
//! - `fuzz` (with the `fuzz` feature): random and mutated requests in random pieces, with
//!   half-closes and resets, over real sockets (proptest).
//! - [`mock`]: in-memory streams for unit tests of a connection handler. Unlike the Async
//!   Book's mock, they report end of input and keep every byte written, so a handler that
//!   reads too little or writes too much fails.

pub mod check;
pub mod client;
pub mod faults;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod mock;
pub mod scenario;
pub mod server;
pub mod suite;
pub mod workshop;

pub use client::{Exchange, Response, Timing};
pub use server::ServerProcess;
pub use suite::Expectation;
