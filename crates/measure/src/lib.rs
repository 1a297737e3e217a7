//! The measuring core: the instruments that `cargo xtask` (demo, check, workshop, bench) and
//! the conformance suite share, so that every tool measures the same way and judges by the
//! same numbers. It returns typed results, and lays none of them out: colours, tables,
//! timelines, JSON and HTML are xtask's business. What it does put in words, so that every
//! tool and test says the same thing: the catalogue's names and model words, a
//! [`check::ContractPoint`] (the point probed and what was seen, as sentences),
//! [`check::NoResponse::words`], and the `Display` of [`check::Stopped`],
//! [`check::Unanswered`] and [`probes::ProbeError`]. Numbers and verdicts stay data.
//!
//! - [`process`]: start a real server binary on port 0, read its `Listening on` line, and
//!   stop it (by its PID) when dropped.
//! - [`client`]: the one timed client: connect, send (whole or in pieces), read (to the close
//!   or to `Content-Length`), every time counted from the scheduled send.
//! - [`client_cost`]: what that client itself takes per request, against a listener that
//!   answers from memory (the floor under every latency the demo shows).
//! - [`catalogue`]: every stage binary, its package, runtime, source file and model, and what
//!   each scenario must show for it.
//! - [`verdicts`]: every threshold the tools judge by (waited, did not wait, parallel, one
//!   core), once, with why that number.
//! - [`scenario`]: the demo's scenarios as planned requests, each sent at its moment;
//!   [`summary`]: their percentiles and outcome, and whether it is the stage's lesson.
//! - [`check`]: grade any running server from outside: the model it behaves like, with the
//!   evidence as data, and the contract points it keeps.
//! - [`load`] (feature `load`): the bench's load, closed loop, open loop and thousands of
//!   waiting connections, counted by outcome with every latency.
//! - [`system`]: a process's memory and threads as the OS tells them (Linux, macOS, Windows),
//!   and a few facts about the machine.
//! - [`probes`]: symptoms the model does not show (Ctrl-C with a request in flight, threads
//!   and memory per waiting client, a head in pieces), for the workshop's find-the-bug grading.
//!
//! It depends on none of the crates that use it (harness, workshop, xtask): data flows one
//! way, from here to them.

pub mod catalogue;
pub mod check;
pub mod client;
pub mod client_cost;
#[cfg(feature = "load")]
pub mod load;
pub mod probes;
pub mod process;
pub mod scenario;
pub mod summary;
pub mod system;
pub mod verdicts;

pub use client::{Exchange, Response, Timing};
pub use process::{FirstLine, ServerProcess};

/// How many threads can run at once on this machine: whether parallelism can be shown here.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get())
}
