//! How long the demo's own client takes per request, measured against a server that costs
//! (almost) nothing: a listener thread in this process that reads the request head and writes
//! a canned response from memory. What is left is the client (connect, write, read to the
//! close, parse) and the loopback's kernel work: the floor under every latency the demo shows.
//!
//! The demo's footnote quotes it, so a reader can tell a server's 0.4 ms from the client's
//! (xtask renders it; this returns the figures).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// Requests measured; the first few warm up and are not counted.
const REQUESTS: usize = 200;
const WARM_UP: usize = 20;
/// Each request's timeout; on loopback one takes well under a millisecond.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The client's cost per request: the median and the 99th percentile of `REQUESTS` requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClientCost {
    pub p50: Duration,
    pub p99: Duration,
    /// The cargo profile the client was built in: `dev` (optimized by the workspace's
    /// override for the client crates) or `release`.
    pub profile: &'static str,
}

/// Measured once per process (the first call), after which the same figure is returned.
/// `None` if the loopback listener could not run.
pub fn per_request() -> Option<ClientCost> {
    static COST: OnceLock<Option<ClientCost>> = OnceLock::new();
    *COST.get_or_init(|| measure(REQUESTS).ok())
}

/// Sends `requests` + warm-up `GET /` one after another with the demo's client to a listener
/// thread that answers each from memory.
pub fn measure(requests: usize) -> io::Result<ClientCost> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr: SocketAddr = listener.local_addr()?;
    let total = requests + WARM_UP;
    let answers = thread::spawn(move || answer_from_memory(&listener, total));
    let request = crate::client::get_request("/");
    let mut latencies = Vec::with_capacity(requests);
    for index in 0..total {
        let exchange = crate::client::exchange(
            addr,
            &crate::client::Request::new(&request).within(TIMEOUT),
            Instant::now(),
        );
        if exchange.status() != 200 {
            return Err(io::Error::other(
                "the in-process listener did not answer 200",
            ));
        }
        if index >= WARM_UP {
            latencies.push(exchange.latency());
        }
    }
    answers
        .join()
        .map_err(|_| io::Error::other("the in-process listener panicked"))??;
    latencies.sort_unstable();
    Ok(ClientCost {
        p50: crate::summary::nearest_rank(&latencies, 50.0),
        p99: crate::summary::nearest_rank(&latencies, 99.0),
        profile: if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
    })
}

/// Accepts `count` connections, reads each request head, writes the canned response and
/// closes. Reading the head first keeps the close from resetting the client.
fn answer_from_memory(listener: &TcpListener, count: usize) -> io::Result<()> {
    let response = canned_response();
    let mut head = Vec::with_capacity(1024);
    for _ in 0..count {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        head.clear();
        let mut chunk = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk)? {
                0 => break,
                n => head.extend_from_slice(&chunk[..n]),
            }
        }
        stream.write_all(&response)?;
    }
    Ok(())
}

/// What a stage sends for `GET /`: the same headers and page.
fn canned_response() -> Vec<u8> {
    let page = include_str!("../../../shared-assets/hello.html");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{page}",
        page.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_measured_against_a_listener_in_memory() {
        let cost = measure(20).expect("loopback works");
        assert!(cost.p50 <= cost.p99);
        assert!(cost.p50 > Duration::ZERO);
    }
}
