//! Timers: [`sleep`] is a future that is ready at a deadline.
//!
//! Pending timers wait in one ordered map, soonest first. The reactor sleeps in the OS at
//! most until the soonest deadline, then wakes the tasks whose deadlines have passed. A timer
//! set sooner than the reactor planned to wake wakes the reactor, so it sleeps less.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Waiter, reactor};
use crate::{lock, trace};

struct Timers {
    /// Waiting tasks by deadline; the number tells apart timers due at the same instant.
    waiting: BTreeMap<(Instant, u64), Waiter>,
    /// When the reactor will wake by itself (`None`: only for a socket), so a new timer
    /// knows whether to wake it sooner.
    reactor_wakes_at: Option<Instant>,
}

static TIMERS: LazyLock<Mutex<Timers>> = LazyLock::new(|| {
    Mutex::new(Timers {
        waiting: BTreeMap::new(),
        reactor_wakes_at: None,
    })
});

static NEXT_TIMER: AtomicU64 = AtomicU64::new(1);

/// A future that is ready `delay` after it was made. The task waits; its thread is free.
pub fn sleep(delay: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + delay,
        delay,
        number: None,
    }
}

/// The future [`sleep`] returns.
pub struct Sleep {
    deadline: Instant,
    delay: Duration,
    /// Set once the timer is in the map, so that it can be taken out again.
    number: Option<u64>,
}

// ANCHOR: sleep
impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.forget();
            return Poll::Ready(());
        }
        let number = *self
            .number
            .get_or_insert_with(|| NEXT_TIMER.fetch_add(1, Ordering::Relaxed));
        let deadline = self.deadline;
        let wake_reactor = {
            let mut timers = lock(&TIMERS);
            timers
                .waiting
                .insert((deadline, number), Waiter::of_current_task(cx));
            let sooner = timers.reactor_wakes_at.is_none_or(|at| deadline < at);
            if sooner {
                timers.reactor_wakes_at = Some(deadline);
            }
            sooner
        };
        if wake_reactor {
            reactor().wake_up();
        }
        let millis = self.delay.as_millis();
        trace::waits_for(|| format!("timer {number} ({millis} ms)"));
        Poll::Pending
    }
}
// ANCHOR_END: sleep

impl Sleep {
    /// Takes the timer out of the map, if it is there.
    fn forget(&mut self) {
        if let Some(number) = self.number.take() {
            lock(&TIMERS).waiting.remove(&(self.deadline, number));
        }
    }
}

impl Drop for Sleep {
    /// A sleep dropped before its deadline (a read timeout that lost its race) leaves no
    /// entry behind.
    fn drop(&mut self) {
        self.forget();
    }
}

/// How long the reactor may sleep: until the soonest deadline, or for ever (`None`).
pub(crate) fn time_to_next() -> Option<Duration> {
    let mut timers = lock(&TIMERS);
    let soonest = timers.waiting.keys().next().map(|&(deadline, _)| deadline);
    timers.reactor_wakes_at = soonest;
    soonest.map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Wakes every task whose deadline has passed.
pub(crate) fn wake_due() {
    let now = Instant::now();
    let due = {
        let mut timers = lock(&TIMERS);
        let later = timers.waiting.split_off(&(now, u64::MAX));
        std::mem::replace(&mut timers.waiting, later)
    };
    for ((_, number), waiter) in due {
        waiter.wake(|| format!("timer {number} fired"));
    }
}
