//! Probes beside [`check`](crate::check): symptoms that a server's model does not show, each
//! measured from outside with the same client, as a plain function that returns what it saw.
//! The workshop's grading of the find-the-bug servers uses them.
//!
//! | probe | symptom it measures | where it works |
//! |---|---|---|
//! | [`ctrl_c_with_request_in_flight`] | at Ctrl-C, a request in flight gets no answer | Unix (signals) |
//! | [`threads_while_waiting`] | the server's thread count grows with waiting clients | Linux, macOS, Windows |
//! | [`rss_while_waiting`] | the memory each waiting connection costs | Linux, macOS, Windows |
//! | [`head_in_pieces`] | a head sent in pieces gets a proper answer | everywhere |
//!
//! The thread and memory probes read the OS through [`crate::system`].
//! Where the OS gives no way to measure, a probe returns [`ProbeError::NotOnThisOs`]: a
//! plain "not measured here", never a pass or a fail.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ServerProcess;
use crate::check::NoResponse;
use crate::client::{self, Exchange, Request};
use crate::system::{self, ProcStatus};

/// Why a probe measured nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// This OS has no way to measure it from outside; `needs` says what it would take.
    NotOnThisOs { needs: &'static str },
    /// The probe could not do its part (a signal not sent, a file not read), and why.
    Failed(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::NotOnThisOs { needs } => {
                write!(f, "not measured on this OS: it needs {needs}")
            }
            ProbeError::Failed(why) => f.write_str(why),
        }
    }
}

impl From<std::io::Error> for ProbeError {
    fn from(err: std::io::Error) -> ProbeError {
        ProbeError::Failed(err.to_string())
    }
}

/// What happened when Ctrl-C came while a slow request was being served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShutdownSeen {
    /// The slow request's answer: `Ok(status)`, or how it failed.
    pub in_flight: Result<u16, NoResponse>,
    /// How long after it was sent the slow request's exchange ended.
    pub in_flight_done: Duration,
    /// How the process exited, if it did within the wait.
    pub exit: Option<std::process::ExitStatus>,
}

impl ShutdownSeen {
    /// A graceful shutdown: the request in flight got its 200, then the process exited 0.
    pub fn graceful(&self) -> bool {
        self.in_flight == Ok(200) && self.exit.is_some_and(|status| status.success())
    }
}

/// Sends `slow_path` (which takes `slow`), presses "Ctrl-C" (SIGINT) a quarter of `slow`
/// later, and waits for the answer and the exit (up to five times `slow`). A server that
/// exits without waiting for its workers or tasks cuts the request off: stage 2 without
/// `pool.join()`, stage 5 without `shutdown::all_done().await`.
#[cfg(unix)]
pub fn ctrl_c_with_request_in_flight(
    server: &mut ServerProcess,
    slow_path: &str,
    slow: Duration,
) -> Result<ShutdownSeen, ProbeError> {
    let addr = server.addr();
    let path = slow_path.to_string();
    let request = std::thread::spawn(move || client::get(addr, &path));
    // Let the server take the request in hand, then press "Ctrl-C".
    std::thread::sleep(slow / 4);
    server.send_signal("INT")?;
    let exchange = request
        .join()
        .map_err(|_| ProbeError::Failed("the client thread panicked".into()))?;
    let exit = server.wait_for_exit(slow * 5);
    Ok(ShutdownSeen {
        in_flight: status_or_failure(&exchange),
        in_flight_done: exchange.timing.done,
        exit,
    })
}

/// Windows has no signal to send to another process.
#[cfg(not(unix))]
pub fn ctrl_c_with_request_in_flight(
    _server: &mut ServerProcess,
    _slow_path: &str,
    _slow: Duration,
) -> Result<ShutdownSeen, ProbeError> {
    Err(ProbeError::NotOnThisOs {
        needs: "Unix signals, to send Ctrl-C to another process",
    })
}

/// Threads of the server process, alone and with `clients` slow requests pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadsSeen {
    pub idle: usize,
    pub waiting: usize,
    pub clients: usize,
}

impl ThreadsSeen {
    /// How many threads each waiting client added, on average (0 for a pool or an executor).
    pub fn per_client(&self) -> f64 {
        self.waiting.saturating_sub(self.idle) as f64 / self.clients.max(1) as f64
    }

    /// Whether the threads grew with the clients: more than one new thread for every two
    /// waiting clients. A pool or an executor adds none (a runtime may start a helper or
    /// two); a thread per connection adds one a client.
    pub fn grow_with_clients(&self) -> bool {
        self.per_client() > 0.5
    }
}

/// Counts the server's threads ([`ProcStatus`]) when idle, then
/// with `clients` requests to `slow_path` pending (each sent, then given `settle` to be taken
/// in hand). "Idle" is after one `GET /` answered, because a server may print its
/// `Listening on` line before it starts its pool. A pool or an executor keeps its thread
/// count; a thread per connection grows it by one a client, with no bound: the symptom of a
/// server that spawns a thread for each. `clients` should be well above the pool size the
/// server is meant to have (say 24), and the slow route must wait longer than `settle`.
pub fn threads_while_waiting(
    server: &ServerProcess,
    slow_path: &str,
    clients: usize,
    settle: Duration,
) -> Result<ThreadsSeen, ProbeError> {
    let warm_up = client::get(server.addr(), "/");
    status_or_failure(&warm_up).map_err(|failure| {
        ProbeError::Failed(format!("GET / before counting threads: {failure}"))
    })?;
    let idle = status_of(server.pid())?.threads;
    let pending = send_slow_requests(server.addr(), slow_path, clients)?;
    std::thread::sleep(settle);
    let waiting = status_of(server.pid());
    drop(pending); // Closes the connections; their answers are not needed.
    Ok(ThreadsSeen {
        idle: idle as usize,
        waiting: waiting?.threads as usize,
        clients,
    })
}

/// Resident memory of the server process, alone and with `clients` slow requests pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RssSeen {
    pub idle_kib: usize,
    pub waiting_kib: usize,
    pub clients: usize,
}

impl RssSeen {
    /// What each waiting connection cost, in KiB: about 1 for a task, about 10 for a thread
    /// (its stack pages touched), and the buffer's size for a handler that allocates one
    /// large buffer per connection up front.
    pub fn per_client_kib(&self) -> f64 {
        self.waiting_kib.saturating_sub(self.idle_kib) as f64 / self.clients.max(1) as f64
    }
}

/// Measures the resident memory ([`ProcStatus`]) when idle, then with `clients` requests to
/// `slow_path` pending. With a few hundred clients the per-client figure is stable to a KiB;
/// a megabyte buffer per connection (say `vec![0; 1 << 20]` read into) shows as about 1 MiB
/// each, when its pages are touched. The slow route must wait at least as long as sending
/// `clients` requests takes.
pub fn rss_while_waiting(
    server: &ServerProcess,
    slow_path: &str,
    clients: usize,
    settle: Duration,
) -> Result<RssSeen, ProbeError> {
    let idle_kib = status_of(server.pid())?.rss_kib;
    let pending = send_slow_requests(server.addr(), slow_path, clients)?;
    std::thread::sleep(settle);
    let waiting = status_of(server.pid());
    drop(pending);
    Ok(RssSeen {
        idle_kib: idle_kib as usize,
        waiting_kib: waiting?.rss_kib as usize,
        clients,
    })
}

/// Sends `GET path` as single bytes `pause` apart (the whole head in pieces, as a slow client
/// or a small TCP window delivers it) and returns its answer. The contract wants the same
/// answer as for the head sent at once (200 for `/`); a handler that makes a single `read`
/// call parses a fragment instead: 400, or no answer.
pub fn head_in_pieces(addr: SocketAddr, path: &str, pause: Duration) -> Result<u16, NoResponse> {
    let bytes = client::get_request(path);
    let request = Request::new(&bytes).in_pieces(1, pause);
    let exchange = client::exchange(addr, &request, Instant::now());
    status_or_failure(&exchange)
}

fn status_or_failure(exchange: &Exchange) -> Result<u16, NoResponse> {
    match &exchange.response {
        Ok(response) => Ok(response.status),
        Err(err) => Err(NoResponse::of(err)),
    }
}

/// `clients` connections, each with a request to `path` sent and its answer not read.
fn send_slow_requests(
    addr: SocketAddr,
    path: &str,
    clients: usize,
) -> std::io::Result<Vec<std::net::TcpStream>> {
    use std::io::Write as _;
    let request = client::get_request(path);
    (0..clients)
        .map(|_| {
            let mut stream = client::connect(addr)?;
            stream.write_all(&request)?;
            Ok(stream)
        })
        .collect()
}

/// The memory and threads of process `pid`, or why they cannot be had.
fn status_of(pid: u32) -> Result<ProcStatus, ProbeError> {
    if !system::MEASURED_HERE {
        return Err(ProbeError::NotOnThisOs {
            needs: "Linux's /proc, macOS's ps or Windows' PowerShell",
        });
    }
    ProcStatus::read(pid).ok_or_else(|| {
        ProbeError::Failed(format!(
            "cannot read the memory and threads of process {pid} (has it exited?)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_per_client_and_the_growth_verdict() {
        let pool = ThreadsSeen {
            idle: 6,
            waiting: 6,
            clients: 24,
        };
        assert_eq!(pool.per_client(), 0.0);
        assert!(!pool.grow_with_clients());
        let per_connection = ThreadsSeen {
            idle: 3,
            waiting: 27,
            clients: 24,
        };
        assert_eq!(per_connection.per_client(), 1.0);
        assert!(per_connection.grow_with_clients());
        // A runtime that starts a blocking-pool helper or two is not a thread per client.
        let helpers = ThreadsSeen {
            idle: 3,
            waiting: 5,
            clients: 24,
        };
        assert!(!helpers.grow_with_clients());
    }

    #[test]
    fn not_on_this_os_says_what_it_needs() {
        let err = ProbeError::NotOnThisOs {
            needs: "Linux's /proc",
        };
        assert_eq!(
            err.to_string(),
            "not measured on this OS: it needs Linux's /proc"
        );
    }
}
