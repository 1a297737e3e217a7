//! Workshop step 4: stage 4 → stage 5, a task per connection on many threads (async-std).
//!
//! This is stage 4 as it is: every connection's future is polled by the one task of `main`,
//! so on one thread. Spawn each connection as a task of its own, which async-std's executor
//! runs on a thread per core. Spawned tasks are not counted or awaited by the loop any more,
//! so keep `--max-connections` yourself, and wait for them at Ctrl-C.
//!
//! The goal, measured from outside with `--max-connections 3`: `/cpu` requests run in
//! parallel; with 3 connections in flight a fourth waits (`shutdown::wait_for_room`); and at
//! Ctrl-C the spawned tasks are waited for (`shutdown::all_done`).
//!
//! Check: `cargo xtask workshop check 4` · stuck: `cargo xtask workshop hint 4` · run your
//! copy, `crates/workshop/src/bin/step-4.rs`: `cargo run -p workshop --bin step-4`.

use async_std::net::TcpListener;
use async_std::task;
use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_async_std::handle_connection;
// TODO(step 4): bring in async-std's tasks.
// Hint: `use async_std::task;` gives you `task::spawn`.

fn main() {
    let config = Config::from_args(
        "stage-5",
        "a task per connection on many threads (async-std)",
        Flags::WithMaxConnections,
    );
    task::block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends, and `for_each_concurrent` lets the
        // ones in flight finish.
        shutdown::install(config, None);

        accepted_async(listener.incoming(), task::sleep)
            // TODO(step 4): back to a plain `for_each`: the limit moves into the closure.
            .for_each_concurrent(config.max_connections, |stream| {
                // TODO(step 4): give the handler a task of its own instead of awaiting it, in
                // an `async move { .. }` block.
                // Hint: `task::spawn(future)`; `drop` its handle to detach the task.
                handle_connection(stream, config)
                // TODO(step 4): at --max-connections in flight, accept no more until one ends.
                // Hint: `shutdown::wait_for_room(config.max_connections).await;`
            })
            .await;
        // TODO(step 4): spawned tasks are on their own: wait for them before exiting.
        // Hint: `shutdown::all_done().await;`
    });
    shutdown::finished();
}
