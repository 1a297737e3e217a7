//! Find the bug: a server with a pool of worker threads.
//!
//! The main thread only accepts; each connection becomes a job for a worker, which runs
//! stage 1's `handle_connection` unchanged.
//!
//! The threads are made once and reused, because a thread per connection would cost a stack
//! and a kernel thread each, and an unbounded number of them under load.

use std::net::TcpListener;

use server_core::{Config, Flags, accepted, announce, shutdown};
use stage_1::handle_connection;
use threadpool::ThreadPool;

fn main() {
    let config = Config::from_args(
        "bug-1",
        "find the bug: a pool of worker threads (threadpool)",
        Flags::WithWorkers,
    );
    let listener =
        TcpListener::bind(config.address()).unwrap_or_else(|err| config.exit_bind_failed(err));
    announce(listener.local_addr());
    // On Ctrl-C: accept no more, let the workers finish their jobs, exit.
    shutdown::install(config, listener.local_addr().ok());

    // If a job panics, the pool replaces its thread, so it never shrinks. (A hand-written pool
    // must do that itself, or lose a worker to every panic.) Our handler never panics on
    // client input, but a server should not bet its workers on that.
    let pool = ThreadPool::with_name("worker".to_string(), 4);

    // ANCHOR: accept_loop
    for stream in accepted(listener.incoming()) {
        // Hand the connection to a worker and go straight back to `accept`.
        pool.execute(move || handle_connection(stream, config));
    }
    // ANCHOR_END: accept_loop
    // The Rust Book's lesson: a pool must be joined, or its jobs die with `main`. `join`
    // waits until every queued and running job is done.
    pool.join();
    shutdown::finished();
}
