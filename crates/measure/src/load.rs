//! Load under which a server is measured, for `cargo xtask bench`: many requests, counted by
//! outcome, with every latency. (The one timed client of single requests, which the demo,
//! the check and the suite use, is [`crate::client`]; this is its many-connection
//! counterpart, built for throughput: it keeps no responses, only counts and latencies.)
//! Behind the `load` feature, because it needs tokio: the conformance suite does not.
//!
//! - [`closed_loop`]: `clients` connections, each sending `GET /` on a new connection and, as
//!   soon as the answer is complete, the next one, until the time is up (closed-loop load);
//!   all driven by [`CLIENT_THREADS`] threads, as wrk drives its connections.
//! - [`open_loop`]: requests on a fixed schedule, `rate` a second, each timed from the moment
//!   it was scheduled, whether or not a client was free to send it then (open-loop load).
//! - [`Histogram`]: latencies in buckets of a 1-2-5 series, for the terminal and `--json`.
//! - [`hold`]: `n` concurrent `GET /sleep`, their connects spread over a given time, all
//!   driven by one thread of a tokio runtime (so the client holds `n` sockets, not `n`
//!   threads), each with a deadline.
//!
//! Every loop here ends by itself: by a deadline, a count, or a timeout on each socket.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::client;

/// How long one throughput request may take to connect, and each read or write.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a response may be; ours are under 1 KiB.
const MAX_RESPONSE: u64 = 64 * 1024;

/// Why a request got no good answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be made (refused, or no answer to the SYN in time).
    Connect,
    /// The connection was reset or broken.
    Reset,
    /// A read or write timed out.
    Timeout,
    /// A complete answer, but not `200`.
    WrongStatus,
    /// Any other I/O error.
    Other,
}

/// What a batch of requests gave.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub ok: u64,
    pub connect: u64,
    pub reset: u64,
    pub timeout: u64,
    pub wrong_status: u64,
    pub other: u64,
}

impl Counts {
    pub fn add(&mut self, failure: Failure) {
        match failure {
            Failure::Connect => self.connect += 1,
            Failure::Reset => self.reset += 1,
            Failure::Timeout => self.timeout += 1,
            Failure::WrongStatus => self.wrong_status += 1,
            Failure::Other => self.other += 1,
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.ok += other.ok;
        self.connect += other.connect;
        self.reset += other.reset;
        self.timeout += other.timeout;
        self.wrong_status += other.wrong_status;
        self.other += other.other;
    }

    pub fn errors(&self) -> u64 {
        self.connect + self.reset + self.timeout + self.wrong_status + self.other
    }

    /// `0`, or the errors by kind: `3 connect, 1 reset`.
    pub fn describe_errors(&self) -> String {
        let kinds = [
            (self.connect, "connect"),
            (self.reset, "reset"),
            (self.timeout, "timeout"),
            (self.wrong_status, "wrong status"),
            (self.other, "other"),
        ];
        let named: Vec<String> = kinds
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, kind)| format!("{count} {kind}"))
            .collect();
        if named.is_empty() {
            "0".to_string()
        } else {
            named.join(", ")
        }
    }
}

fn classify(err: &io::Error) -> Failure {
    match err.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Failure::Reset,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::Timeout,
        _ => Failure::Other,
    }
}

/// Whether a complete response starts with a `200` status line.
fn is_ok(response: &[u8]) -> bool {
    response.len() >= 12 && response.starts_with(b"HTTP/1.") && &response[8..12] == b" 200"
}

/// One run of closed-loop load.
pub struct LoadRun {
    pub counts: Counts,
    /// The latency of every answered request, unsorted.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl LoadRun {
    pub fn per_second(&self) -> f64 {
        self.counts.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The threads the closed-loop clients run on: as many as wrk's `-t2`, each driving its
/// share of the connections without blocking. A thread per client (16 blocking threads on a
/// 2-core machine) made the scheduler, not the server, decide part of the result: the
/// servers' ratios to the reference came out 10-20 % above wrk's. See the chapter "What it
/// costs".
pub const CLIENT_THREADS: usize = 2;

/// `clients` connections send `GET /` on a new connection each, back to back, for
/// `duration`, spread over [`CLIENT_THREADS`] threads, each running a single-threaded tokio
/// runtime (wrk's design: an event loop per thread, no work moving between them). A request
/// still in flight at the end finishes (within its 5 s timeout) and counts. `Err` if a
/// thread's runtime could not start.
pub fn closed_loop(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
) -> Result<LoadRun, String> {
    let request: Arc<[u8]> = client::get_request("/").into();
    let started = Instant::now();
    let deadline = started + duration;
    let threads = CLIENT_THREADS.clamp(1, clients.max(1));
    let results: Vec<Result<(Counts, Vec<Duration>), String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                // The first `clients % threads` threads take one connection more.
                let share = clients / threads + usize::from(index < clients % threads);
                let request = Arc::clone(&request);
                scope.spawn(move || closed_loop_thread(addr, request, share, deadline))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a client thread panicked".to_string()))
            })
            .collect()
    });
    let results: Result<Vec<_>, String> = results.into_iter().collect();
    Ok(merged(results?, started.elapsed()))
}

/// One client thread of [`closed_loop`]: `connections` tasks on a current-thread runtime,
/// each sending its next request as soon as its last one is answered, until `deadline`.
fn closed_loop_thread(
    addr: SocketAddr,
    request: Arc<[u8]>,
    connections: usize,
    deadline: Instant,
) -> Result<(Counts, Vec<Duration>), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the client's tokio runtime: {err}"))?;
    Ok(runtime.block_on(async move {
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let request = Arc::clone(&request);
                tokio::spawn(async move {
                    let mut counts = Counts::default();
                    let mut latencies = Vec::with_capacity(64 * 1024);
                    let mut buffer = Vec::with_capacity(2048);
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let answer = one_request_async(
                            addr,
                            &request,
                            REQUEST_TIMEOUT,
                            REQUEST_TIMEOUT,
                            &mut buffer,
                        );
                        match answer.await {
                            Ok(_) => {
                                counts.ok += 1;
                                latencies.push(sent.elapsed());
                            }
                            Err(Failure::Connect) => {
                                counts.add(Failure::Connect);
                                // Do not spin on a server that is gone.
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            Err(failure) => counts.add(failure),
                        }
                    }
                    (counts, latencies)
                })
            })
            .collect();
        let mut counts = Counts::default();
        let mut latencies = Vec::new();
        for task in tasks {
            match task.await {
                Ok((part, times)) => {
                    counts.merge(&part);
                    latencies.extend(times);
                }
                // A task cannot panic here; if one did, it counts as a failed request.
                Err(_) => counts.add(Failure::Other),
            }
        }
        (counts, latencies)
    }))
}

/// One run's result from its client threads' counts and latencies.
fn merged(results: Vec<(Counts, Vec<Duration>)>, elapsed: Duration) -> LoadRun {
    let mut counts = Counts::default();
    let mut latencies = Vec::new();
    for (part, times) in results {
        counts.merge(&part);
        latencies.extend(times);
    }
    LoadRun {
        counts,
        latencies,
        elapsed,
    }
}

/// Open-loop load: request `i` is due at `start + i / rate`, for `duration`, whatever the
/// server does. `clients` threads take the requests in order; a thread sleeps until the next
/// one is due, and when every thread is busy the due requests wait, so a server that stalls
/// is charged for every request that would have been sent meanwhile. Each latency counts
/// from when its request was due (as wrk2 and oha's latency correction do), not from when a
/// thread got to send it. A request still in flight at the end finishes and counts.
///
/// Unlike [`closed_loop`], these are blocking threads: a thread's `sleep` wakes within tens
/// of microseconds of the due time, while tokio's timer has a resolution of a millisecond,
/// which would be charged to every request as latency.
pub fn open_loop(addr: SocketAddr, clients: usize, rate: u64, duration: Duration) -> LoadRun {
    let request = client::get_request("/");
    let period = Duration::from_secs(1).div_f64(rate.max(1) as f64);
    let started = Instant::now();
    let slots = (duration.as_secs_f64() * rate as f64).round() as u64;
    let next = AtomicU64::new(0);
    let results: Vec<(Counts, Vec<Duration>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (request, next) = (&request, &next);
                scope.spawn(move || {
                    let mut counts = Counts::default();
                    let mut latencies = Vec::with_capacity(64 * 1024);
                    let mut buffer = Vec::with_capacity(2048);
                    loop {
                        let slot = next.fetch_add(1, Ordering::Relaxed);
                        if slot >= slots {
                            break;
                        }
                        let due = started + period.mul_f64(slot as f64);
                        let now = Instant::now();
                        if due > now {
                            thread::sleep(due - now);
                        }
                        match one_request(addr, request, &mut buffer) {
                            Ok(()) => {
                                counts.ok += 1;
                                latencies.push(due.elapsed());
                            }
                            Err(failure) => counts.add(failure),
                        }
                    }
                    (counts, latencies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    merged(results, started.elapsed())
}

/// Latencies counted in buckets whose upper bounds follow a 1-2-5 series, from 50 µs to 10 s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    /// `(upper bound, count)`: a latency falls in the first bucket whose bound is above it.
    /// The last bound is `Duration::MAX` (anything longer than 10 s).
    pub buckets: Vec<(Duration, u64)>,
}

impl Histogram {
    pub fn of(latencies: &[Duration]) -> Histogram {
        let mut bounds = Vec::new();
        let mut decade = Duration::from_micros(10);
        while decade < Duration::from_secs(10) {
            for step in [1, 2, 5] {
                let bound = decade * step;
                if bound >= Duration::from_micros(50) {
                    bounds.push(bound);
                }
            }
            decade *= 10;
        }
        bounds.push(Duration::from_secs(10));
        bounds.push(Duration::MAX);
        let mut buckets: Vec<(Duration, u64)> = bounds.into_iter().map(|b| (b, 0)).collect();
        for latency in latencies {
            if let Some(bucket) = buckets.iter_mut().find(|(bound, _)| latency < bound) {
                bucket.1 += 1;
            }
        }
        Histogram { buckets }
    }

    /// The buckets from the first to the last that holds anything.
    pub fn used(&self) -> &[(Duration, u64)] {
        let first = self.buckets.iter().position(|(_, count)| *count > 0);
        let last = self.buckets.iter().rposition(|(_, count)| *count > 0);
        match (first, last) {
            (Some(first), Some(last)) => &self.buckets[first..=last],
            _ => &[],
        }
    }
}

/// Connect, send, read until the server closes, check the status. `buffer` is reused.
fn one_request(addr: SocketAddr, request: &[u8], buffer: &mut Vec<u8>) -> Result<(), Failure> {
    let mut stream =
        TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT).map_err(|_| Failure::Connect)?;
    let setup = stream
        .set_read_timeout(Some(REQUEST_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true));
    setup.map_err(|err| classify(&err))?;
    stream.write_all(request).map_err(|err| classify(&err))?;
    buffer.clear();
    (&mut stream)
        .take(MAX_RESPONSE)
        .read_to_end(buffer)
        .map_err(|err| classify(&err))?;
    answer_outcome(buffer)
}

/// A response as read: `200`, another status, or nothing at all.
fn answer_outcome(response: &[u8]) -> Result<(), Failure> {
    if response.is_empty() {
        Err(Failure::Reset)
    } else if is_ok(response) {
        Ok(())
    } else {
        Err(Failure::WrongStatus)
    }
}

/// One run of many concurrent slow requests.
pub struct HoldRun {
    pub counts: Counts,
    /// The latency of every answered request, from its scheduled moment, unsorted.
    pub latencies: Vec<Duration>,
    /// Connects that took longer than [`SLOW_CONNECT`]: on Linux, a SYN that the kernel
    /// dropped because the listen queue was full, and that the client sent again a second
    /// later.
    pub slow_connects: u64,
    /// The client could not run at all (its runtime did not start).
    pub client_error: Option<String>,
}

/// A connect slower than this was, on loopback, a retransmitted SYN.
pub const SLOW_CONNECT: Duration = Duration::from_millis(900);

/// `n` concurrent `GET /sleep`, the connects spread evenly over `spread`. Each connection
/// may take `connect_timeout` to connect and `answer_timeout` more for the whole answer.
pub fn hold(
    addr: SocketAddr,
    n: usize,
    spread: Duration,
    connect_timeout: Duration,
    answer_timeout: Duration,
) -> HoldRun {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            return HoldRun {
                counts: Counts::default(),
                latencies: Vec::new(),
                slow_connects: 0,
                client_error: Some(format!("cannot start the client's tokio runtime: {err}")),
            };
        }
    };
    let request: Arc<[u8]> = client::get_request("/sleep").into();
    let outcomes = runtime.block_on(async move {
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|index| {
                let request = Arc::clone(&request);
                let offset = spread.mul_f64(index as f64 / n.max(1) as f64);
                tokio::spawn(async move {
                    let at = start + offset;
                    tokio::time::sleep_until(at).await;
                    let mut response = Vec::with_capacity(1024);
                    let outcome = one_request_async(
                        addr,
                        &request,
                        connect_timeout,
                        answer_timeout,
                        &mut response,
                    )
                    .await;
                    (outcome, at.elapsed())
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(n);
        for task in tasks {
            // A task cannot panic here; if it did, it counts as a failed request.
            outcomes.push(task.await.unwrap_or((Err(Failure::Other), Duration::ZERO)));
        }
        outcomes
    });
    let mut run = HoldRun {
        counts: Counts::default(),
        latencies: Vec::with_capacity(n),
        slow_connects: 0,
        client_error: None,
    };
    for (outcome, latency) in outcomes {
        match outcome {
            Ok(connect_time) => {
                run.counts.ok += 1;
                run.latencies.push(latency);
                if connect_time > SLOW_CONNECT {
                    run.slow_connects += 1;
                }
            }
            Err(failure) => run.counts.add(failure),
        }
    }
    run
}

/// [`one_request`] without blocking, and the way wrk reads: connect within
/// `connect_timeout`, send, and read within `answer_timeout` more until the response is whole
/// (its `Content-Length`) or the server closes; then check the status and close. Not waiting
/// for the server's close saves the client a read and often a wake-up per request, which on
/// 2 shared cores is CPU taken from the server. Returns how long the connect took. `buffer`
/// is reused.
async fn one_request_async(
    addr: SocketAddr,
    request: &[u8],
    connect_timeout: Duration,
    answer_timeout: Duration,
    buffer: &mut Vec<u8>,
) -> Result<Duration, Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = tokio::time::Instant::now();
    let mut stream =
        match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(_)) | Err(_) => return Err(Failure::Connect),
        };
    let connect_time = started.elapsed();
    buffer.clear();
    let exchange = async {
        stream.write_all(request).await?;
        while (buffer.len() as u64) < MAX_RESPONSE {
            if stream.read_buf(buffer).await? == 0 || client::body_is_complete(buffer) {
                break;
            }
        }
        Ok::<(), io::Error>(())
    };
    match tokio::time::timeout(answer_timeout, exchange).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(err)) => Err(classify(&err)),
        Ok(Ok(())) => answer_outcome(buffer).map(|()| connect_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_histogram_counts_each_latency_once_below_its_bound() {
        let us = Duration::from_micros;
        let histogram = Histogram::of(&[us(10), us(49), us(50), us(150), us(150), us(30_000_000)]);
        let total: u64 = histogram.buckets.iter().map(|(_, count)| count).sum();
        assert_eq!(total, 6);
        let used = histogram.used();
        assert_eq!(used.first(), Some(&(us(50), 2)));
        assert_eq!(histogram.buckets[1], (us(100), 1));
        assert_eq!(histogram.buckets[2], (us(200), 2));
        assert_eq!(used.last(), Some(&(Duration::MAX, 1)));
        assert_eq!(Histogram::of(&[]).used(), &[] as &[(Duration, u64)]);
    }

    #[test]
    fn open_loop_sends_on_schedule_and_times_from_it() {
        // A listener that answers every request from memory, on this thread's loopback.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let server = thread::spawn(move || {
            let mut answered = 0;
            while answered < 50 {
                let Ok((mut stream, _)) = listener.accept() else {
                    break;
                };
                let mut head = [0u8; 1024];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                answered += 1;
            }
        });
        // 50 requests due over 0.5 s: the run cannot end before the last is due.
        let run = open_loop(addr, 2, 100, Duration::from_millis(500));
        server.join().expect("the listener ends");
        assert_eq!(run.counts.ok, 50, "{}", run.counts.describe_errors());
        assert_eq!(run.latencies.len(), 50);
        assert!(
            run.elapsed >= Duration::from_millis(490),
            "{:?}",
            run.elapsed
        );
    }

    #[test]
    fn closed_loop_counts_every_answer_of_every_connection() {
        // A listener that answers the first 40 requests with 200 and the rest with 503, until
        // the run is over and one last connection tells it to stop.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let over = Arc::new(AtomicBool::new(false));
        let server = thread::spawn({
            let over = Arc::clone(&over);
            move || {
                let mut answered = 0;
                while !over.load(Ordering::SeqCst) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        break;
                    };
                    let mut head = [0u8; 1024];
                    let _ = stream.read(&mut head);
                    let status = if answered < 40 { "200 OK" } else { "503 Busy" };
                    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    answered += 1;
                }
            }
        });
        // Three connections on the two client threads (two on one, one on the other).
        let run = closed_loop(addr, 3, Duration::from_millis(300)).expect("the client starts");
        over.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(addr);
        server.join().expect("the listener ends");
        assert_eq!(run.counts.ok, 40, "{}", run.counts.describe_errors());
        assert_eq!(run.latencies.len(), 40);
        assert!(
            run.counts.wrong_status > 0,
            "{}",
            run.counts.describe_errors()
        );
        assert_eq!(run.counts.errors(), run.counts.wrong_status);
        assert!(
            run.elapsed >= Duration::from_millis(300),
            "{:?}",
            run.elapsed
        );
    }

    #[test]
    fn only_200_is_ok() {
        assert!(is_ok(b"HTTP/1.1 200 OK\r\n\r\n"));
        assert!(is_ok(b"HTTP/1.0 200 OK\r\n\r\n"));
        assert!(!is_ok(b"HTTP/1.1 404 Not Found\r\n\r\n"));
        assert!(!is_ok(b"HTTP/1.1 2"));
    }

    #[test]
    fn errors_are_named_by_kind() {
        let mut counts = Counts::default();
        assert_eq!(counts.describe_errors(), "0");
        counts.add(Failure::Connect);
        counts.add(Failure::Connect);
        counts.add(Failure::WrongStatus);
        assert_eq!(counts.describe_errors(), "2 connect, 1 wrong status");
        assert_eq!(counts.errors(), 3);
    }
}
