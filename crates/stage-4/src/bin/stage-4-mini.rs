//! Stage 4: many connections at once, all driven by one task (mini-runtime).
//!
//! `for_each_concurrent` keeps taking connections while earlier ones are still waiting, and
//! polls all their futures from the one task that runs `main`. A connection waiting on
//! `/sleep` is a parked future, not a blocked thread, so fast requests are answered at once.
//!
//! But it is concurrency without parallelism: every connection runs on that one task, so on
//! one thread. A blocking call in any handler (`/block` calls `thread::sleep`) stalls all of
//! them, and CPU-heavy requests (`/cpu`) take turns on a single core. A panic in one handler
//! would end the whole task, and with it the server (no client input can cause one here).
//!
//! The runtime is our own (crates/mini-runtime): `block_on` polls this one task on the main
//! thread, which sleeps in between; run it with `MINI_RUNTIME_TRACE=1` to watch it. The same
//! stage on the other runtimes: `--bin stage-4`, `--bin stage-4-smol`, `--bin stage-4-tokio`.

use futures_util::StreamExt;
use mini_runtime::TcpListener;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_mini::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-4-mini",
        "concurrent connections on one task (mini-runtime)",
        Flags::WithMaxConnections,
    );
    mini_runtime::block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends, and `for_each_concurrent` lets the
        // ones in flight finish.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), mini_runtime::sleep)
            // Awaited, but alongside every other connection's future: no waiting in line.
            .for_each_concurrent(config.max_connections, |stream| {
                handle_connection(stream, config)
            })
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
