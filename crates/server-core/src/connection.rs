//! The bookkeeping around serving one connection, so that a stage's handler shows only its
//! steps (read the head, do the work, write the answer): the connection is counted as in
//! flight (for a graceful shutdown and `--max-connections`), timed, and logged, with an I/O
//! error logged and never returned, because one client's trouble must not stop the server.

use std::future::Future;
use std::io;
use std::time::Instant;

use crate::Reply;
use crate::log::log_connection;
use crate::shutdown::InFlight;

/// Runs `serve` (the blocking handler's steps) counted as in flight, and logs how it went.
pub fn counted_and_logged(serve: impl FnOnce() -> io::Result<Option<Reply>>) {
    let _in_flight = InFlight::start();
    let started = Instant::now();
    let outcome = serve();
    log_connection(started, &outcome);
}

// ANCHOR: counted_and_logged_async
/// The async form of [`counted_and_logged`]. The connection counts as in flight from
/// this call, not from the future's first poll: a graceful shutdown that waits for the
/// connections in flight must not miss one that was accepted and spawned, but not yet
/// started.
pub fn counted_and_logged_async(
    serving: impl Future<Output = io::Result<Option<Reply>>>,
) -> impl Future<Output = ()> {
    let in_flight = InFlight::start();
    async move {
        let started = Instant::now();
        let outcome = serving.await;
        log_connection(started, &outcome);
        drop(in_flight);
    }
}
// ANCHOR_END: counted_and_logged_async
