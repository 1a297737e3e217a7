//! Stage 5: a task per connection, on a multi-threaded executor (mini-runtime).
//!
//! Each connection is spawned as a task of its own, and the accept loop goes straight back
//! to accepting. mini-runtime's worker threads (one per core) run the tasks, so
//! connections are served concurrently *and* in parallel: a handler that blocks its thread
//! (`/block`) or computes (`/cpu`) holds one thread, and the others keep serving.
//!
//! The runtime is our own (crates/mini-runtime): its worker threads, one per core, share one
//! queue of tasks ready to run; run it with `MINI_RUNTIME_TRACE=1` to watch it. The same
//! stage on the other runtimes: `--bin stage-5`, `--bin stage-5-smol`, `--bin stage-5-tokio`.

use futures_util::StreamExt;
use mini_runtime::TcpListener;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_mini::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-5-mini",
        "a task per connection on many threads (mini-runtime)",
        Flags::WithMaxConnections,
    );
    // The accept loop is a task too, on the executor's threads, so the thread that accepts a
    // connection can go on to serve it. Run inline on this (main) thread, it would hand every
    // connection to a worker: a wake-up and a thread switch each.
    mini_runtime::block_on(mini_runtime::spawn(async move {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends. Spawned tasks are on their own, so we
        // wait for them below.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), mini_runtime::sleep)
            .for_each(|stream| async move {
                // Its own task, on any of the executor's threads. Dropping the handle
                // detaches the task: it runs to the end without us waiting for it.
                drop(mini_runtime::spawn(handle_connection(stream, config)));
                // Backpressure: at --max-connections in flight, accept no more until one
                // finishes. New clients wait in the kernel's listen queue meanwhile.
                shutdown::wait_for_room(config.max_connections).await;
            })
            .await;
        // ANCHOR_END: accept_loop
        shutdown::all_done().await;
    }));
    shutdown::finished();
}
