//! Find the bug: a task per connection, on a multi-threaded executor (smol).
//!
//! Each connection is spawned as a task of its own, and the accept loop goes straight back
//! to accepting. We make our own executor and run it on one thread per core.

use std::thread;

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use smol::net::TcpListener;
use smol::{Executor, future};
use stage_3::on_smol::handle_connection;

/// The executor every connection's task is spawned on.
static EXECUTOR: Executor<'static> = Executor::new();

fn main() {
    let config = Config::from_args(
        "bug-9",
        "find the bug: a task per connection (smol)",
        Flags::WithMaxConnections,
    );

    // One thread per core runs the executor's tasks.
    let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
    for _ in 0..cores {
        let worker = thread::Builder::new().name("smol-worker".to_string());
        if let Err(err) = worker.spawn(|| smol::block_on(EXECUTOR.run(future::pending::<()>()))) {
            eprintln!("(could not start an executor thread: {err}; running on fewer threads)");
        }
    }

    // The accept loop is a task too, so any executor thread can run it: if it ran inline on
    // this thread, one blocked handler scheduled here could stop the accepting.
    smol::block_on(EXECUTOR.spawn(async move {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends. Spawned tasks are on their own, so we
        // wait for them below.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), smol::Timer::after)
            .for_each(|stream| async move {
                // Its own task, on any of the executor's threads.
                drop(EXECUTOR.spawn(handle_connection(stream, config)));
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
