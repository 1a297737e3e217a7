//! Stage 3: async, and still one connection at a time (smol).
//!
//! The listener and the handler are async now, yet this server behaves exactly like stage 1:
//! `for_each` awaits each connection's future (the handler's) until it is finished before it
//! takes the next connection from the listener. While one client waits on `/sleep`, nobody
//! else is even accepted. Async alone is not concurrency.
//!
//! smol is async-std's maintained successor: small, and built from the same pieces.

use futures_util::StreamExt;
use server_core::{AcceptErrors, Config, Flags, announce, shutdown};
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
        let mut accept_errors = AcceptErrors::new();
        listener
            .incoming()
            // A failed accept is dropped here. Out of file descriptors, it first pauses (10 ms,
            // doubling to 1 s) on the runtime's timer, because the next accept would fail at
            // once, forever; the log gets a line a second at most. (Stage 1 says more.)
            .filter_map(|stream| accept_errors.sift(stream, smol::Timer::after))
            .take_until(shutdown::requested())
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
