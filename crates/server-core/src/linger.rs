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
//! The handler owns the reads and the clock; this type only counts and holds the scratch
//! space, so the blocking and the async handlers keep the same bounds.

use std::time::Duration;

/// The most input a lingering close reads and drops: more than the body a client can have in
/// flight when it sees the answer, little CPU time for a client that never stops.
pub const LINGER_BYTES: usize = 1024 * 1024;
/// The longest a lingering close waits for the client to close. A client that read the answer
/// closes within a round trip; stage 1 serves no one else meanwhile, so this stays short.
pub const LINGER_TIME: Duration = Duration::from_secs(1);

/// Each read's scratch space: allocated only when a connection lingers, so a connection that
/// is served normally (or waits on `/sleep`) never holds it.
const LINGER_READ_BYTES: usize = 4 * 1024;

/// The input dropped so far by one lingering close. Use it after writing the answer and
/// shutting down the sending half: read into [`Self::free_space`] until [`Self::discarded`]
/// says to stop, within [`LINGER_TIME`] in all.
#[derive(Debug)]
pub struct LingeringClose {
    scratch: Vec<u8>,
    discarded: usize,
}

impl LingeringClose {
    pub fn new() -> Self {
        LingeringClose {
            scratch: vec![0; LINGER_READ_BYTES],
            discarded: 0,
        }
    }

    /// Where the next read puts the bytes to drop. Never empty.
    pub fn free_space(&mut self) -> &mut [u8] {
        &mut self.scratch
    }

    /// Takes note that a read dropped `count` bytes; 0 means the client closed. Returns
    /// whether to read again: `false` once the client has closed or [`LINGER_BYTES`] are read.
    pub fn discarded(&mut self, count: usize) -> bool {
        self.discarded = self.discarded.saturating_add(count);
        count > 0 && self.discarded < LINGER_BYTES
    }
}

impl Default for LingeringClose {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_until_the_client_closes() {
        let mut linger = LingeringClose::new();
        assert!(!linger.free_space().is_empty());
        assert!(linger.discarded(100), "more may come");
        assert!(linger.discarded(LINGER_READ_BYTES), "more may come");
        assert!(!linger.discarded(0), "the client closed");
    }

    #[test]
    fn stops_after_linger_bytes_from_a_client_that_never_closes() {
        let mut linger = LingeringClose::new();
        let full_reads = LINGER_BYTES / LINGER_READ_BYTES;
        for read in 1..full_reads {
            assert!(
                linger.discarded(LINGER_READ_BYTES),
                "read {read} of {full_reads}"
            );
        }
        assert!(!linger.discarded(LINGER_READ_BYTES), "the bound is reached");
    }
}
