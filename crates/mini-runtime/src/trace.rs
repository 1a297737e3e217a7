//! The runtime narrating itself. Run a server with `MINI_RUNTIME_TRACE=1` and every step of
//! the dance between tasks, the executor and the reactor gets one line on stderr:
//!
//! ```text
//! [mini-runtime] task 1 polled
//! [mini-runtime] task 1 pending: waits for socket 2 (connection from 127.0.0.1:50312) readable
//! [mini-runtime] reactor: socket 2 (connection from 127.0.0.1:50312) readable, wakes task 1
//! [mini-runtime] task 1 completed
//! ```
//!
//! A task does not know why it returned `Pending`: its future is a tree of smaller ones, and
//! only the leaves (a socket that would block, a timer not yet due) know. So each leaf notes
//! what it waits for on the thread that polls it, and the executor prints the notes when the
//! task's poll returns.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::sync::LazyLock;
use std::task::Waker;
use std::thread;

/// A task's number, in the order tasks were made: `block_on`'s future is one too.
pub type TaskId = u64;

/// Read once: whether `MINI_RUNTIME_TRACE=1` was set when the server started.
static ENABLED: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("MINI_RUNTIME_TRACE").is_some_and(|value| value == "1"));

thread_local! {
    /// The task this thread is polling right now, if any.
    static CURRENT_TASK: Cell<Option<TaskId>> = const { Cell::new(None) };
    /// What the leaves of the current poll said they wait for.
    static WAITS_FOR: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Set while the reactor wakes a task: it has said why already.
    static REACTOR_WAKING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the runtime narrates. Callers build their text in closures, so a server that does
/// not trace formats nothing.
pub fn enabled() -> bool {
    *ENABLED
}

/// Writes one line, if tracing. One `write_all` per line keeps lines from two worker threads
/// whole.
pub(crate) fn say(text: impl FnOnce() -> String) {
    if enabled() {
        let line = format!("[mini-runtime] {}\n", text());
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Notes, during a poll, one thing the current task will wait for (once, however many of
/// its futures wait for the same).
pub(crate) fn waits_for(what: impl FnOnce() -> String) {
    if enabled() {
        let what = what();
        WAITS_FOR.with_borrow_mut(|notes| {
            if !notes.contains(&what) {
                notes.push(what);
            }
        });
    }
}

/// The reactor wakes a task, and has said why.
pub(crate) fn reactor_wakes(waker: Waker) {
    REACTOR_WAKING.set(true);
    waker.wake();
    REACTOR_WAKING.set(false);
}

/// Task `id` is woken: said here unless the reactor did it (and said so). The others are
/// threads and tasks outside the runtime's knowledge: a channel, another task's end.
pub(crate) fn woken(id: TaskId) {
    if enabled() && !REACTOR_WAKING.get() {
        let thread = thread::current();
        let name = thread.name().unwrap_or("unnamed");
        say(|| format!("task {id} woken by thread {name}"));
    }
}

/// The task being polled on this thread, to be named when the reactor wakes it.
pub(crate) fn current_task() -> Option<TaskId> {
    CURRENT_TASK.get()
}

/// Polls through `poll` as task `id`, and tells what came of it: completed, or pending and
/// what for.
pub(crate) fn poll_as_task<T>(
    id: TaskId,
    poll: impl FnOnce() -> std::task::Poll<T>,
) -> std::task::Poll<T> {
    say(|| format!("task {id} polled"));
    let outer = CURRENT_TASK.replace(Some(id));
    let outcome = poll();
    CURRENT_TASK.set(outer);
    if enabled() {
        let notes = WAITS_FOR.take();
        if outcome.is_ready() {
            say(|| format!("task {id} completed"));
        } else if notes.is_empty() {
            // A channel, another task's end, a listener of some other crate: not the reactor.
            say(|| format!("task {id} pending: waits for another task or thread"));
        } else {
            say(|| format!("task {id} pending: waits for {}", notes.join(", ")));
        }
    }
    outcome
}
