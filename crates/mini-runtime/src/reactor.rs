//! The reactor: one thread that sleeps in the OS until a socket is ready or a timer is due,
//! then wakes the tasks waiting for them.
//!
//! A socket is registered once, when it is made: "tell me when this one becomes readable or
//! writable". mio turns that into epoll (Linux), kqueue (macOS) or IOCP (Windows), edge
//! triggered: the OS reports a change of readiness, not a state. So a task always *tries*
//! its read or write first, and only when the OS answers `WouldBlock` leaves its waker here
//! and returns `Pending`. When the OS reports the socket ready, the reactor wakes that task,
//! which puts it back on the executor's queue to try again.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use std::{fmt, process, thread};

use mio::{Events, Interest, Poll as OsPoll, Registry, Token};

use crate::trace::{self, TaskId};
use crate::{lock, timer};

/// The token of the reactor's own waker, which ends its sleep early for a new timer.
const WAKE_TOKEN: Token = Token(0);

pub(crate) struct Reactor {
    /// To register sockets from any thread while the reactor thread sleeps in the OS.
    registry: Registry,
    /// Interrupts that sleep, when a timer is set earlier than the reactor planned to wake.
    waker: mio::Waker,
    /// Every registered socket, by token: what the OS's event names.
    sources: Mutex<HashMap<Token, Arc<Source>>>,
    next_token: AtomicUsize,
}

/// The reactor, started (with its thread) on first use.
pub(crate) fn reactor() -> &'static Reactor {
    static REACTOR: LazyLock<Reactor> = LazyLock::new(|| {
        start().unwrap_or_else(|err| {
            // The OS refused an epoll (kqueue) instance or a thread: nothing async can run.
            eprintln!("error: the mini runtime cannot start its reactor: {err}");
            process::exit(1)
        })
    });
    &REACTOR
}

fn start() -> io::Result<Reactor> {
    let poll = OsPoll::new()?;
    let reactor = Reactor {
        registry: poll.registry().try_clone()?,
        waker: mio::Waker::new(poll.registry(), WAKE_TOKEN)?,
        sources: Mutex::new(HashMap::new()),
        next_token: AtomicUsize::new(1),
    };
    thread::Builder::new()
        .name("mini-runtime-reactor".to_string())
        .spawn(move || run(poll))?;
    Ok(reactor)
}

// ANCHOR: reactor_loop
/// The reactor thread: sleep in the OS until an event or the next timer, wake, repeat.
fn run(mut poll: OsPoll) {
    let mut events = Events::with_capacity(1024);
    loop {
        if let Err(err) = poll.poll(&mut events, timer::time_to_next()) {
            if err.kind() != io::ErrorKind::Interrupted {
                eprintln!("(mini runtime: the reactor cannot wait for events: {err})");
                // Not a hot loop of the same error: try again a moment later.
                thread::sleep(Duration::from_millis(100));
            }
            continue;
        }
        for event in &events {
            if event.token() == WAKE_TOKEN {
                continue;
            }
            // The lock is held for this statement only, not while the task is woken.
            let source = lock(&reactor().sources).get(&event.token()).cloned();
            let Some(source) = source else {
                continue; // Deregistered since the OS queued the event.
            };
            // An error or a hang-up is "ready" too: the next read or write reports it.
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                source.ready(Direction::Read);
            }
            if event.is_writable() || event.is_write_closed() || event.is_error() {
                source.ready(Direction::Write);
            }
        }
        timer::wake_due();
    }
}
// ANCHOR_END: reactor_loop

impl Reactor {
    /// Registers a socket for both directions, once. `describe` names it in the trace.
    pub(crate) fn register(
        &self,
        socket: &mut impl mio::event::Source,
        interest: Interest,
        describe: impl FnOnce() -> String,
    ) -> io::Result<Arc<Source>> {
        let token = Token(self.next_token.fetch_add(1, Ordering::Relaxed));
        let label = if trace::enabled() {
            format!("socket {} ({})", token.0, describe())
        } else {
            String::new()
        };
        let source = Arc::new(Source {
            token,
            label,
            // Ready until the OS says otherwise: a new socket may have data already.
            ready: [AtomicBool::new(true), AtomicBool::new(true)],
            waiters: Mutex::new([None, None]),
        });
        lock(&self.sources).insert(token, Arc::clone(&source));
        if let Err(err) = self.registry.register(socket, token, interest) {
            lock(&self.sources).remove(&token);
            return Err(err);
        }
        Ok(source)
    }

    /// Forgets a socket that is being closed.
    pub(crate) fn deregister(&self, socket: &mut impl mio::event::Source, source: &Source) {
        lock(&self.sources).remove(&source.token);
        // Closing the socket removes it from the OS's set anyway; an error changes nothing.
        let _ = self.registry.deregister(socket);
    }

    /// Ends the reactor's sleep now, so it recomputes when to wake.
    pub(crate) fn wake_up(&self) {
        if let Err(err) = self.waker.wake() {
            eprintln!("(the mini runtime could not wake its reactor: {err})");
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Read => "readable",
            Direction::Write => "writable",
        })
    }
}

/// A task waiting for something, and its number for the trace.
pub(crate) struct Waiter {
    waker: Waker,
    task: Option<TaskId>,
}

impl Waiter {
    pub(crate) fn of_current_task(cx: &Context<'_>) -> Waiter {
        Waiter {
            waker: cx.waker().clone(),
            task: trace::current_task(),
        }
    }

    /// Wakes the task, and says why.
    pub(crate) fn wake(self, why: impl FnOnce() -> String) {
        trace::say(|| match self.task {
            Some(task) => format!("reactor: {}, wakes task {task}", why()),
            None => format!("reactor: {}, wakes a waker from outside the runtime", why()),
        });
        trace::reactor_wakes(self.waker);
    }
}

/// One registered socket: whether each direction may be ready, and who waits for it.
pub(crate) struct Source {
    token: Token,
    label: String,
    ready: [AtomicBool; 2],
    waiters: Mutex<[Option<Waiter>; 2]>,
}

impl Source {
    // ANCHOR: ready
    /// The OS reported the socket ready in `direction`: wake whoever waits.
    fn ready(&self, direction: Direction) {
        // Set before taking the waiter, so a task that stores its waker after this finds
        // the flag set and tries again instead of sleeping through the event.
        self.ready[direction as usize].store(true, Ordering::SeqCst);
        let waiter = lock(&self.waiters)[direction as usize].take();
        if let Some(waiter) = waiter {
            waiter.wake(|| format!("{} {direction}", self.label));
        }
    }
    // ANCHOR_END: ready

    // ANCHOR: poll_io
    /// Tries `operation`, a non-blocking read, write or accept. If the OS says it would
    /// block, leaves the task's waker for the next readiness event and returns `Pending`.
    pub(crate) fn poll_io<T>(
        &self,
        direction: Direction,
        cx: &Context<'_>,
        mut operation: impl FnMut() -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        let ready = &self.ready[direction as usize];
        loop {
            // Cleared before trying: a readiness event from now on sets it again.
            ready.store(false, Ordering::SeqCst);
            match operation() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            let mut waiters = lock(&self.waiters);
            if ready.load(Ordering::SeqCst) {
                continue; // The event came between the try and now: try again.
            }
            waiters[direction as usize] = Some(Waiter::of_current_task(cx));
            trace::waits_for(|| format!("{} {direction}", self.label));
            return Poll::Pending;
        }
    }
    // ANCHOR_END: poll_io
}
