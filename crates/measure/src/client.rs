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

/// The header in which every server of the project names the thread that wrote the response.
pub const SERVED_BY: &str = "X-Served-By";

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
    /// The server reset the connection after this whole response had come (it closed with
    /// bytes of the request unread, so its kernel sent a reset). The response is kept; a
    /// client that had not read it yet would have lost it.
    pub reset_after: bool,
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

    /// The thread that wrote the response, from its `X-Served-By` header (every server of
    /// the project sends one), such as `main #1` or `tokio-runtime-worker #3`.
    pub fn served_by(&self) -> Option<&str> {
        self.header(SERVED_BY)
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

    /// The thread that wrote the response, if one came and named it.
    pub fn served_by(&self) -> Option<&str> {
        self.response.as_ref().ok()?.served_by()
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

/// How a request is sent: all at once, or in pieces with pauses between them (a slow
/// client, or a head split across many TCP segments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pieces {
    Whole,
    Of { len: usize, pause: Duration },
}

/// How the end of a response is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadUntil {
    /// The server closes the connection. Reading to the close, not to `Content-Length`,
    /// catches a server that writes more than it announced.
    Close,
    /// The body that `Content-Length` announced is complete (or the server closes): a
    /// keep-alive server, written in any language and graded by the check, does not close.
    ContentLength,
    /// As [`ReadUntil::ContentLength`], then one more read of at most [`END_WAIT`] to see how
    /// the connection ends: a close, a keep-alive server's silence, or a reset (the server
    /// closed with bytes of the request unread: [`Response::reset_after`]). For the check's
    /// contract, where a moment more per request costs nothing.
    ContentLengthThenEnd,
}

/// How long [`ReadUntil::ContentLengthThenEnd`] waits to see the connection end.
pub const END_WAIT: Duration = Duration::from_millis(250);

/// One request to send: its bytes (none, for an idle client that only connects), how to send
/// them, how to read the answer, and how long to wait for a connection and for each read.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub bytes: &'a [u8],
    pub pieces: Pieces,
    pub read: ReadUntil,
    pub timeout: Duration,
}

impl<'a> Request<'a> {
    /// `bytes` all at once, read to the close, with the client's default timeouts.
    pub fn new(bytes: &'a [u8]) -> Request<'a> {
        Request {
            bytes,
            pieces: Pieces::Whole,
            read: ReadUntil::Close,
            timeout: READ_TIMEOUT,
        }
    }

    pub fn in_pieces(self, len: usize, pause: Duration) -> Request<'a> {
        let pieces = Pieces::Of {
            len: len.max(1),
            pause,
        };
        Request { pieces, ..self }
    }

    pub fn read_until(self, read: ReadUntil) -> Request<'a> {
        Request { read, ..self }
    }

    pub fn within(self, timeout: Duration) -> Request<'a> {
        Request { timeout, ..self }
    }
}

/// A request that is sent and whose answer is still to be read: [`InFlight::finish`] reads
/// it, on this thread or another.
#[derive(Debug)]
pub struct InFlight {
    stream: TcpStream,
    scheduled: Instant,
    timing: Timing,
    read: ReadUntil,
}

impl InFlight {
    /// Reads and parses the answer; the exchange is done when this returns.
    pub fn finish(mut self) -> Exchange {
        let response = read_response(
            &mut self.stream,
            self.scheduled,
            &mut self.timing,
            self.read,
        );
        done(self.scheduled, self.timing, response)
    }
}

/// The one timed client, first half: connects and sends `request` to `addr`, timing from
/// `scheduled` (which may be in the past if the client is late: that lateness then counts,
/// as it would for a real user). An error ends the exchange at once.
pub fn start(
    addr: SocketAddr,
    request: &Request,
    scheduled: Instant,
) -> Result<InFlight, Exchange> {
    let mut timing = Timing::default();
    let sent = connect_within(addr, request.timeout).and_then(|mut stream| {
        timing.connect = Some(scheduled.elapsed());
        write_request(&mut stream, request)?;
        Ok(stream)
    });
    match sent {
        Ok(stream) => Ok(InFlight {
            stream,
            scheduled,
            timing,
            read: request.read,
        }),
        Err(err) => Err(done(scheduled, timing, Err(err))),
    }
}

/// The one timed client, whole: sends `request` to `addr` and reads its answer, everything
/// timed from `scheduled`.
pub fn exchange(addr: SocketAddr, request: &Request, scheduled: Instant) -> Exchange {
    match start(addr, request, scheduled) {
        Ok(in_flight) => in_flight.finish(),
        Err(failed) => failed,
    }
}

/// Sends `GET path` now and reads the whole response.
pub fn get(addr: SocketAddr, path: &str) -> Exchange {
    send(addr, &get_request(path))
}

/// Sends raw bytes now and reads the whole response.
pub fn send(addr: SocketAddr, request: &[u8]) -> Exchange {
    exchange(addr, &Request::new(request), Instant::now())
}

fn write_request(stream: &mut TcpStream, request: &Request) -> io::Result<()> {
    match request.pieces {
        Pieces::Whole => stream.write_all(request.bytes),
        Pieces::Of { len, pause } => {
            for (index, piece) in request.bytes.chunks(len).enumerate() {
                if index > 0 && !pause.is_zero() {
                    thread::sleep(pause);
                }
                stream.write_all(piece)?;
            }
            Ok(())
        }
    }
}

fn done(scheduled: Instant, mut timing: Timing, response: io::Result<Response>) -> Exchange {
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

/// Reads the answer (to the close, or to its `Content-Length`), noting when its first byte
/// came, then parses it.
fn read_response(
    stream: &mut TcpStream,
    scheduled: Instant,
    timing: &mut Timing,
    until: ReadUntil,
) -> io::Result<Response> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let count = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => count,
            // A signal to this process (not to the server) is no answer: read again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // Answered, then reset: the answer came whole, and is what happened first.
            Err(err)
                if err.kind() == io::ErrorKind::ConnectionReset && body_is_complete(&bytes) =>
            {
                let mut response = parse_response(&bytes)?;
                response.reset_after = true;
                return Ok(response);
            }
            Err(err) => return Err(err),
        };
        if timing.first_byte.is_none() {
            timing.first_byte = Some(scheduled.elapsed());
        }
        bytes.extend_from_slice(&chunk[..count]);
        if until == ReadUntil::ContentLength && body_is_complete(&bytes) {
            break;
        }
        if until == ReadUntil::ContentLengthThenEnd && body_is_complete(&bytes) {
            let mut response = parse_response(&bytes)?;
            response.reset_after = ends_in_a_reset(stream);
            return Ok(response);
        }
    }
    parse_response(&bytes)
}

/// After a whole response: whether the connection then ends in a reset, within [`END_WAIT`]
/// in all (a server that goes on sending cannot hold the probe).
fn ends_in_a_reset(stream: &mut TcpStream) -> bool {
    let deadline = Instant::now() + END_WAIT;
    let mut rest = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.read(&mut rest) {
            Ok(0) => return false,
            Ok(_) => continue, // More than announced: the contract's other points say so.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return err.kind() == io::ErrorKind::ConnectionReset,
        }
    }
}

/// Whether `bytes` hold a whole response head and as many body bytes as its `Content-Length`.
/// Without that header, only the server's close ends the response.
/// Whether `bytes` hold a whole response: its head and as much body as its `Content-Length`.
pub(crate) fn body_is_complete(bytes: &[u8]) -> bool {
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
        reset_after: false,
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
    reset_on_close(&stream)?;
    drop(stream);
    Ok(())
}

/// Makes the stream's close send a reset (RST) instead of a polite FIN: SO_LINGER with a
/// zero timeout.
pub fn reset_on_close(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))
}

/// Connects and closes without sending anything, as browsers do with spare connections.
pub fn connect_and_close(addr: SocketAddr) -> io::Result<()> {
    connect_and_close_within(addr, READ_TIMEOUT)
}

/// [`connect_and_close`], connecting within `timeout`.
pub fn connect_and_close_within(addr: SocketAddr, timeout: Duration) -> io::Result<()> {
    drop(connect_within(addr, timeout)?);
    Ok(())
}
