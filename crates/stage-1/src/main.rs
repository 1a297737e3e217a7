//! Stage 1: one connection at a time.
//!
//! The Rust Book's first server, made robust: the main thread accepts a connection, serves it
//! to the end, and only then accepts the next. While it serves `GET /sleep`, every other
//! client waits in the kernel's listen queue: a slow request blocks everyone.
//!
//! Run it: `cargo run -p stage-1`, open http://127.0.0.1:7878/sleep, and while it loads,
//! http://127.0.0.1:7878/ in a second terminal (`cargo xtask demo` shows the same in numbers).

use std::net::TcpListener;

use server_core::{Config, Flags, accepted, announce, shutdown};
use stage_1::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-1",
        "one connection at a time (std::net)",
        Flags::Common,
    );
    let listener =
        TcpListener::bind(config.address()).unwrap_or_else(|err| config.exit_bind_failed(err));
    announce(listener.local_addr());
    // On Ctrl-C: finish the request in hand, accept no more, exit.
    shutdown::install(config, listener.local_addr().ok());

    // ANCHOR: accept_loop
    for stream in accepted(listener.incoming()) {
        // Served right here, on the only thread: the next `accept` waits until it is done.
        handle_connection(stream, config);
    }
    // ANCHOR_END: accept_loop
    shutdown::finished();
}
