//! The common test harness, shared by every stage's tests: the conformance suite, the fault
//! tests, and mock streams. It is built on the measuring core ([`measure`]), which starts the
//! binaries and times the requests.
//!
//! - [`suite`]: the conformance suite every server binary must pass, and the concurrency
//!   expectation of each stage; [`conformance_tests!`] turns it into `#[test]`s.
//! - [`faults`]: a server under a low open-files limit, flooded with idle clients: CPU, log,
//!   recovery; [`fault_tests!`] turns it and `fuzz` into `#[test]`s.
//! - `fuzz` (with the `fuzz` feature): random and mutated requests in random pieces, with
//!   half-closes and resets, over real sockets (proptest).
//! - [`mock`]: in-memory streams for unit tests of an async connection handler. Unlike the
//!   Async Book's mock, they report end of input and keep every byte written, so a handler
//!   that reads too little or writes too much fails.

pub mod faults;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod mock;
pub mod suite;
