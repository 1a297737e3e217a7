//! Stage 3: async, and still one connection at a time (mini-runtime).
//!
//! The listener and the handler are async now, yet this server behaves exactly like stage 1:
//! `for_each` awaits each connection's future (the handler's) until it is finished before it
//! takes the next connection from the listener. While one client waits on `/sleep`, nobody
//! else is even accepted. Async alone is not concurrency: something must drive several
//! futures at once (stage 4), or on several threads (stage 5).
//!
//! The runtime is our own (crates/mini-runtime): `block_on` polls this one future on the main
//! thread, which sleeps in between; run it with `MINI_RUNTIME_TRACE=1` to watch it. The same
//! stage on the other runtimes: `--bin stage-3`, `--bin stage-3-smol`, `--bin stage-3-tokio`.

use futures_util::StreamExt;
use mini_runtime::TcpListener;
use server_core::{Config, Flags, accepted_async, announce, shutdown};
use stage_3::on_mini::handle_connection;

fn main() {
    let config = Config::from_args(
        "stage-3-mini",
        "async, one connection at a time (mini-runtime)",
        Flags::Common,
    );
    mini_runtime::block_on(async {
        let listener = TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        // On Ctrl-C, the stream of connections ends; the one in hand finishes first.
        shutdown::install(config, None);

        // ANCHOR: accept_loop
        accepted_async(listener.incoming(), mini_runtime::sleep)
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
        // ANCHOR_END: accept_loop
    });
    shutdown::finished();
}
