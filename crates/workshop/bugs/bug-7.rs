//! Find the bug: a task per connection, on a multi-threaded executor (tokio).
//!
//! Each connection is spawned as a task of its own. The runtime's worker threads (one per
//! core) share the tasks and steal work from each other.

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
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
        accepted_async(TcpListenerStream::new(listener), tokio::time::sleep)
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
