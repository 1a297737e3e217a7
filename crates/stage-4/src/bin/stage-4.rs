//! Stage 4: many connections at once, all driven by one task (async-std).
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
//! async-std is discontinued (RUSTSEC-2025-0052); smol is its successor. The same stage on
//! the maintained runtimes: `--bin stage-4-smol`, `--bin stage-4-tokio`.

use async_std::net::TcpListener;
use async_std::task;
use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_async_std::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-4",
        "concurrent connections on one task (async-std)",
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

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), task::sleep)
            // Awaited, but alongside every other connection's future: no waiting in line.
            .for_each_concurrent(config.max_connections, |stream| {
                handle_connection(stream, config)
            })
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
