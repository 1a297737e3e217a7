//! Stage 3: async, and still one connection at a time (smol).
//!
//! The listener and the handler are async now, yet this server behaves exactly like stage 1:
//! `for_each` awaits each connection's future (the handler's) until it is finished before it
//! takes the next connection from the listener. While one client waits on `/sleep`, nobody
//! else is even accepted. Async alone is not concurrency.
//!
//! smol is async-std's maintained successor: small, and built from the same pieces.

use futures_util::StreamExt;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use smol::net::TcpListener;
use stage_3::on_smol::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-3-smol",
        "async, one connection at a time (smol)",
        Flags::Common,
    );
    smol::block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends; the one in hand finishes first.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), smol::Timer::after)
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
