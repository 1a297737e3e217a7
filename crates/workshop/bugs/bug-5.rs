//! Find the bug: a task per connection, on a multi-threaded executor (async-std).
//!
//! Each connection is spawned as a task of its own, and the accept loop goes straight back
//! to accepting. async-std's executor runs tasks on a pool of threads (one per core), so
//! connections are served concurrently *and* in parallel: a handler that blocks its thread
//! (`/block`) or computes (`/cpu`) holds one thread, and the others keep serving.
//!
//! async-std is discontinued (RUSTSEC-2025-0052); smol is its successor.

use async_std::net::TcpListener;
use async_std::task;
use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_async_std::handle_connection;

fn main() {
    let config = Config::from_args(
        "bug-5",
        "find the bug: a task per connection (async-std)",
        Flags::WithMaxConnections,
    );
    // The accept loop is a task too, on the executor's threads, so the thread that accepts a
    // connection can go on to serve it. Run inline on this (main) thread, it would hand every
    // connection to a worker: a wake-up and a thread switch each.
    task::block_on(task::spawn(async move {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends. Spawned tasks are on their own, so we
        // wait for them below.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), task::sleep)
            .for_each(|stream| async move {
                // Its own task, on any of the executor's threads. Dropping the handle
                // detaches the task: it runs to the end without us waiting for it.
                drop(task::spawn(handle_connection(stream, config)));
            })
            .await;
        // ANCHOR_END: accept_loop
        shutdown::all_done().await;
    }));
    shutdown::finished();
}
