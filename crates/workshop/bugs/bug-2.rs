//! Find the bug: a server with worker threads.
//!
//! The main thread only accepts; each connection goes to a worker thread, which runs
//! stage 1's `handle_connection` unchanged.

use std::net::TcpListener;
use std::thread;

use server_core::{Config, Flags, accepted, announce, shutdown};
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
    for stream in accepted(listener.incoming()) {
        // Hand the connection to a worker and go straight back to `accept`.
        let worker = thread::Builder::new().name("worker".to_string());
        if let Err(err) = worker.spawn(move || handle_connection(stream, config)) {
            eprintln!("(could not start a worker thread: {err})");
        }
    }
    // ANCHOR_END: accept_loop
    shutdown::finished();
}
