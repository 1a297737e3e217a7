//! Stage 3: async, and still one connection at a time (tokio).
//!
//! The listener and the handler are async now, yet this server behaves exactly like stage 1:
//! `for_each` awaits each connection's future (the handler's) until it is finished before it
//! takes the next connection from the listener. The runtime has a thread per core, but they
//! have nothing to do: there is only one task. Async alone is not concurrency.
//!
//! tokio's listener is not a `Stream`; `TcpListenerStream` makes it one, like async-std's
//! `incoming()`, so all three runtimes share the same loop.

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_tokio::{handle_connection, runtime};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

fn main() {
    let config = Config::from_args(
        "stage-3-tokio",
        "async, one connection at a time (tokio)",
        Flags::Common,
    );
    runtime().block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends; the one in hand finishes first.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(TcpListenerStream::new(listener), tokio::time::sleep)
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
