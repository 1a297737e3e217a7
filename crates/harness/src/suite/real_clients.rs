//! What real clients do that the rest of the suite does not: wait for `100 Continue` before
//! sending a body (curl, for a second), and go on sending after the server refused their
//! request (a large body, an HTTP/2 client's frames). Raw sockets, so every byte and the way
//! the connection ends are seen: the answer in full, then an end of input, never a reset.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use measure::client::{self, Exchange, Timing};
use server_core::MAX_BODY_BYTES;
use server_core::linger::LINGER_TIME;

use super::{Target, assert_hello_page, assert_status, assert_still_serves};

/// An answer that needs no body comes "at once": curl would otherwise wait out its own
/// one-second timer before sending the body anyway.
const AT_ONCE: Duration = Duration::from_millis(300);
/// How long the client waits for anything; well under the server's 10 s read timeout, whose
/// 408 is what a client waiting for `100 Continue` got before.
const CLIENT_PATIENCE: Duration = Duration::from_secs(3);
/// The first bytes an HTTP/2 client sends with prior knowledge (RFC 9113, section 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty HTTP/2 SETTINGS frame, which follows the preface.
const HTTP2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
/// A WINDOW_UPDATE frame, as curl sends after its SETTINGS.
const HTTP2_WINDOW_UPDATE: &[u8] = &[0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0xff, 0, 1];

/// Reads to the end of input and says how it ended. A reset is an error here even after a
/// whole answer: a slower client would have lost that answer.
fn read_to_the_end(stream: &mut TcpStream, sent: Instant) -> Exchange {
    let mut bytes = Vec::new();
    let ended = stream.read_to_end(&mut bytes);
    let timing = Timing {
        done: sent.elapsed(),
        ..Timing::default()
    };
    let response = ended.and_then(|_| client::parse_response(&bytes));
    Exchange {
        scheduled: sent,
        timing,
        response,
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    client::connect_within(addr, CLIENT_PATIENCE).expect("connect to the server")
}

/// A client that sends `Expect: 100-continue` and waits for the go-ahead before its body.
/// A request the server will not serve gets its final answer at once, without the body.
pub fn expect_100_continue_gets_the_final_answer_at_once(target: &Target) {
    let mut server = target.start();
    for (head, status) in [
        ("POST / HTTP/1.1\r\nContent-Length: 10000\r\n", 405),
        ("GET /nope HTTP/1.1\r\nContent-Length: 10\r\n", 404),
    ] {
        let request = format!("{head}Host: x\r\nExpect: 100-continue\r\n\r\n");
        let mut stream = connect(server.addr());
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).expect("send the head");
        let exchange = read_to_the_end(&mut stream, sent);
        assert_status(&exchange, status);
        assert!(
            exchange.latency() < AT_ONCE,
            "{head:?}: the answer took {:?}; a client waiting for 100 Continue waits with it",
            exchange.latency()
        );
    }
    assert_still_serves(&mut server);
}

/// A request the server serves gets `100 Continue`, at once, and after the body its answer.
pub fn expect_100_continue_gets_100_continue_when_the_body_is_read(target: &Target) {
    let mut server = target.start();
    let mut stream = connect(server.addr());
    let sent = Instant::now();
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head).expect("send the head");
    let go_ahead = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut interim = [0; 25];
    stream
        .read_exact(&mut interim)
        .unwrap_or_else(|err| panic!("no 100 Continue within {CLIENT_PATIENCE:?}: {err}"));
    assert_eq!(
        String::from_utf8_lossy(&interim),
        String::from_utf8_lossy(go_ahead)
    );
    assert!(
        sent.elapsed() < AT_ONCE,
        "100 Continue after {:?}",
        sent.elapsed()
    );
    stream.write_all(b"hello").expect("send the body");
    let exchange = read_to_the_end(&mut stream, sent);
    assert_hello_page(&exchange);
    drop(stream);
    assert_still_serves(&mut server);
}

/// Sends `pieces` one after another with a pause between them, as a client that is still
/// sending while the server answers, then reads to the end. Every write must succeed (a
/// reset would fail the next one, and a real client would stop there without the answer),
/// and the answer must be `status`, whole, then an end of input.
fn send_on_while_answered(target: &Target, pieces: &[&[u8]], status: u16) {
    let mut server = target.start();
    let mut stream = connect(server.addr());
    let sent = Instant::now();
    for (index, piece) in pieces.iter().enumerate() {
        if let Err(err) = stream.write_all(piece) {
            panic!("write {index} of {} failed: {err}", pieces.len());
        }
        thread::sleep(Duration::from_millis(20));
    }
    let exchange = read_to_the_end(&mut stream, sent);
    assert_status(&exchange, status);
    // Closed as a real client closes after the answer: the server lingers until then, and
    // stages 1 and 3 serve no one else meanwhile.
    drop(stream);
    assert_still_serves(&mut server);
}

/// A body over the limit is refused at the end of its head (413), while the client is still
/// sending it: the client can finish sending, then reads the whole 413 and an end of input.
pub fn a_body_refused_mid_stream_still_gets_its_answer(target: &Target) {
    let body_len = 4 * MAX_BODY_BYTES as usize;
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body_len}\r\n\r\n");
    let body = vec![b'b'; body_len];
    let mut pieces: Vec<&[u8]> = vec![head.as_bytes()];
    pieces.extend(body.chunks(16 * 1024));
    send_on_while_answered(target, &pieces, 413);
}

/// An HTTP/2 client with prior knowledge sends its preface and frames, as curl
/// `--http2-prior-knowledge` does. The server speaks HTTP/1 only: it answers 400, and the
/// client's frames that come after the answer must not turn the close into a reset.
pub fn an_http2_preface_gets_400_and_no_reset(target: &Target) {
    let preface = [HTTP2_PREFACE, HTTP2_SETTINGS].concat();
    let pieces = [&preface[..], HTTP2_WINDOW_UPDATE, HTTP2_SETTINGS];
    send_on_while_answered(target, &pieces, 400);
}

/// Python's http.client sends an `Expect: 100-continue` request's body at once, without
/// waiting: it gets the final answer, and the server, which answered before the body, still
/// reads it, so the client's close is no reset and the server goes on.
pub fn a_body_sent_without_waiting_for_100_continue_is_harmless(target: &Target) {
    let head =
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\nExpect: 100-continue\r\n\r\n";
    send_on_while_answered(target, &[head, &[b'b'; 3000]], 405);
}

/// The lingering is bounded: a client that goes on sending after its refusal (here, a body
/// announced as 1 GB) is cut off after [`server_core::linger::LINGER_BYTES`] if it sends
/// fast, after about [`LINGER_TIME`] if it sends slowly, so it cannot hold a connection, or
/// stage 1's only thread, for longer.
pub fn a_client_that_never_stops_sending_is_cut_off(target: &Target) {
    let mut server = target.start();
    // 16 KiB every 5 ms reaches the byte bound first; 2 KiB every 10 ms, the time bound.
    for (chunk_len, pause_ms) in [(16 * 1024, 5), (2 * 1024, 10)] {
        let mut stream = connect(server.addr());
        let head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n";
        stream.write_all(head).expect("send the head");
        let started = Instant::now();
        let give_up = LINGER_TIME * 4;
        let chunk = vec![b'b'; chunk_len];
        let cut_off = loop {
            if let Err(err) = stream.write_all(&chunk) {
                break err;
            }
            assert!(
                started.elapsed() < give_up,
                "{chunk_len} bytes every {pause_ms} ms: still sending after {give_up:?}, \
                 the lingering is not bounded"
            );
            thread::sleep(Duration::from_millis(pause_ms));
        };
        println!(
            "{chunk_len} B every {pause_ms} ms: cut off after {:?} ({cut_off})",
            started.elapsed()
        );
    }
    assert_still_serves(&mut server);
}
