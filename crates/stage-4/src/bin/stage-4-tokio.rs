//! Stage 4: many connections at once, all driven by one task (tokio).
//!
//! `for_each_concurrent` keeps taking connections while earlier ones are still waiting, and
//! polls all their futures from the one task that runs `main`. A connection waiting on
//! `/sleep` is a parked future, not a blocked thread, so fast requests are answered at once.
//!
//! But it is concurrency without parallelism: the runtime has a thread per core, yet there is
//! only one task, so only one thread works. A blocking call in any handler (`/block`) stalls
//! all of them, and CPU-heavy requests (`/cpu`) take turns on a single core.
//!
//! tokio's listener is not a `Stream`; `TcpListenerStream` makes it one.

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_tokio::{handle_connection, runtime};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn main() {
    let config = Config::from_args(
        "stage-4-tokio",
        "concurrent connections on one task (tokio)",
        Flags::WithMaxConnections,
    );
    runtime().block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends, and `for_each_concurrent` lets the
        // ones in flight finish.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(TcpListenerStream::new(listener), tokio::time::sleep)
            // Awaited, but alongside every other connection's future: no waiting in line.
            .for_each_concurrent(config.max_connections, |stream| {
                handle_connection(stream, config)
            })
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
