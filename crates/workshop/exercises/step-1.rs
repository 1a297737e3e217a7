//! Workshop step 1: stage 1 → stage 2, a pool of worker threads.
//!
//! This is stage 1 as it is: the main thread serves each connection itself, so one slow
//! request blocks everyone. Make the main thread only accept, and hand each connection to a
//! pool of `--workers` threads (the `threadpool` crate) that runs `handle_connection`
//! unchanged. Before exiting, wait for the jobs the pool still holds.
//!
//! The goal, measured from outside with `--workers 3`: while two `/sleep` are pending, a fast
//! `GET /` is still answered at once; a third `/sleep` makes it wait (exactly 3 threads).
//!
//! Check: `cargo xtask workshop check 1` · stuck: `cargo xtask workshop hint 1` · run your
//! copy, `crates/workshop/src/bin/step-1.rs`: `cargo run -p workshop --bin step-1`.

use std::net::TcpListener;

use server_core::{Config, Flags, accepted, announce, shutdown};
use stage_1::handle_connection;
// TODO(step 1): bring in the pool.
// Hint: `use threadpool::ThreadPool;`

fn main() {
    let config = Config::from_args(
        "stage-2",
        "a pool of worker threads (threadpool)",
        Flags::WithWorkers,
    );
    let listener =
        TcpListener::bind(config.address()).unwrap_or_else(|err| config.exit_bind_failed(err));
    announce(listener.local_addr());
    // On Ctrl-C: finish the request in hand, accept no more, exit.
    shutdown::install(config, listener.local_addr().ok());

    // TODO(step 1): make the threads once, here, not one per connection.
    // Hint: `ThreadPool::with_name("worker".to_string(), config.workers)`; named threads
    // show up in a debugger, and a job that panics gets its thread replaced.

    for stream in accepted(listener.incoming()) {
        // TODO(step 1): hand the connection to a worker and go straight back to `accept`.
        // Hint: `pool.execute(move || ...)`: the job must own `stream`; `config` is a
        // `&'static Config`, which any thread may keep.
        handle_connection(stream, config);
    }
    // TODO(step 1): a pool must be joined, or its queued and running jobs die with `main`.
    // Hint: `pool.join();`
    shutdown::finished();
}
