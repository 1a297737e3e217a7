//! What every stage's server does the same, written once, so that a stage file is only its
//! lesson: how it accepts connections and on which threads or tasks it serves them.
//!
//! Most of it is sans-IO, plain functions from bytes to values and back, tested with byte
//! strings, so every stage, blocking or async, on any runtime, answers exactly the same bytes:
//!
//! - [`Config`]: the command-line flags every server takes (`--host`, `--port`, ...).
//! - [`HeadBuffer`]: collects the bytes of a request head, parses it and routes it to a [`Reply`].
//! - [`Reply`]: the response's bytes, the [`Work`] to do before sending them, and the log line.
//! - [`linger`]: closing a connection whose client may still be sending (a refused request),
//!   so that the answer reaches it instead of a reset.
//! - [`accept`]: what to do when `accept` fails (skip, or pause and back off).
//! - [`limits`]: the default `--max-connections`, below the open-files limit.
//!
//! The care around an accept loop and a handler is here too, and it does I/O of its own:
//!
//! - [`incoming`]: a listener's accepts as only the accepted streams, until shutdown (it
//!   sleeps through [`accept`]'s pauses, and logs accept errors to stderr).
//! - [`connection`]: one connection counted as in flight, timed and logged to stderr.
//! - [`shutdown`]: the Ctrl-C handler (it connects to the server to wake a blocked `accept`,
//!   and exits the process after `--grace-ms`) and the count of connections in flight.

pub mod accept;
mod config;
pub mod connection;
mod head;
pub mod incoming;
pub mod limits;
pub mod linger;
mod log;
mod reply;
pub mod shutdown;

pub use accept::AcceptErrors;
pub use config::{Config, ConfigError, Flags, ParsedArgs, announce};
pub use connection::{counted_and_logged, counted_and_logged_async};
pub use head::{HeadBuffer, HeadProgress, MAX_BODY_BYTES, MAX_HEAD_BYTES};
pub use incoming::{accepted, accepted_async};
pub use log::{log_connection, thread_label, write_line};
pub use reply::{Reply, Status, Work, cpu_work};

/// The page for `GET /` and `GET /sleep`, built into the binary so it runs from any folder.
pub const HELLO_HTML: &str = include_str!("../../../shared-assets/hello.html");
/// The page for any path this server does not know.
pub const NOT_FOUND_HTML: &str = include_str!("../../../shared-assets/404.html");
