//! Workshop step 3: stage 3 → stage 4, concurrent connections on one task (async-std).
//!
//! This is stage 3 as it is: `for_each` awaits each connection before it takes the next.
//! Make the one task drive many connections' futures at once, at most `--max-connections`
//! of them. It is one method and one argument; the handler stays as it is.
//!
//! The goal, measured from outside with `--max-connections 3`: while `/sleep` requests are
//! pending, fast requests are answered at once; but `/cpu` requests take turns (it is all one
//! thread), and with 3 connections in flight a fourth waits.
//!
//! Check: `cargo xtask workshop check 3` · stuck: `cargo xtask workshop hint 3` · run your
//! copy, `crates/workshop/src/bin/step-3.rs`: `cargo run -p workshop --bin step-3`.

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
        // On Ctrl-C, the stream of connections ends; the one in hand finishes first.
        shutdown::install(config, None);

        accepted_async(listener.incoming(), task::sleep)
            // TODO(step 3): keep taking connections while earlier ones still wait, at most
            // `config.max_connections` at once.
            // Hint: `StreamExt` has a `for_each` that takes a limit first.
            // Awaited right here: the next connection waits until this one is done.
            .for_each(|stream| handle_connection(stream, config))
            .await;
    });
    shutdown::finished();
}
