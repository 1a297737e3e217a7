//! Find the bug: a task per connection, on a multi-threaded executor (tokio).
//!
//! Each connection is spawned as a task of its own. The runtime's worker threads (one per
//! core) share the tasks and steal work from each other.

use futures_util::StreamExt;
use server_core::{AcceptErrors, Config, Flags, announce, shutdown};
use stage_3::on_tokio::{handle_connection, runtime};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn main() {
    let config = Config::from_args(
        "bug-7",
        "find the bug: a task per connection (tokio)",
        Flags::WithMaxConnections,
    );
    runtime().block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends. Spawned tasks are on their own, so we
        // wait for them below.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        let mut accept_errors = AcceptErrors::new();
        TcpListenerStream::new(listener)
            // A failed accept is dropped here. Out of file descriptors, it first pauses (10 ms,
            // doubling to 1 s) on the runtime's timer, because the next accept would fail at
            // once, forever; the log gets a line a second at most. (Stage 1 says more.)
            .filter_map(|stream| accept_errors.sift(stream, tokio::time::sleep))
            .take_until(shutdown::requested())
            .for_each(|stream| async move {
                // Its own task, on any of the runtime's workers; a panic in it comes
                // back here as an error instead of taking the accept loop down.
                if let Err(err) = tokio::spawn(handle_connection(stream, config)).await {
                    eprintln!("(connection task failed: {err})");
                }
                // Backpressure: at --max-connections in flight, accept no more until one
                // finishes. New clients wait in the kernel's listen queue meanwhile.
                shutdown::wait_for_room(config.max_connections).await;
            })
            .await;
        // ANCHOR_END: accept_loop
        shutdown::all_done().await;
    });
    shutdown::finished();
}
