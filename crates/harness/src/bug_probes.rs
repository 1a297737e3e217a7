//! Probes that `check` lacks, prototyped for the find-the-bug servers (`crates/workshop/bugs/`):
//! each measures one symptom from outside with the measuring core's client, as a plain
//! function returning what it saw. Not wired into the grader yet; `crates/workshop/tests/bug_probes.rs` runs each against a bug
//! and against the code it should be.
//!
//! | probe | symptom it measures | bugs |
//! |---|---|---|
//! | [`ctrl_c_with_request_in_flight`] | at Ctrl-C, a request in flight gets no answer | 3, 6 (and 2) |
//! | [`threads_while_waiting`] | the server's thread count grows with waiting clients | 2 |
//! | [`rss_while_waiting`] | the memory each waiting connection costs | a huge per-connection buffer |
//! | [`head_in_pieces`] | a head sent in pieces gets a proper answer | a handler that reads once |
//!
//! The last two need a bug in a connection handler, which no bug has yet: they are here so
//! that the grader can take them with the rest.

#[cfg(unix)]
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::thread;
use std::time::{Duration, Instant};

#[cfg(unix)]
use measure::ServerProcess;
use measure::client::{self, Exchange, Request};

/// What happened when Ctrl-C came while a slow request was being served.
#[derive(Debug)]
pub struct ShutdownSeen {
    /// The slow request's answer: `Ok(status)`, or how it failed.
    pub in_flight: Result<u16, String>,
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
/// `pool.join()`, stage 5 without `shutdown::all_done().await`. (The workshop's step grader
/// has the same probe inline; this is it as a function of its own, for the catalogue.)
#[cfg(unix)]
pub fn ctrl_c_with_request_in_flight(
    server: &mut ServerProcess,
    slow_path: &str,
    slow: Duration,
) -> io::Result<ShutdownSeen> {
    let addr = server.addr();
    let path = slow_path.to_string();
    let request = thread::spawn(move || client::get(addr, &path));
    thread::sleep(slow / 4);
    server.send_signal("INT")?;
    let exchange = request
        .join()
        .map_err(|_| io::Error::other("the client thread panicked"))?;
    let exit = server.wait_for_exit(slow * 5);
    Ok(ShutdownSeen {
        in_flight: status_or_failure(&exchange),
        in_flight_done: exchange.timing.done,
        exit,
    })
}

/// Threads of the server process, alone and with `waiting` slow requests pending.
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
}

/// Counts the server's threads (Linux: `Threads:` in `/proc/PID/status`) when idle, then
/// with `clients` requests to `slow_path` pending (each sent, then given `settle` to be taken
/// in hand). "Idle" is after one `GET /` answered, because a server may print its
/// `Listening on` line before it starts its pool. A pool or an executor keeps its thread count; a thread per connection grows it
/// by one a client, with no bound: the symptom of a server that spawns a thread for each.
/// `clients` should be well above the pool size the server is meant to have (say 32).
#[cfg(target_os = "linux")]
pub fn threads_while_waiting(
    server: &ServerProcess,
    slow_path: &str,
    clients: usize,
    settle: Duration,
) -> io::Result<ThreadsSeen> {
    let warm_up = client::get(server.addr(), "/");
    status_or_failure(&warm_up).map_err(io::Error::other)?;
    let idle = proc_status_field(server.pid(), "Threads:")?;
    let pending = send_slow_requests(server.addr(), slow_path, clients)?;
    thread::sleep(settle);
    let waiting = proc_status_field(server.pid(), "Threads:");
    drop(pending); // Closes the connections; their answers are not needed.
    Ok(ThreadsSeen {
        idle,
        waiting: waiting?,
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

/// Measures `VmRSS` of `/proc/PID/status` (Linux) when idle, then with `clients` requests to
/// `slow_path` pending. With a few hundred clients the per-client figure is stable to a KiB;
/// a megabyte buffer per connection (say `vec![0; 1 << 20]` read into) shows as about 1 MiB
/// each, when its pages are touched. The slow route must wait at least as long as sending
/// `clients` requests takes.
#[cfg(target_os = "linux")]
pub fn rss_while_waiting(
    server: &ServerProcess,
    slow_path: &str,
    clients: usize,
    settle: Duration,
) -> io::Result<RssSeen> {
    let idle_kib = proc_status_field(server.pid(), "VmRSS:")?;
    let pending = send_slow_requests(server.addr(), slow_path, clients)?;
    thread::sleep(settle);
    let waiting_kib = proc_status_field(server.pid(), "VmRSS:");
    drop(pending);
    Ok(RssSeen {
        idle_kib,
        waiting_kib: waiting_kib?,
        clients,
    })
}

/// Sends `GET path` as single bytes `pause` apart (the whole head in pieces, as a slow client
/// or a small TCP window delivers it) and returns its answer. The contract wants the same
/// answer as for the head sent at once (200 for `/`); a handler that makes a single `read`
/// call parses a fragment instead: 400, or no answer.
pub fn head_in_pieces(addr: SocketAddr, path: &str, pause: Duration) -> Result<u16, String> {
    let bytes = client::get_request(path);
    let request = Request::new(&bytes).in_pieces(1, pause);
    let exchange = client::exchange(addr, &request, Instant::now());
    status_or_failure(&exchange)
}

fn status_or_failure(exchange: &Exchange) -> Result<u16, String> {
    match &exchange.response {
        Ok(response) => Ok(response.status),
        Err(err) => Err(err.to_string()),
    }
}

/// `clients` connections, each with a request to `path` sent and its answer not read.
#[cfg(target_os = "linux")]
fn send_slow_requests(
    addr: SocketAddr,
    path: &str,
    clients: usize,
) -> io::Result<Vec<std::net::TcpStream>> {
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

/// A number field of `/proc/PID/status`, such as `Threads:` or `VmRSS:` (in kB).
#[cfg(target_os = "linux")]
fn proc_status_field(pid: u32, field: &str) -> io::Result<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no {field} in /proc/{pid}/status")))
}
