//! How much the lab takes on at once, and how long it waits: caps on connections, event
//! streams, hands-on servers and their requests, and time limits for a request's head and a
//! POST, each refused with a sentence. Without them, one page (or a loop of `curl`) could
//! start processes and threads without end, or hold every descriptor the lab has.
//!
//! The connection cap and the head's time limit are in the lab's own accept loop
//! ([`serve`]): `axum::serve` has neither, and tower's `ConcurrencyLimit` counts requests in
//! flight, not connections (an idle keep-alive or slowloris connection has no request in
//! flight, yet holds a descriptor and a task). hyper's HTTP/1 `header_read_timeout` is the
//! time for a whole head, not for each read: it starts when the connection waits for a head
//! (its first, or the next after an answer) and ends when the head is parsed.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::lab::guard::EVERY_ANSWER;

/// Connections open at once. A browser opens up to 6 to a host, plus the page's event
/// stream: 256 leaves room for a class of 30 browsers on one `--allow-remote` lab, and stays
/// well under the 1,024 open files a desktop gives a process by default (each connection is
/// one descriptor; each hands-on server, three more for its pipes and its socket).
pub const MAX_CONNECTIONS: usize = 256;

/// The time to send a whole request head. A browser sends its head in one write; 10 s is
/// plenty on a slow Wi-Fi, and closes slowloris connections (a head sent a byte at a time)
/// and idle keep-alive connections before they pile up.
pub const HEAD_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The time for a POST's body to arrive and its answer to be made. The page's bodies are a
/// few hundred bytes and its POSTs answer at once (runs and servers start on threads of their
/// own); stopping the hands-on servers takes the longest, well under this.
pub const POST_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Hands-on servers running (or starting) at once: one of each of the 14 binaries, what the
/// page's "all 14" then "start servers" asks for. Each is a process with its own threads
/// (stage 5's runtime has one per core); more than this is a laptop made slow, not a lesson.
pub const MAX_HANDS_ON_SERVERS: usize = measure::catalogue::BINARIES.len();

/// Hands-on requests in flight to one server, and in all. Each is a thread of the lab that
/// waits up to 6 × the delay + 15 s; 16 is more slow requests than any stage has workers
/// (the lesson is "the 17th waits" long before that), 64 keeps the lab's threads bounded.
pub const MAX_REQUESTS_PER_SERVER: usize = 16;
pub const MAX_REQUESTS_IN_ALL: usize = 64;

/// Pages connected to the event stream at once: each holds a connection for as long as it
/// is open, so half of [`MAX_CONNECTIONS`], leaving the rest for the pages' other requests.
pub const MAX_EVENT_STREAMS: usize = MAX_CONNECTIONS / 2;

// Pages keep connections for their other requests; one server can use its whole share.
const _: () = assert!(MAX_EVENT_STREAMS < MAX_CONNECTIONS);
const _: () = assert!(MAX_REQUESTS_PER_SERVER <= MAX_REQUESTS_IN_ALL);

/// Connections past [`MAX_CONNECTIONS`] that are told so (with a 503 and a sentence) and then
/// closed gracefully, at once; past these, a connection gets the same answer in one write
/// that does not wait, and is closed at once, so refusing cannot itself use up the
/// descriptors.
const MAX_BEING_REFUSED: usize = 32;

/// How long a refused connection is given to read its refusal.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The caps and time limits of one lab; [`Limits::DEFAULT`] but in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub connections: usize,
    pub head_time: Duration,
    pub post_time: Duration,
    pub hands_on_servers: usize,
    pub requests_per_server: usize,
    pub requests_in_all: usize,
    pub event_streams: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        connections: MAX_CONNECTIONS,
        head_time: HEAD_TIME_LIMIT,
        post_time: POST_TIME_LIMIT,
        hands_on_servers: MAX_HANDS_ON_SERVERS,
        requests_per_server: MAX_REQUESTS_PER_SERVER,
        requests_in_all: MAX_REQUESTS_IN_ALL,
        event_streams: MAX_EVENT_STREAMS,
    };
}

/// What the caps count, shared by the handlers and the slots they hand out.
pub struct Caps {
    pub limits: Limits,
    requests: Mutex<Requests>,
    event_streams: Mutex<usize>,
    hands_on_starting: Mutex<usize>,
}

/// Hands-on requests in flight, in all and per server.
#[derive(Default)]
struct Requests {
    in_all: usize,
    per_server: HashMap<u64, usize>,
}

/// Locks `mutex`, also after a thread panicked holding it: the lab goes on serving the next
/// page rather than failing every request after one panic.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A hands-on request in flight: counted until dropped (when its thread ends).
pub struct RequestSlot {
    caps: Arc<Caps>,
    server: u64,
}

impl Drop for RequestSlot {
    fn drop(&mut self) {
        let mut requests = lock(&self.caps.requests);
        requests.in_all = requests.in_all.saturating_sub(1);
        if let Some(count) = requests.per_server.get_mut(&self.server) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                requests.per_server.remove(&self.server);
            }
        }
    }
}

/// A page's event stream: counted while it is open.
pub struct EventStreamSlot(Arc<Caps>);

impl Drop for EventStreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.0.event_streams);
        *open = open.saturating_sub(1);
    }
}

/// Hands-on servers being started: counted until the start is over (by then each is running,
/// and counted as such, or failed).
pub struct StartingSlot {
    caps: Arc<Caps>,
    servers: usize,
}

impl Drop for StartingSlot {
    fn drop(&mut self) {
        let mut starting = lock(&self.caps.hands_on_starting);
        *starting = starting.saturating_sub(self.servers);
    }
}

impl Caps {
    pub fn new(limits: Limits) -> Arc<Caps> {
        Arc::new(Caps {
            limits,
            requests: Mutex::new(Requests::default()),
            event_streams: Mutex::new(0),
            hands_on_starting: Mutex::new(0),
        })
    }

    /// A slot for one more request to hands-on server `server`, or why not.
    pub fn request(self: &Arc<Caps>, server: u64) -> Result<RequestSlot, String> {
        let mut requests = lock(&self.requests);
        let to_server = requests.per_server.get(&server).copied().unwrap_or(0);
        if to_server >= self.limits.requests_per_server {
            return Err(format!(
                "{to_server} requests to server {server} are still under way, its cap: wait \
                 for some to end (each ends within 6 × the delay + 15 s)"
            ));
        }
        if requests.in_all >= self.limits.requests_in_all {
            return Err(format!(
                "{} hands-on requests are still under way, the lab's cap: wait for some to \
                 end, or stop the servers",
                requests.in_all
            ));
        }
        requests.in_all += 1;
        *requests.per_server.entry(server).or_insert(0) += 1;
        Ok(RequestSlot {
            caps: Arc::clone(self),
            server,
        })
    }

    /// A slot for one more page's event stream, or why not.
    pub fn event_stream(self: &Arc<Caps>) -> Result<EventStreamSlot, String> {
        let mut open = lock(&self.event_streams);
        if *open >= self.limits.event_streams {
            return Err(format!(
                "{open} pages are already connected to this lab, its cap: close some of its \
                 tabs, then reload this one"
            ));
        }
        *open += 1;
        Ok(EventStreamSlot(Arc::clone(self)))
    }

    /// Slots for `servers` more hands-on servers, or why not. `running` counts those up: it
    /// is called under the lock of the starting count, so two starts at once cannot both
    /// pass (a server that starts is counted twice for a moment, never not at all).
    pub fn hands_on(
        self: &Arc<Caps>,
        servers: usize,
        running: impl FnOnce() -> usize,
    ) -> Result<StartingSlot, String> {
        let mut starting = lock(&self.hands_on_starting);
        let running = running();
        let max = self.limits.hands_on_servers;
        if running + *starting + servers > max {
            return Err(format!(
                "{running} hands-on servers are running and {starting} starting: {servers} \
                 more would pass the lab's cap of {max} at once. Stop servers first, or start \
                 fewer.",
                starting = *starting
            ));
        }
        *starting += servers;
        Ok(StartingSlot {
            caps: Arc::clone(self),
            servers,
        })
    }
}

/// Gives a POST [`Limits::post_time`] to send its body and be answered: a body sent a byte at
/// a time would otherwise hold its connection for as long as the client likes. GETs are
/// exempt: their heads are all they send, and `/events` stays open for hours.
pub async fn post_time_limit(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONNECTION, "close"),
            ],
            json!({
                "error": format!(
                    "the request was not complete within {} s: send the whole body at once, \
                     as the lab's page does",
                    limit.as_secs_f64()
                )
            })
            .to_string(),
        )
            .into_response(),
    }
}

/// Serves `router` on `listener` with the caps of `limits` on connections and the time to
/// send a head. Returns only if the listener fails for good.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits) -> io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.connections));
    let being_refused = Arc::new(Semaphore::new(MAX_BEING_REFUSED));
    let refusal: Arc<[u8]> = Arc::from(connection_refusal(limits.connections).into_bytes());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_time);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(err) if is_connection_error(&err) => continue,
            Err(err) => {
                // Out of descriptors (EMFILE) or memory: the ones open will be closed by
                // their time limits; try again shortly rather than stop serving.
                eprintln!("warning: the lab cannot accept a connection: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => {
                let connection = http.serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(router.clone()),
                );
                tokio::spawn(async move {
                    // A connection that ends in an error (reset, a head too slow) has no one
                    // to tell: it is closed, and its permit given back.
                    let _ = connection.await;
                    drop(permit);
                });
            }
            Err(_) => match Arc::clone(&being_refused).try_acquire_owned() {
                Ok(permit) => {
                    let refusal = Arc::clone(&refusal);
                    tokio::spawn(async move {
                        refuse(stream, &refusal).await;
                        drop(permit);
                    });
                }
                // Too many being refused already (idle connections hold their places for
                // REFUSAL_TIME): the refusal goes out in one write that does not wait, into
                // the socket's empty buffer, and the connection is closed at once. A client
                // that had sent its request may see a reset after the answer.
                Err(_) => {
                    let _ = stream.try_write(&refusal);
                }
            },
        }
    }
}

/// Errors of one connection, not of the listener: the next accept goes on.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The answer to a connection past the cap, whatever it asked.
fn connection_refusal(cap: usize) -> String {
    let sentence = format!(
        "the lab already has {cap} connections open, its cap: close some of its tabs, or \
         wait a few seconds (idle connections close after {} s) and reload\n",
        HEAD_TIME_LIMIT.as_secs()
    );
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\nRetry-After: 5\r\n",
        sentence.len()
    );
    for (name, value) in EVERY_ANSWER {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head + "\r\n" + &sentence
}

/// Writes the refusal, closes the lab's side, and reads what the client sent until it
/// closes too: closing a socket with unread bytes resets it, and the client could lose the
/// answer.
async fn refuse(mut stream: TcpStream, refusal: &[u8]) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(refusal).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_past_the_cap_is_told_so_in_http() {
        let refusal = connection_refusal(3);
        assert!(refusal.starts_with("HTTP/1.1 503 "), "{refusal}");
        let (head, body) = refusal.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(head.contains("X-Frame-Options: DENY"));
    }

    #[test]
    fn slots_count_until_dropped() {
        let caps = Caps::new(Limits {
            requests_per_server: 2,
            requests_in_all: 3,
            event_streams: 1,
            hands_on_servers: 3,
            ..Limits::DEFAULT
        });
        let first = caps.request(1).expect("one");
        let second = caps.request(1).expect("two");
        let err = caps.request(1).err().expect("a third to server 1");
        assert!(err.contains("2 requests to server 1"), "{err}");
        let other = caps.request(2).expect("another server");
        let err = caps.request(3).err().expect("a fourth in all");
        assert!(err.contains("3 hands-on requests"), "{err}");
        drop((first, second, other));
        assert!(caps.request(1).is_ok());

        let stream = caps.event_stream().expect("one page");
        assert!(caps.event_stream().is_err());
        drop(stream);
        assert!(caps.event_stream().is_ok());

        let two = caps.hands_on(2, || 0).expect("two servers");
        let err = caps.hands_on(1, || 1).err().expect("past 3");
        assert!(
            err.contains("1 hands-on servers are running and 2 starting"),
            "{err}"
        );
        drop(two);
        assert!(caps.hands_on(2, || 1).is_ok());
    }
}
