//! Workshop step 2: stage 2 → stage 3, async (async-std).
//!
//! This is stage 2 as it is: blocking I/O on a pool of threads. Rewrite it with async I/O on
//! async-std: run the server inside `block_on`, accept with async-std's listener as a stream
//! of connections, and `.await` stage 3's async `handle_connection` for each one. The pool goes.
//!
//! The goal, measured from outside: the server is async, and still serves one connection at a
//! time: a fast `GET /` waits behind a `/sleep`, exactly like stage 1. That is the lesson:
//! async alone is not concurrency.
//!
//! Check: `cargo xtask workshop check 2` · stuck: `cargo xtask workshop hint 2` · run your
//! copy, `crates/workshop/src/bin/step-2.rs`: `cargo run -p workshop --bin step-2`.

// TODO(step 2): swap the blocking listener and handler for async ones, and drop the pool.
// Hint: `async_std::net::TcpListener`, `stage_3::on_async_std::handle_connection`, and
// `futures_util::StreamExt`, which gives a stream `for_each`.
use std::net::TcpListener;

use server_core::{Config, Flags, accepted, announce, shutdown};
use stage_1::handle_connection;
use threadpool::ThreadPool;

fn main() {
    let config = Config::from_args(
        "stage-3",
        "async, one connection at a time (async-std)",
        Flags::Common,
    );
    // TODO(step 2): run everything from `bind` to the end of the loop as one future.
    // Hint: `async_std::task::block_on(async { ... });`, and `bind(..).await`.
    let listener =
        TcpListener::bind(config.address()).unwrap_or_else(|err| config.exit_bind_failed(err));
    announce(listener.local_addr());
    // TODO(step 2): an async loop stops on Ctrl-C by itself: nothing blocked to wake up.
    // Hint: `shutdown::install(config, None);`
    shutdown::install(config, listener.local_addr().ok());

    // TODO(step 2): no pool: the one task serves every connection. (Without `--workers`,
    // this untouched pool keeps its default of 4 threads.)
    let pool = ThreadPool::with_name("worker".to_string(), config.workers);

    // TODO(step 2): `listener.incoming()` is a stream: `accepted_async` is `accepted` for
    // streams (it pauses on the runtime's timer, not with `thread::sleep`). `.await` each
    // connection before the next is taken.
    // Hint: `accepted_async(listener.incoming(), task::sleep)`, then
    // `.for_each(|stream| handle_connection(..)).await;`
    for stream in accepted(listener.incoming()) {
        pool.execute(move || handle_connection(stream, config));
    }
    // TODO(step 2): nothing left to join: the loop ends when the last connection is done.
    pool.join();
    shutdown::finished();
}
