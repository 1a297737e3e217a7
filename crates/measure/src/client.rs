//! A raw-socket HTTP client that measures, and that can misbehave on purpose.
//!
//! Every request is timed from the moment it was *scheduled*, not from when the client got
//! around to sending it: a load generator that waits for a slow server before sending its
//! next request would hide exactly the waiting we want to show ("coordinated omission").

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How long the client waits for a connection, and for each read, before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The times of one request, each measured from when it was scheduled.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// The connection was established (the server's kernel accepted it, maybe before the
    /// server itself did).
    pub connect: Option<Duration>,
    /// The first byte of the response arrived: the server answered.
    pub first_byte: Option<Duration>,
    /// The response was complete (the server closed the connection), or the request failed.
    pub done: Duration,
}

/// A parsed response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request and what came of it.
#[derive(Debug)]
pub struct Exchange {
    pub scheduled: Instant,
    pub timing: Timing,
    pub response: io::Result<Response>,
}

impl Exchange {
    /// The status, or 0 when there was no valid response.
    pub fn status(&self) -> u16 {
        self.response
            .as_ref()
            .map(|response| response.status)
            .unwrap_or(0)
    }

    /// The whole latency, from scheduled to done.
    pub fn latency(&self) -> Duration {
        self.timing.done
    }
}

/// A well-formed `GET` for `path`.
pub fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: measure\r\n\r\n").into_bytes()
}

/// Sends `GET path` now and reads the whole response.
pub fn get(addr: SocketAddr, path: &str) -> Exchange {
    send(addr, &get_request(path))
}

/// Sends raw bytes now and reads the whole response.
pub fn send(addr: SocketAddr, request: &[u8]) -> Exchange {
    send_scheduled(addr, request, Instant::now())
}

/// Sends raw bytes, timing everything from `scheduled` (which may be in the past if the
/// client is late: that lateness then counts, as it would for a real user).
pub fn send_scheduled(addr: SocketAddr, request: &[u8], scheduled: Instant) -> Exchange {
    send_in_pieces(
        addr,
        request,
        request.len().max(1),
        Duration::ZERO,
        scheduled,
    )
}

/// Sends `request` in pieces of `piece_len` bytes with `pause` between them, then reads the
/// response: a slow client, or a head split across many TCP segments.
pub fn send_in_pieces(
    addr: SocketAddr,
    request: &[u8],
    piece_len: usize,
    pause: Duration,
    scheduled: Instant,
) -> Exchange {
    timed(scheduled, |timing| {
        let mut stream = connect(addr)?;
        timing.connect = Some(scheduled.elapsed());
        for (index, piece) in request.chunks(piece_len.max(1)).enumerate() {
            if index > 0 && !pause.is_zero() {
                thread::sleep(pause);
            }
            stream.write_all(piece)?;
        }
        read_response(&mut stream, scheduled, timing)
    })
}

/// One request's conversation, timed from `scheduled`: `talk` notes when it connected and
/// when the first byte came; `done` is when it returned, answered or failed.
pub fn timed(
    scheduled: Instant,
    talk: impl FnOnce(&mut Timing) -> io::Result<Response>,
) -> Exchange {
    let mut timing = Timing::default();
    let response = talk(&mut timing);
    timing.done = scheduled.elapsed();
    Exchange {
        scheduled,
        timing,
        response,
    }
}

/// Connects with the client's timeouts set.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    connect_within(addr, READ_TIMEOUT)
}

/// Connects within [`CONNECT_TIMEOUT`] (or `timeout`, if shorter), with `timeout` for each
/// read and write.
pub fn connect_within(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT.min(timeout))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Reads until the server closes the connection, then parses what came. (Reading to the
/// close, not to `Content-Length`, catches a server that writes more than it announced.)
pub fn read_response(
    stream: &mut TcpStream,
    scheduled: Instant,
    timing: &mut Timing,
) -> io::Result<Response> {
    read_response_until(stream, scheduled, timing, false)
}

/// Reads until the body that `Content-Length` announced is complete, or the server closes:
/// a keep-alive server, written in any language, graded by `cargo xtask check`, does not
/// close after answering.
pub fn read_announced_response(
    stream: &mut TcpStream,
    scheduled: Instant,
    timing: &mut Timing,
) -> io::Result<Response> {
    read_response_until(stream, scheduled, timing, true)
}

fn read_response_until(
    stream: &mut TcpStream,
    scheduled: Instant,
    timing: &mut Timing,
    stop_at_content_length: bool,
) -> io::Result<Response> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let count = stream.read(&mut chunk)?;
        if count == 0 {
            break;
        }
        if timing.first_byte.is_none() {
            timing.first_byte = Some(scheduled.elapsed());
        }
        bytes.extend_from_slice(&chunk[..count]);
        if stop_at_content_length && body_is_complete(&bytes) {
            break;
        }
    }
    parse_response(&bytes)
}

/// Whether `bytes` hold a whole response head and as many body bytes as its `Content-Length`.
/// Without that header, only the server's close ends the response.
fn body_is_complete(bytes: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head_len)) = response.parse(bytes) else {
        return false;
    };
    let content_length = response
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("Content-Length"))
        .and_then(|header| std::str::from_utf8(header.value).ok())
        .and_then(|value| value.trim().parse::<usize>().ok());
    content_length.is_some_and(|length| bytes.len() - head_len >= length)
}

/// Parses a complete response (the server closed the connection after it).
pub fn parse_response(bytes: &[u8]) -> io::Result<Response> {
    if bytes.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection without answering",
        ));
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "incomplete response head",
            ));
        }
        Err(err) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not an HTTP response ({err}): {:?}",
                    String::from_utf8_lossy(bytes)
                ),
            ));
        }
    };
    Ok(Response {
        status: response.code.unwrap_or(0),
        headers: response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: bytes[head_len..].to_vec(),
    })
}

/// Connects, sends `request`, waits `wait`, then resets the connection (RST instead of a
/// polite close), as a client that crashes or a browser tab that is closed.
pub fn reset_after(addr: SocketAddr, request: &[u8], wait: Duration) -> io::Result<()> {
    let mut stream = connect(addr)?;
    stream.write_all(request)?;
    thread::sleep(wait);
    // SO_LINGER with a zero timeout makes close() send a reset.
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

/// Connects and closes without sending anything, as browsers do with spare connections.
pub fn connect_and_close(addr: SocketAddr) -> io::Result<()> {
    drop(connect(addr)?);
    Ok(())
}
