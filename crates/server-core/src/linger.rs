//! A lingering close: how to close a connection whose client may still be sending.
//!
//! Closing a socket that has unread input (or that gets input after the close) makes the
//! kernel answer with a reset (RST) instead of a polite end (FIN). A client still writing then
//! fails with "Broken pipe" or "Connection reset", and curl or Python give up there without
//! reading the answer they already have; on some systems (Windows) the reset also drops what
//! the client received and had not read yet. Reading the whole request before answering
//! avoids that ([`crate::HeadBuffer`] does), but a request refused mid-stream has input still
//! coming: the body of an `Expect: 100-continue` request the server will not read, the frames
//! behind an HTTP/2 preface, the rest of a 413's body.
//!
//! So after such an answer a handler shuts down its sending half (the client sees the end of
//! the answer and usually closes at once), then reads and drops what still comes until the
//! client closes, within [`LINGER_BYTES`] and [`LINGER_TIME`]: a client that goes on sending
//! must not hold the connection for ever. Apache and nginx do the same ("lingering close").
//!
//! The handler owns the reads and the clock; the bounds live here, so that the blocking and
//! the async handlers keep the same ones, and [`crate::Reply::needs_lingering_close`] says
//! which answers need it.

use std::time::Duration;

/// The most input a lingering close reads and drops: more than the body a client can have in
/// flight when it sees the answer, little CPU time for a client that never stops.
pub const LINGER_BYTES: u64 = 1024 * 1024;
/// The longest a lingering close waits for the client to close. A client that read the answer
/// closes within a round trip; stage 1 serves no one else meanwhile, so this stays short.
pub const LINGER_TIME: Duration = Duration::from_secs(1);
