//! Collecting and parsing a request head, without doing any I/O.
//!
//! A stage reads from its socket into [`HeadBuffer::free_space`] and reports how many bytes
//! arrived with [`HeadBuffer::filled`], until the buffer says the request is [`HeadProgress::Ready`].
//! The same few lines work for a blocking `Read`, a futures-io `AsyncRead` and a tokio `AsyncRead`.
//!
//! Two details make the server well-behaved where the Rust Book's is not:
//! - It reads the *whole* head (up to the blank line) and any small body before answering.
//!   Closing a socket that still has unread bytes makes the kernel send a reset, and the client
//!   may then lose the response it was about to read. A request it refuses before its end
//!   (a body too large, an HTTP/2 preface) is answered at once and marked
//!   [`Reply::needs_lingering_close`]: the handler then reads what still comes after the
//!   answer ([`crate::linger`]).
//! - It honours `Expect: 100-continue`: such a client sends its body only after `100
//!   Continue` (curl waits a second for it, other clients for ever). The server sends it when
//!   it will read the body, and its final answer at once when it will not.
//! - It holds per connection only what it needs: the buffer starts empty and grows on demand up
//!   to [`MAX_HEAD_BYTES`], and the parsed [`Reply`] keeps two short strings. Ten thousand waiting
//!   connections should cost kilobytes each, not the 8 KiB of a buffer sized for the worst case.

use crate::reply::{CONTINUE_RESPONSE, Reply, Status, Work};

/// The longest request head this server reads; a longer one is answered with 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The largest request body this server reads (and throws away); a larger one gets 413.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// The first read fits a typical request from curl or a browser; the buffer doubles from there.
const FIRST_READ_BYTES: usize = 512;
/// More headers than any browser sends; a request with more is answered with 431.
const MAX_HEADERS: usize = 64;

/// What [`HeadBuffer::filled`] learned from the latest read.
#[derive(Debug)]
pub enum HeadProgress {
    /// The head is not complete yet: read again into [`HeadBuffer::free_space`].
    NeedMore,
    /// The client asked for a go-ahead before its body (`Expect: 100-continue`) and the server
    /// will read it: write these bytes (`100 Continue`), then read again.
    SendContinue(&'static [u8]),
    /// The client closed the connection before sending a single byte, as browsers do with the
    /// connections they open in advance. There is nobody to answer.
    ClosedWithoutRequest,
    /// The request is read: do the reply's work, then send its bytes. Bad requests get a ready
    /// reply too (400, 405, 431, ...), so the client always learns what went wrong.
    Ready(Reply),
}

/// The bytes of one request head, collected across as many reads as the client needs.
#[derive(Debug, Default)]
pub struct HeadBuffer {
    bytes: Vec<u8>,
    /// How many bytes of `bytes` the client has sent; the rest is room for the next read.
    len: usize,
    /// After the head: input still to be read and thrown away before answering.
    skipping: Option<Skip>,
}

/// Input that must be read (and dropped) before the reply is sent: closing a socket with
/// unread input resets the connection, and the client would lose the reply.
#[derive(Debug)]
struct Skip {
    reply: Reply,
    until: SkipUntil,
}

#[derive(Debug)]
enum SkipUntil {
    /// The rest of a request body, this many bytes.
    BodyEnd(u64),
    /// The blank line that ends a head we refused (too large or unreadable), looked for in at
    /// most [`MAX_SKIP_BYTES`] more bytes; `tail` holds the last bytes seen, in case the blank
    /// line is split across two reads.
    BlankLine { skipped: usize, tail: Vec<u8> },
}

/// How much of a refused head is read in search of its end before giving up on it.
const MAX_SKIP_BYTES: usize = 64 * 1024;

impl HeadBuffer {
    /// An empty buffer: it allocates nothing until the first read.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the next read should put its bytes. Never empty.
    pub fn free_space(&mut self) -> &mut [u8] {
        if let Some(skip) = &self.skipping {
            // Reading only to drop the bytes: reuse the room we already have.
            let room = self.bytes.capacity().max(FIRST_READ_BYTES);
            let room = match skip.until {
                SkipUntil::BodyEnd(remaining) => {
                    room.min(usize::try_from(remaining).unwrap_or(room)).max(1)
                }
                SkipUntil::BlankLine { .. } => room,
            };
            self.bytes.resize(room, 0);
            return &mut self.bytes[..];
        }
        if self.len == self.bytes.len() {
            // Full: grow. 512, 1024, ... up to the limit, so small heads stay small.
            let grown = (self.len * 2).clamp(FIRST_READ_BYTES, MAX_HEAD_BYTES);
            self.bytes.resize(grown.max(self.len + 1), 0);
        }
        &mut self.bytes[self.len..]
    }

    /// Takes note that the latest read put `count` bytes into [`Self::free_space`]; 0 means
    /// the client closed its side of the connection.
    pub fn filled(&mut self, count: usize) -> HeadProgress {
        let end_of_input = count == 0;
        if let Some(skip) = self.skipping.take() {
            return self.skipped(skip, count);
        }
        self.len = (self.len + count).min(self.bytes.len());
        if end_of_input && self.len == 0 {
            return HeadProgress::ClosedWithoutRequest;
        }
        let (reply, until) = match parse_head(&self.bytes[..self.len]) {
            Parsed::Complete {
                reply,
                body_len,
                head_len,
                expects_continue,
            } => {
                let body_already_read = (self.len - head_len) as u64;
                let body_left = body_len.saturating_sub(body_already_read);
                if expects_continue && body_left > 0 && !end_of_input {
                    return self.answer_expectation(reply, body_left);
                }
                (reply, SkipUntil::BodyEnd(body_left))
            }
            Parsed::Partial if end_of_input => {
                return HeadProgress::Ready(Reply::error(Status::BadRequest));
            }
            Parsed::Partial if self.len >= MAX_HEAD_BYTES => self.refused(Status::HeadTooLarge),
            Parsed::Partial => return HeadProgress::NeedMore,
            // The refused head has arrived, but not what may follow it (a body, HTTP/2 frames).
            Parsed::Invalid(status) if ends_head(&self.bytes[..self.len]) => {
                return HeadProgress::Ready(Reply::error(status).refusing_mid_stream());
            }
            Parsed::Invalid(status) => self.refused(status),
        };
        if end_of_input || matches!(until, SkipUntil::BodyEnd(0)) {
            return HeadProgress::Ready(reply);
        }
        // Keep the reply, give up the head's bytes: from here on the buffer is scratch space.
        self.bytes.clear();
        self.len = 0;
        self.skipping = Some(Skip { reply, until });
        HeadProgress::NeedMore
    }

    /// The error reply for a head we refuse, and the search for its end, starting from the
    /// last bytes seen in case the blank line is split across two reads.
    fn refused(&self, status: Status) -> (Reply, SkipUntil) {
        let tail = self.bytes[self.len.saturating_sub(3)..self.len].to_vec();
        (
            Reply::error(status).refusing_mid_stream(),
            SkipUntil::BlankLine { skipped: 0, tail },
        )
    }

    /// `Expect: 100-continue` with `body_left` bytes still to come: the client waits for our
    /// word before sending them. A request the server serves gets `100 Continue` and its body
    /// is read; any other (405, 404, ...) is answered now, without the body it does not need.
    fn answer_expectation(&mut self, reply: Reply, body_left: u64) -> HeadProgress {
        if reply.status != Status::Ok {
            return HeadProgress::Ready(reply.refusing_mid_stream());
        }
        self.bytes.clear();
        self.len = 0;
        self.skipping = Some(Skip {
            reply,
            until: SkipUntil::BodyEnd(body_left),
        });
        HeadProgress::SendContinue(CONTINUE_RESPONSE)
    }

    /// The answer when the client took longer than `--read-timeout-ms`: 408 if it sent part
    /// of a request, nothing (just close) if it sent nothing at all, like an idle spare
    /// connection from a browser. The 408 closes at once, without lingering: a client this
    /// slow is not worth another second of the server's time.
    pub fn timed_out(&self) -> Option<Reply> {
        let received_something = self.len > 0 || self.skipping.is_some();
        received_something.then(|| Reply::error(Status::RequestTimeout))
    }

    fn skipped(&mut self, mut skip: Skip, count: usize) -> HeadProgress {
        let done = match &mut skip.until {
            _ if count == 0 => true,
            SkipUntil::BodyEnd(remaining) => {
                *remaining = remaining.saturating_sub(count as u64);
                *remaining == 0
            }
            SkipUntil::BlankLine { skipped, tail } => {
                *skipped += count;
                tail.extend_from_slice(&self.bytes[..count.min(self.bytes.len())]);
                let found = ends_head(tail);
                let keep_from = tail.len().saturating_sub(3);
                tail.drain(..keep_from);
                found || *skipped >= MAX_SKIP_BYTES
            }
        };
        if done {
            return HeadProgress::Ready(skip.reply);
        }
        self.skipping = Some(skip);
        HeadProgress::NeedMore
    }
}

/// Whether these bytes hold the blank line that ends a head.
fn ends_head(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"\r\n\r\n") || bytes.windows(2).any(|w| w == b"\n\n")
}

enum Parsed {
    Complete {
        reply: Reply,
        body_len: u64,
        head_len: usize,
        /// `Expect: 100-continue` on an HTTP/1.1 request (HTTP/1.0 has no such expectation:
        /// RFC 9110, section 10.1.1, says to ignore it there).
        expects_continue: bool,
    },
    Partial,
    Invalid(Status),
}

/// Parses a request head with `httparse` and routes it. Query strings are ignored.
fn parse_head(bytes: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(bytes) {
        Ok(httparse::Status::Complete(head_len)) => head_len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Invalid(Status::HeadTooLarge),
        Err(_) => return Parsed::Invalid(Status::BadRequest),
    };
    // httparse only returns Complete with all three parts present.
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Parsed::Invalid(Status::BadRequest);
    };

    let mut host_headers = 0;
    let mut body_len: Option<u64> = None;
    let mut expects_continue = false;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("host") {
            host_headers += 1;
        } else if header.name.eq_ignore_ascii_case("expect") {
            expects_continue = version == 1 && header.value.eq_ignore_ascii_case(b"100-continue");
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are not worth their code here; say so instead of misreading them.
            return Parsed::Invalid(Status::NotImplemented);
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(header.value)
                .ok()
                .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|text| text.parse::<u64>().ok());
            match (parsed, body_len) {
                (Some(len), None) => body_len = Some(len),
                (Some(len), Some(previous)) if len == previous => {}
                _ => return Parsed::Invalid(Status::BadRequest),
            }
        }
    }
    // HTTP/1.1 requires exactly one Host header (RFC 9112, section 3.2).
    if host_headers > 1 || (version == 1 && host_headers == 0) {
        return Parsed::Invalid(Status::BadRequest);
    }
    let body_len = body_len.unwrap_or(0);
    if body_len > MAX_BODY_BYTES {
        return Parsed::Invalid(Status::ContentTooLarge);
    }

    let path = target.split(['?', '#']).next().unwrap_or_default();
    let reply = match method {
        "GET" | "HEAD" => {
            let (status, work) = route(path);
            Reply::new(method, path, status, work)
        }
        _ => Reply::new(method, path, Status::MethodNotAllowed, Work::None),
    };
    Parsed::Complete {
        reply,
        body_len,
        head_len,
        expects_continue,
    }
}

/// Which page a path gets, and what the server does before sending it.
fn route(path: &str) -> (Status, Work) {
    match path {
        "/" => (Status::Ok, Work::None),
        "/sleep" => (Status::Ok, Work::Sleep),
        "/block" => (Status::Ok, Work::Block),
        "/cpu" => (Status::Ok, Work::Cpu),
        _ => (Status::NotFound, Work::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What feeding an input to a fresh buffer came to.
    struct Fed {
        reply: Option<Reply>,
        /// How many input bytes the buffer asked for before it was ready.
        offered: usize,
        /// Whether it was ready only once the input had ended.
        needed_end_of_input: bool,
    }

    /// Feeds `input` to a fresh buffer in reads of at most `chunk` bytes, then end of input.
    fn feed_all(input: &[u8], chunk: usize) -> Fed {
        let mut head = HeadBuffer::new();
        let mut offered = 0;
        loop {
            let space = head.free_space();
            assert!(!space.is_empty(), "free_space must never be empty");
            let count = (input.len() - offered).min(chunk).min(space.len());
            space[..count].copy_from_slice(&input[offered..offered + count]);
            offered += count;
            let needed_end_of_input = count == 0;
            let reply = match head.filled(count) {
                // A client that waited for `100 Continue` sends its body now.
                HeadProgress::NeedMore | HeadProgress::SendContinue(_) => continue,
                HeadProgress::ClosedWithoutRequest => None,
                HeadProgress::Ready(reply) => Some(reply),
            };
            return Fed {
                reply,
                offered,
                needed_end_of_input,
            };
        }
    }

    fn feed(input: &[u8], chunk: usize) -> Option<Reply> {
        feed_all(input, chunk).reply
    }

    fn status_of(input: &[u8]) -> Status {
        for chunk in [1, 7, 4096] {
            let reply = feed(input, chunk).expect("a non-empty input gets a reply");
            assert_eq!(reply.status, feed(input, 100_000).expect("reply").status);
        }
        feed(input, 4096).expect("reply").status
    }

    #[test]
    fn routes_known_paths_and_ignores_queries() {
        let reply = feed(b"GET /sleep?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 4096).expect("reply");
        assert_eq!((reply.status, reply.work), (Status::Ok, Work::Sleep));
        assert_eq!(reply.path(), "/sleep");
        assert_eq!(status_of(b"GET / HTTP/1.0\r\n\r\n"), Status::Ok);
        assert_eq!(
            status_of(b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
            Status::NotFound
        );
        assert_eq!(
            feed(b"GET /block HTTP/1.0\r\n\r\n", 9).expect("reply").work,
            Work::Block
        );
        assert_eq!(
            feed(b"GET /cpu HTTP/1.0\r\n\r\n", 9).expect("reply").work,
            Work::Cpu
        );
    }

    #[test]
    fn rejects_what_it_cannot_serve() {
        assert_eq!(
            status_of(b"POST / HTTP/1.1\r\nHost: a\r\n\r\n"),
            Status::MethodNotAllowed
        );
        assert_eq!(
            status_of(b"GET / HTTP/1.1\r\n\r\n"),
            Status::BadRequest,
            "no Host"
        );
        assert_eq!(status_of(b"hello there\r\n\r\n"), Status::BadRequest);
        assert_eq!(
            status_of(b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n"),
            Status::BadRequest
        );
        assert_eq!(
            status_of(b"GET / HTTP/1.1\r\nHost: a"),
            Status::BadRequest,
            "cut short"
        );
        assert_eq!(
            status_of(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
            Status::BadRequest
        );
        let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status_of(chunked), Status::NotImplemented);
        let huge_body = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n";
        assert_eq!(status_of(huge_body), Status::ContentTooLarge);
        let two_lengths =
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(status_of(two_lengths), Status::BadRequest);
    }

    #[test]
    fn an_empty_connection_needs_no_answer() {
        assert!(feed(b"", 10).is_none());
    }

    #[test]
    fn the_head_limit_is_exactly_8_kib() {
        let head = |len: usize| {
            let start = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
            let mut bytes = start.to_vec();
            bytes.resize(len - 4, b'p');
            bytes.extend_from_slice(b"\r\n\r\n");
            bytes
        };
        assert_eq!(status_of(&head(MAX_HEAD_BYTES)), Status::Ok);
        assert_eq!(status_of(&head(MAX_HEAD_BYTES + 1)), Status::HeadTooLarge);
        assert_eq!(status_of(&head(100_000)), Status::HeadTooLarge);
    }

    #[test]
    fn a_body_is_read_and_dropped_before_the_reply() {
        let request = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n";
        let mut input = request.to_vec();
        input.resize(request.len() + 2000, b'b');
        for chunk in [1, 100, 4096] {
            let fed = feed_all(&input, chunk);
            assert_eq!(fed.offered, input.len(), "the whole body is read");
            assert!(!fed.needed_end_of_input, "and no more");
            let reply = fed.reply.expect("a reply");
            assert_eq!(reply.status, Status::MethodNotAllowed);
        }
    }

    #[test]
    fn a_refused_head_is_read_to_its_end_before_the_reply() {
        let mut oversized = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        oversized.resize(MAX_HEAD_BYTES + 3000, b'p');
        oversized.extend_from_slice(b"\r\n\r\n");
        let mut garbage = b"\x00\x01garbage".to_vec();
        garbage.resize(5000, b'g');
        garbage.extend_from_slice(b"\n\n");
        for (input, status) in [
            (oversized, Status::HeadTooLarge),
            (garbage, Status::BadRequest),
        ] {
            for chunk in [1, 2, 3, 1000, 100_000] {
                let fed = feed_all(&input, chunk);
                assert_eq!(fed.offered, input.len(), "read to the end, chunk {chunk}");
                assert!(!fed.needed_end_of_input, "and no further, chunk {chunk}");
                let reply = fed.reply.expect("a reply");
                assert_eq!(reply.status, status);
            }
        }
    }

    /// Feeds one read of `input` to a fresh buffer: what it says, and the buffer.
    fn first_read(input: &[u8]) -> (HeadBuffer, HeadProgress) {
        let mut head = HeadBuffer::new();
        head.free_space()[..input.len()].copy_from_slice(input);
        let progress = head.filled(input.len());
        (head, progress)
    }

    #[test]
    fn expect_100_continue_gets_the_final_answer_at_once_when_the_body_is_not_wanted() {
        for (head, status) in [
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n",
                Status::MethodNotAllowed,
            ),
            (
                "GET /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n",
                Status::NotFound,
            ),
        ] {
            for expect in ["Expect: 100-continue", "expect: 100-Continue"] {
                let input = format!("{head}{expect}\r\n\r\n");
                let (_, progress) = first_read(input.as_bytes());
                let HeadProgress::Ready(reply) = progress else {
                    panic!("{input:?}: answered at once, not {progress:?}");
                };
                assert_eq!(reply.status, status, "{input:?}");
                assert!(reply.needs_lingering_close(), "the body may still come");
            }
        }
    }

    #[test]
    fn expect_100_continue_gets_continue_when_the_body_will_be_read() {
        let (mut head, progress) = first_read(
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        );
        let HeadProgress::SendContinue(bytes) = progress else {
            panic!("100 Continue expected, not {progress:?}");
        };
        assert_eq!(bytes, b"HTTP/1.1 100 Continue\r\n\r\n");
        head.free_space()[..3].copy_from_slice(b"abc");
        assert!(
            matches!(head.filled(3), HeadProgress::NeedMore),
            "2 body bytes to go"
        );
        head.free_space()[..2].copy_from_slice(b"de");
        let HeadProgress::Ready(reply) = head.filled(2) else {
            panic!("ready after the body");
        };
        assert_eq!(reply.status, Status::Ok);
        assert!(
            !reply.needs_lingering_close(),
            "the request was read to its end"
        );
    }

    #[test]
    fn expect_100_continue_is_ignored_where_it_does_not_apply() {
        // HTTP/1.0 has no such expectation (RFC 9110, 10.1.1): its body is read as any other.
        let old = b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nabcde";
        // No body to wait for, or the body already sent with the head: nothing to go ahead.
        let no_body = b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n";
        let body_sent =
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nab";
        let other = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: x\r\n\r\nab";
        for input in [&old[..], no_body, body_sent, other] {
            let fed = feed_all(input, 4096);
            assert_eq!(
                fed.offered,
                input.len(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert!(!fed.needed_end_of_input);
            let reply = fed.reply.expect("a reply");
            assert_eq!(reply.status, Status::MethodNotAllowed);
            assert!(!reply.needs_lingering_close(), "read to its end");
        }
        let (_, progress) =
            first_read(b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        assert!(
            matches!(progress, HeadProgress::NeedMore),
            "HTTP/1.0: the body is read"
        );
    }

    #[test]
    fn a_request_refused_before_its_end_needs_a_lingering_close() {
        let http2_preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00";
        let too_large = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\nbbbb";
        let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n";
        let mut oversized = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        oversized.resize(MAX_HEAD_BYTES + 10, b'p');
        oversized.extend_from_slice(b"\r\n\r\n");
        for (input, status) in [
            (&http2_preface[..], Status::BadRequest),
            (too_large, Status::ContentTooLarge),
            (chunked, Status::NotImplemented),
            (&oversized, Status::HeadTooLarge),
        ] {
            for chunk in [1, 4096, 100_000] {
                let reply = feed(input, chunk).expect("a reply");
                assert_eq!(reply.status, status);
                assert!(reply.needs_lingering_close(), "{status:?}, chunk {chunk}");
            }
        }
        let served = feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 7).expect("a reply");
        assert!(!served.needs_lingering_close(), "read to its end");
    }

    #[test]
    fn a_timeout_gets_408_only_if_something_was_sent() {
        let mut head = HeadBuffer::new();
        assert!(
            head.timed_out().is_none(),
            "an idle connection is just closed"
        );
        head.free_space()[..3].copy_from_slice(b"GET");
        assert!(matches!(head.filled(3), HeadProgress::NeedMore));
        let reply = head.timed_out().expect("a partial head gets an answer");
        assert_eq!(reply.status, Status::RequestTimeout);
    }

    #[test]
    fn the_buffer_starts_small() {
        let mut head = HeadBuffer::new();
        assert_eq!(
            head.bytes.capacity(),
            0,
            "nothing is allocated before the first read"
        );
        assert_eq!(head.free_space().len(), FIRST_READ_BYTES);
    }
}
