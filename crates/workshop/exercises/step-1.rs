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
use std::thread;

use server_core::{AcceptErrors, Config, Flags, announce, shutdown};
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

    let mut accept_errors = AcceptErrors::new();
    for stream in listener.incoming() {
        if shutdown::is_requested() {
            break; // This connection (maybe the one that woke us up) is closed unanswered.
        }
        match accept_errors.check(stream) {
            // TODO(step 1): hand the connection to a worker and go straight back to `accept`.
            // Hint: `pool.execute(move || ...)`: the job must own `stream`; `config` is a
            // `&'static Config`, which any thread may keep.
            Ok(stream) => handle_connection(stream, config),
            // A failed accept: `pause` is zero for one client's trouble, and grows from 10 ms
            // to 1 s while we are out of file descriptors (stage 1 says why).
            Err(pause) => thread::sleep(pause),
        }
    }
    // TODO(step 1): a pool must be joined, or its queued and running jobs die with `main`.
    // Hint: `pool.join();`
    shutdown::finished();
}
