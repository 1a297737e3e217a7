//! A runtime of our own, small enough to read in one sitting: what async-std, tokio and smol
//! do when a handler writes `.await`, in a few hundred lines of safe Rust.
//!
//! One file per idea:
//! - [`executor`]: tasks are `Arc`s that put themselves back on a run queue when woken;
//!   [`block_on`] drives one future on the calling thread (stages 3 and 4), [`spawn`] hands
//!   one to worker threads that share the queue (stage 5).
//! - [`reactor`]: one thread asks the OS (through `mio`) which sockets are ready, and when
//!   the next timer is due, and wakes the tasks that wait for them.
//! - [`timer`]: [`sleep`], a future that is ready at a deadline.
//! - [`net`]: [`TcpListener`] and [`TcpStream`], non-blocking sockets that implement the
//!   `futures-io` traits, so stage 3's handler runs on them unchanged.
//! - [`trace`]: with `MINI_RUNTIME_TRACE=1`, one line on stderr for every poll, every
//!   `Pending` and what it waits for, every wake-up from the reactor, every finished task.
//!
//! What it leaves out, and the real runtimes do (work stealing, a reactor per thread, a
//! budget per task, a pool for blocking calls), is in the book's chapter "Under the hood".

use std::sync::{Mutex, MutexGuard, PoisonError};

pub mod executor;
pub mod net;
pub mod reactor;
pub mod timer;
pub mod trace;

pub use executor::{JoinHandle, block_on, spawn};
pub use net::{Incoming, TcpListener, TcpStream};
pub use timer::{Sleep, sleep};

/// Locks a mutex, and goes on if a thread panicked while holding it: every value behind
/// this crate's locks stays consistent between statements, so a panic leaves nothing half
/// done, and one panicking task must not stop the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
