//! Graceful shutdown, and counting the connections in flight.
//!
//! On Ctrl-C (or SIGTERM) a server should stop accepting, let the requests it has already
//! started finish (a `/sleep` in progress completes), and then exit 0. If they take longer
//! than `--grace-ms`, it exits anyway, with 1. A second Ctrl-C exits at once.
//!
//! The same counter of connections in flight serves `--max-connections`: a server that stops
//! accepting at the limit leaves new clients waiting in the kernel's listen queue
//! (backpressure) instead of taking on more work than it can hold.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use event_listener::Event;

use crate::Config;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Notified when shutdown is requested, and whenever a connection finishes.
static CHANGED: Event = Event::new();

/// Installs the Ctrl-C and SIGTERM handler (on Windows: Ctrl-C and Ctrl-Break).
///
/// `wake_accept` is for the blocking stages: the address to connect to, so that a thread
/// blocked in `accept` wakes up and sees the request. Async stages pass `None` and stop their
/// accept loop with [`requested`].
pub fn install(config: &'static Config, wake_accept: Option<SocketAddr>) {
    let installed = ctrlc::set_handler(move || {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("shutdown: second signal, exiting now");
            process::exit(130);
        }
        let grace = config.grace.as_millis();
        eprintln!(
            "shutdown: no longer accepting; waiting up to {grace} ms for {} connection(s) in flight",
            in_flight()
        );
        CHANGED.notify(usize::MAX);
        if let Some(addr) = wake_accept {
            // Unblock `accept` with a connection of our own; it is closed unanswered.
            let _ = TcpStream::connect_timeout(&connectable(addr), Duration::from_secs(1));
        }
        thread::spawn(move || {
            thread::sleep(config.grace);
            eprintln!(
                "shutdown: the {grace} ms grace period is over with {} connection(s) still in \
                 flight; exiting anyway",
                in_flight()
            );
            process::exit(1);
        });
    });
    if let Err(err) = installed {
        eprintln!("(Ctrl-C will stop the server at once: cannot install a handler: {err})");
    }
}

/// Whether Ctrl-C or SIGTERM has arrived.
pub fn is_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Completes when shutdown is requested: `incoming().take_until(shutdown::requested())` is
/// an accept loop that stops on Ctrl-C. Works on any runtime.
pub async fn requested() {
    wait_until(is_requested).await
}

/// Logs the last step of a graceful shutdown. Call it when everything in flight is done.
pub fn finished() {
    eprintln!("shutdown: all connections done; exiting");
}

/// How many connections are being served right now.
pub fn in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// Completes when no connection is in flight (for servers that spawn a task per connection
/// and so must wait for them explicitly before exiting).
pub async fn all_done() {
    wait_until(|| in_flight() == 0).await
}

/// Completes once fewer than `max` connections are in flight. An accept loop that awaits this
/// before accepting again holds at most `max` connections; the kernel queues the rest.
pub async fn wait_for_room(max: usize) {
    if in_flight() >= max {
        eprintln!("(--max-connections {max} reached: new connections wait in the listen queue)");
    }
    wait_until(|| in_flight() < max).await
}

/// Counts one connection as in flight from its creation until it is dropped.
#[derive(Debug)]
pub struct InFlight(());

impl InFlight {
    pub fn start() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        CHANGED.notify(usize::MAX);
    }
}

/// Waits, without blocking the thread, until `condition` holds.
async fn wait_until(condition: impl Fn() -> bool) {
    loop {
        if condition() {
            return;
        }
        // Listen first, then check again, so a change between the two is not missed.
        let listener = CHANGED.listen();
        if condition() {
            return;
        }
        listener.await;
    }
}

/// `0.0.0.0:port` means "every address"; to connect, use loopback instead.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_room_ends_when_a_connection_finishes() {
        let first = InFlight::start();
        let second = InFlight::start();
        let finisher = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            drop(first);
        });
        let started = std::time::Instant::now();
        let max = in_flight();
        park_block_on(wait_for_room(max));
        assert!(started.elapsed() >= Duration::from_millis(40));
        finisher.join().expect("finisher thread");
        drop(second);
    }

    /// A minimal executor for the test: polls, and parks the thread until woken.
    fn park_block_on<F: std::future::Future>(future: F) -> F::Output {
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake, Waker};
        struct Unpark(thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut context = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            thread::park_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn unspecified_addresses_are_reached_through_loopback() {
        let any: SocketAddr = "0.0.0.0:80".parse().expect("address");
        assert_eq!(connectable(any), "127.0.0.1:80".parse().expect("address"));
        let v6: SocketAddr = "[::]:80".parse().expect("address");
        assert_eq!(connectable(v6), "[::1]:80".parse().expect("address"));
    }
}
