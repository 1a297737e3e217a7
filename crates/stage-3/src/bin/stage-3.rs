//! Stage 3: async, and still one connection at a time (async-std).
//!
//! The listener and the handler are async now, yet this server behaves exactly like stage 1:
//! `for_each` awaits each connection's future (the handler's) until it is finished before it
//! takes the next connection from the listener. While one client waits on `/sleep`, nobody
//! else is even accepted. Async alone is not concurrency: something must drive several
//! futures at once (stage 4), or on several threads (stage 5).
//!
//! async-std, which the Async Book uses, is discontinued (RUSTSEC-2025-0052); smol is its
//! successor. This is the default binary because the book's chapter uses it; the same stage
//! on the maintained runtimes: `--bin stage-3-smol`, `--bin stage-3-tokio`.

use async_std::net::TcpListener;
use async_std::task;
use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_async_std::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-3",
        "async, one connection at a time (async-std)",
        Flags::Common,
    );
    task::block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends; the one in hand finishes first.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), task::sleep)
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
