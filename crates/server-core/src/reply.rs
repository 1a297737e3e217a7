//! The response: its status, the work to do before sending it, and its bytes.

use std::hint::black_box;

use crate::{HELLO_HTML, MAX_BODY_BYTES, MAX_HEAD_BYTES, NOT_FOUND_HTML, thread_label};

/// Every status this server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    ContentTooLarge,
    HeadTooLarge,
    NotImplemented,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::ContentTooLarge => 413,
            Status::HeadTooLarge => 431,
            Status::NotImplemented => 501,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::ContentTooLarge => "Content Too Large",
            Status::HeadTooLarge => "Request Header Fields Too Large",
            Status::NotImplemented => "Not Implemented",
        }
    }

    /// The HTML page sent with this status.
    fn page(self) -> String {
        let explanation = match self {
            Status::Ok => return HELLO_HTML.to_string(),
            Status::NotFound => return NOT_FOUND_HTML.to_string(),
            Status::BadRequest => "The request could not be read as HTTP/1.0 or HTTP/1.1.".into(),
            Status::MethodNotAllowed => "This server answers only GET and HEAD.".into(),
            Status::RequestTimeout => {
                "The request did not arrive in time (see --read-timeout-ms).".into()
            }
            Status::ContentTooLarge => format!(
                "This server reads request bodies of at most {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
            Status::HeadTooLarge => format!(
                "This server reads request heads of at most {} KiB.",
                MAX_HEAD_BYTES / 1024
            ),
            Status::NotImplemented => "This server does not read chunked request bodies.".into(),
        };
        let (code, reason) = (self.code(), self.reason());
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n  <head><meta charset=\"utf-8\">\
             <title>{code} {reason}</title></head>\n  <body>\n    <h1>{code} {reason}</h1>\n    \
             <p>{explanation}</p>\n  </body>\n</html>\n"
        )
    }
}

/// The interim answer to `Expect: 100-continue` when the server will read the body: the
/// client sends its body only after it (RFC 9110, section 10.1.1).
pub(crate) const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What the server does between reading the request and answering it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Answer at once.
    None,
    /// `/sleep`: wait for `--sleep-ms`, the way this stage waits best (a blocking sleep in the
    /// threaded stages, the runtime's timer in the async ones).
    Sleep,
    /// `/block`: wait for `--sleep-ms` by blocking the thread, even in an async stage. That is
    /// the mistake the demo shows: it stalls every task that shares the thread.
    Block,
    /// `/cpu`: do a fixed amount of real computation ([`cpu_work`]).
    Cpu,
}

/// A response, ready to be sent once its [`Work`] is done.
///
/// It keeps the request's method and path for the log line and nothing else of the request,
/// so a connection waiting on `/sleep` holds a few dozen bytes, not its whole head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: Status,
    pub work: Work,
    method: Box<str>,
    path: Box<str>,
    /// The request was refused before all of it was read, so the client may still be
    /// sending: see [`Reply::needs_lingering_close`].
    refused_mid_stream: bool,
}

impl Reply {
    pub(crate) fn new(method: &str, path: &str, status: Status, work: Work) -> Self {
        Reply {
            status,
            work,
            method: method.into(),
            path: path.into(),
            refused_mid_stream: false,
        }
    }

    /// This reply refuses a request whose end the server will not read.
    pub(crate) fn refusing_mid_stream(self) -> Self {
        Reply {
            refused_mid_stream: true,
            ..self
        }
    }

    /// Whether the client may still be sending when this reply is written (a body the server
    /// will not read, the rest of a refused head): then the connection must end with a
    /// [`crate::linger`] close, or the client's kernel may throw the reply away.
    pub fn needs_lingering_close(&self) -> bool {
        self.refused_mid_stream
    }

    /// The answer to a request that could not be parsed: there is no method or path to log.
    pub(crate) fn error(status: Status) -> Self {
        Reply::new("-", "-", status, Work::None)
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The whole response: status line, headers and, except for `HEAD`, the page.
    ///
    /// `X-Served-By` names the thread that builds the bytes, the same label as the log line's
    /// (`main #1`, `worker #3`, `tokio-runtime-worker #5`). Every stage builds them on the
    /// thread that then writes them, so a client sees which thread served it: one thread for
    /// every answer of stage 4, several in stage 5.
    pub fn to_bytes(&self) -> Vec<u8> {
        let page = self.status.page();
        let allow = match self.status {
            Status::MethodNotAllowed => "Allow: GET, HEAD\r\n",
            _ => "",
        };
        let mut bytes = format!(
            "HTTP/1.1 {} {}\r\n\
             Content-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\n\
             {allow}\
             Connection: close\r\n\
             X-Served-By: {}\r\n\
             \r\n",
            self.status.code(),
            self.status.reason(),
            page.len(),
            header_safe(&thread_label()),
        )
        .into_bytes();
        if &*self.method != "HEAD" {
            bytes.extend_from_slice(page.as_bytes());
        }
        bytes
    }
}

/// A thread's name comes from code, not from a client, but a control character in it would
/// still break the response's head: replace any with `?`.
fn header_safe(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A fixed amount of real work for `/cpu`: about 50 ms on one core of a laptop in a release
/// build (several times that in a debug build). It keeps its thread busy the whole time, so
/// it shows whether a server can use more than one core.
pub fn cpu_work() -> u64 {
    const ROUNDS: u64 = 20_000_000;
    let mut state = black_box(0x9E37_79B9_7F4A_7C15_u64);
    for round in 0..ROUNDS {
        // xorshift: cheap, and black_box keeps the optimiser from skipping the loop.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state = black_box(state.wrapping_add(round));
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(reply: &Reply) -> String {
        String::from_utf8(reply.to_bytes()).expect("responses are UTF-8")
    }

    #[test]
    fn ok_response_has_every_header_and_the_page() {
        let reply = Reply::new("GET", "/", Status::Ok, Work::None);
        let expected = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\nX-Served-By: {}\r\n\r\n{HELLO_HTML}",
            HELLO_HTML.len(),
            thread_label()
        );
        assert_eq!(text(&reply), expected);
    }

    #[test]
    fn head_gets_the_headers_only() {
        let reply = Reply::new("HEAD", "/nope", Status::NotFound, Work::None);
        let expected = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\nX-Served-By: {}\r\n\r\n",
            NOT_FOUND_HTML.len(),
            thread_label()
        );
        assert_eq!(text(&reply), expected);
    }

    #[test]
    fn method_not_allowed_says_what_is() {
        let reply = Reply::new("DELETE", "/", Status::MethodNotAllowed, Work::None);
        let text = text(&reply);
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"));
        let body = text.split("\r\n\r\n").nth(1).expect("a body");
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
    }

    #[test]
    fn the_thread_that_built_a_response_is_named_in_it() {
        let reply = Reply::new("GET", "/", Status::Ok, Work::None);
        let built_on_worker = std::thread::Builder::new()
            .name("worker".into())
            .spawn(move || text(&reply))
            .expect("spawn a thread")
            .join()
            .expect("to_bytes does not panic");
        let head = built_on_worker.split("\r\n\r\n").next().expect("a head");
        let served_by = head
            .lines()
            .find_map(|line| line.strip_prefix("X-Served-By: "))
            .expect("an X-Served-By header");
        let number = served_by
            .strip_prefix("worker #")
            .expect("the thread's name");
        assert!(number.parse::<u64>().is_ok(), "{served_by}");
    }

    #[test]
    fn a_control_character_in_a_thread_name_cannot_break_the_head() {
        assert_eq!(
            header_safe("evil\r\nX-Injected: 1 #2"),
            "evil??X-Injected: 1 #2"
        );
    }
}
