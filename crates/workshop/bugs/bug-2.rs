//! Find the bug: a server with worker threads.
//!
//! The main thread only accepts; each connection goes to a worker thread, which runs
//! stage 1's `handle_connection` unchanged.

use std::net::TcpListener;
use std::thread;

use server_core::{AcceptErrors, Config, Flags, announce, shutdown};
use stage_1::handle_connection;

fn main() {
    let config = Config::from_args(
        "bug-2",
        "find the bug: a thread for each connection's work",
        Flags::WithWorkers,
    );
    let listener =
        TcpListener::bind(config.address()).unwrap_or_else(|err| config.exit_bind_failed(err));
    announce(listener.local_addr());
    // On Ctrl-C: accept no more, exit.
    shutdown::install(config, listener.local_addr().ok());

    // ANCHOR: accept_loop
    let mut accept_errors = AcceptErrors::new();
    for stream in listener.incoming() {
        if shutdown::is_requested() {
            break; // This connection (maybe the one that woke us up) is closed unanswered.
        }
        match accept_errors.check(stream) {
            // Hand the connection to a worker and go straight back to `accept`.
            Ok(stream) => {
                let worker = thread::Builder::new().name("worker".to_string());
                if let Err(err) = worker.spawn(move || handle_connection(stream, config)) {
                    eprintln!("(could not start a worker thread: {err})");
                }
            }
            // A failed accept. One client's trouble (it reset first) is skipped: `pause` is zero.
            // Out of file descriptors is not one client lost: the connection stays queued, and
            // the next accept would fail at once, forever. So `pause` grows from 10 ms to 1 s,
            // and the log gets a line a second at most.
            Err(pause) => thread::sleep(pause),
        }
    }
    // ANCHOR_END: accept_loop
    shutdown::finished();
}
