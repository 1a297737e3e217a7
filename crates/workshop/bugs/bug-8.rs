//! Find the bug: a task per connection, on a tokio runtime.
//!
//! Each connection is spawned as a task of its own, and the accept loop goes straight back
//! to accepting.

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_tokio::handle_connection;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn main() {
    let config = Config::from_args(
        "bug-8",
        "find the bug: a task per connection (tokio)",
        Flags::WithMaxConnections,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| {
            eprintln!("error: cannot start the tokio runtime: {err}");
            std::process::exit(1)
        });
    runtime.block_on(async {
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
                // Its own task, on the runtime. Dropping the handle detaches the task:
                // it runs to the end without us waiting for it.
                drop(tokio::spawn(handle_connection(stream, config)));
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
