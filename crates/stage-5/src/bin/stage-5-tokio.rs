//! Stage 5: a task per connection, on a multi-threaded executor (tokio).
//!
//! Each connection is spawned as a task of its own, and the accept loop goes straight back
//! to accepting. The runtime's worker threads (one per core) share the tasks and steal work
//! from each other, so connections are served concurrently *and* in parallel: a handler that
//! blocks its thread (`/block`) or computes (`/cpu`) holds one worker, and the others keep
//! serving. (Blocking a worker is still a mistake: with more such requests than workers, the
//! whole server stalls. `tokio::task::spawn_blocking` is the way to run blocking code.)

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_tokio::{handle_connection, runtime};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn main() {
    let config = Config::from_args(
        "stage-5-tokio",
        "a task per connection on many threads (tokio)",
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
                // Its own task, on any of the runtime's workers. Dropping the handle
                // detaches the task: it runs to the end without us waiting for it.
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
