//! What every stage's server does the same, written once and without any I/O.
//!
//! A stage owns its sockets, its threads or tasks, and its waiting: that is its lesson.
//! Everything else lives here as plain functions from bytes to values and back:
//!
//! - [`Config`]: the command-line flags every server takes (`--host`, `--port`, ...).
//! - [`HeadBuffer`]: collects the bytes of a request head, parses it and routes it to a [`Reply`].
//! - [`Reply`]: the response's bytes, the [`Work`] to do before sending them, and the log line.
//! - [`linger`]: closing a connection whose client may still be sending (a refused request),
//!   so that the answer reaches it instead of a reset.
//! - [`shutdown`]: Ctrl-C handling and the count of connections in flight.
//! - [`accept`]: what an accept loop does when `accept` fails (skip, or pause and back off),
//!   with a log of at most a line a second.
//! - [`limits`]: the default `--max-connections`, below the open-files limit.
//!
//! Because nothing here touches a socket, it is tested with plain byte strings, and every
//! stage, blocking or async, on any runtime, answers exactly the same bytes.

pub mod accept;
mod config;
mod head;
pub mod limits;
pub mod linger;
mod log;
mod reply;
pub mod shutdown;

pub use accept::AcceptErrors;
pub use config::{Config, ConfigError, Flags, ParsedArgs, announce};
pub use head::{HeadBuffer, HeadProgress, MAX_BODY_BYTES, MAX_HEAD_BYTES};
pub use log::{log_connection, thread_label, write_line};
pub use reply::{Reply, Status, Work, cpu_work};

/// The page for `GET /` and `GET /sleep`, built into the binary so it runs from any folder.
pub const HELLO_HTML: &str = include_str!("../../../shared-assets/hello.html");
/// The page for any path this server does not know.
pub const NOT_FOUND_HTML: &str = include_str!("../../../shared-assets/404.html");
