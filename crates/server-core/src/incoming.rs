//! The connections an accept loop should serve: only the accepted ones, until shutdown.
//!
//! A listener's `incoming()` yields `io::Result`s, and a robust loop needs care around each:
//! skip one client's failed accept, pause while the process is out of file descriptors (the
//! policy and its log are [`AcceptErrors`]'), and stop at Ctrl-C. [`accepted`] (blocking)
//! and [`accepted_async`] (any runtime's stream) wrap `incoming()` with all of it, so that a
//! stage's loop is the Rust Book's or the Async Book's listing with nothing around it:
//!
//! ```ignore
//! for stream in accepted(listener.incoming()) {
//!     handle_connection(stream, config);
//! }
//! accepted_async(listener.incoming(), task::sleep)
//!     .for_each_concurrent(config.max_connections, |stream| handle_connection(stream, config))
//!     .await;
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures_core::Stream;

use crate::accept::AcceptErrors;
use crate::shutdown;

// ANCHOR: accepted
/// The streams `incoming` accepts, until shutdown is requested: a failed accept is
/// skipped, or paused after with `thread::sleep` when it means "out of descriptors"
/// (the next accept would fail at once, forever). For
/// `for stream in accepted(listener.incoming())`.
///
/// Shutdown is seen when `incoming` next returns: a blocking `accept` does not wake by
/// itself, which is what [`shutdown::install`]'s `wake_accept` address is for. The
/// connection that woke it is closed unanswered.
pub fn accepted<S, I>(mut incoming: I) -> impl Iterator<Item = S>
where
    I: Iterator<Item = io::Result<S>>,
{
    let mut errors = AcceptErrors::new();
    let next_accepted = move || {
        loop {
            let accepted = incoming.next()?;
            if shutdown::is_requested() {
                return None;
            }
            match errors.check(accepted) {
                Ok(stream) => return Some(stream),
                Err(pause) => thread::sleep(pause),
            }
        }
    };
    // Fused: after shutdown, no later call accepts again.
    std::iter::from_fn(next_accepted).fuse()
}
// ANCHOR_END: accepted

/// The async form of [`accepted`], for any runtime's stream of accepts (async-std's and
/// smol's `incoming()`, tokio's `TcpListenerStream`): it ends when shutdown is requested,
/// even while waiting for a client, and pauses on the runtime's timer (`sleep`, such as
/// `async_std::task::sleep`), which leaves the thread to the connections in flight.
pub fn accepted_async<S, I, P, F>(incoming: I, sleep: P) -> Accepted<I, P, F>
where
    I: Stream<Item = io::Result<S>>,
    P: Fn(Duration) -> F,
    F: Future,
{
    Accepted {
        incoming: Box::pin(incoming),
        sleep,
        pause: None,
        shutdown: Box::pin(shutdown::requested()),
        errors: AcceptErrors::new(),
        ended: false,
    }
}

/// The stream [`accepted_async`] returns.
pub struct Accepted<I, P, F> {
    incoming: Pin<Box<I>>,
    sleep: P,
    /// The pause after a failed accept, while it lasts.
    pause: Option<Pin<Box<F>>>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    errors: AcceptErrors,
    ended: bool,
}

// Every field that is polled is boxed, so the stream itself may move.
impl<I, P, F> Unpin for Accepted<I, P, F> {}

impl<S, I, P, F> Stream for Accepted<I, P, F>
where
    I: Stream<Item = io::Result<S>>,
    P: Fn(Duration) -> F,
    F: Future,
{
    type Item = S;

    // ANCHOR: poll_next
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        // Shutdown first, as `take_until` would: a pending accept must not hold it up.
        if this.shutdown.as_mut().poll(cx).is_ready() {
            this.ended = true;
            return Poll::Ready(None);
        }
        loop {
            if let Some(pause) = &mut this.pause {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.pause = None;
            }
            match this.incoming.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(accepted)) => match this.errors.check(accepted) {
                    Ok(stream) => return Poll::Ready(Some(stream)),
                    Err(pause) if pause.is_zero() => continue,
                    Err(pause) => this.pause = Some(Box::pin((this.sleep)(pause))),
                },
            }
        }
    }
    // ANCHOR_END: poll_next
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Waker;

    use crate::accept::test_errors::{aborted, emfile};

    /// A plain `Stream` over a list, so the test needs no runtime.
    struct Items(std::vec::IntoIter<io::Result<u8>>);

    impl Stream for Items {
        type Item = io::Result<u8>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }

    #[test]
    fn accepted_skips_failures_and_passes_streams_through() {
        let incoming = vec![Ok(1), Err(aborted()), Ok(2), Err(aborted()), Ok(3)];
        let streams: Vec<u8> = accepted(incoming.into_iter()).collect();
        assert_eq!(streams, [1, 2, 3]);
    }

    #[test]
    fn accepted_async_skips_failures_and_pauses_on_the_given_timer() {
        let pauses = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&pauses);
        let sleep = move |pause: Duration| {
            assert_eq!(pause, crate::accept::FIRST_PAUSE);
            counted.fetch_add(1, Ordering::SeqCst);
            std::future::ready(())
        };
        let incoming = Items(vec![Ok(1), Err(aborted()), Err(emfile()), Ok(2)].into_iter());
        let mut stream = accepted_async(incoming, sleep);
        let mut context = Context::from_waker(Waker::noop());
        let mut next = || Pin::new(&mut stream).poll_next(&mut context);
        assert_eq!(next(), Poll::Ready(Some(1)));
        // The skipped failure costs no pause; out of descriptors costs exactly one.
        assert_eq!(next(), Poll::Ready(Some(2)));
        assert_eq!(pauses.load(Ordering::SeqCst), 1);
        assert_eq!(next(), Poll::Ready(None));
        assert_eq!(next(), Poll::Ready(None), "ended stays ended");
    }
}
