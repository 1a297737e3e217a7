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
//!
//! This file holds one request (blocking and async), its [`LoadError`]s counted in
//! [`Counts`], and the [`Histogram`]; `throughput` holds the two loops, `hold` the waiting
//! connections.

mod hold;
mod throughput;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::client;

pub use hold::{HoldRun, SLOW_CONNECT, hold};
pub use throughput::{CLIENT_THREADS, LoadRun, closed_loop, open_loop};

/// How long one throughput request may take to connect, and each read or write.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a response may be; ours are under 1 KiB.
const MAX_RESPONSE: u64 = 64 * 1024;

/// Why a request got no good answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
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
    pub fn add(&mut self, error: LoadError) {
        match error {
            LoadError::Connect => self.connect += 1,
            LoadError::Reset => self.reset += 1,
            LoadError::Timeout => self.timeout += 1,
            LoadError::WrongStatus => self.wrong_status += 1,
            LoadError::Other => self.other += 1,
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

fn classify(err: &io::Error) -> LoadError {
    match err.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => LoadError::Reset,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => LoadError::Timeout,
        _ => LoadError::Other,
    }
}

/// Whether a complete response starts with a `200` status line.
fn is_ok(response: &[u8]) -> bool {
    response.len() >= 12 && response.starts_with(b"HTTP/1.") && &response[8..12] == b" 200"
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
fn one_request(addr: SocketAddr, request: &[u8], buffer: &mut Vec<u8>) -> Result<(), LoadError> {
    let mut stream =
        TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT).map_err(|_| LoadError::Connect)?;
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
fn answer_outcome(response: &[u8]) -> Result<(), LoadError> {
    if response.is_empty() {
        Err(LoadError::Reset)
    } else if is_ok(response) {
        Ok(())
    } else {
        Err(LoadError::WrongStatus)
    }
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
) -> Result<Duration, LoadError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = tokio::time::Instant::now();
    let mut stream =
        match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(_)) | Err(_) => return Err(LoadError::Connect),
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
        Err(_) => Err(LoadError::Timeout),
        Ok(Err(err)) => Err(classify(&err)),
        Ok(Ok(())) => answer_outcome(buffer).map(|()| connect_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        counts.add(LoadError::Connect);
        counts.add(LoadError::Connect);
        counts.add(LoadError::WrongStatus);
        assert_eq!(counts.describe_errors(), "2 connect, 1 wrong status");
        assert_eq!(counts.errors(), 3);
    }
}
