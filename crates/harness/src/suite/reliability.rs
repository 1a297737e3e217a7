//! What keeps a server up under clients that misbehave or go quiet: the read timeout, idle
//! and slow clients, a burst of load, and a shutdown (Ctrl-C) that lets requests in flight finish
//! within `--grace-ms`.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use measure::catalogue::Expected;
use measure::client::{self};
use measure::verdicts;
use server_core::HELLO_HTML;

use super::{
    HEAD_START, Target, assert_hello_page, assert_status, assert_still_serves, delay, in_pieces,
};

/// The read timeout the reliability checks give servers.
const SHORT_READ_TIMEOUT_MS: u64 = 400;

fn short_read_timeout() -> Duration {
    Duration::from_millis(SHORT_READ_TIMEOUT_MS)
}

pub fn an_idle_client_is_closed_after_the_read_timeout(target: &Target) {
    let timeout = SHORT_READ_TIMEOUT_MS.to_string();
    let mut server = target.start_with(&["--read-timeout-ms", &timeout]);
    // Sends nothing: closed without an answer once the timeout runs out.
    let idle = in_pieces(server.addr(), b"", 1, Duration::ZERO);
    assert!(
        idle.response.is_err(),
        "an idle client gets no answer: {:?}",
        idle.response
    );
    let took = idle.latency();
    assert!(
        took >= verdicts::waited_floor(short_read_timeout()),
        "closed after only {took:?}"
    );
    assert!(
        took < short_read_timeout() * 5,
        "closed only after {took:?}"
    );
    // Sends half a head: gets 408.
    let exchange = client::send(server.addr(), b"GET / HTTP/1.1\r\nHost:");
    assert_status(&exchange, 408);
    assert!(exchange.latency() >= verdicts::waited_floor(short_read_timeout()));
    assert_still_serves(&mut server);
}

pub fn a_slow_trickle_is_bounded_by_the_read_timeout(target: &Target) {
    let timeout = SHORT_READ_TIMEOUT_MS.to_string();
    let mut server = target.start_with(&["--read-timeout-ms", &timeout]);
    // One byte every 50 ms: each read is quick, but the whole head would take seconds. The
    // deadline is for the whole head, so the client gets 408 (or the server closes while the
    // client is still sending, which shows up as an error here).
    let request = client::get_request("/");
    let pause = Duration::from_millis(50);
    let exchange = in_pieces(server.addr(), &request, 1, pause);
    let took = exchange.latency();
    assert!(
        took < short_read_timeout() * 4,
        "the trickle held the connection {took:?}"
    );
    if let Ok(response) = &exchange.response {
        assert_eq!(response.status, 408);
    }
    assert_still_serves(&mut server);
}

/// While an idle client holds a connection, does a real request wait? Only in the stages that
/// serve one connection at a time, and there only until the read timeout frees the thread.
pub fn an_idle_client_stalls_only_one_at_a_time_servers(target: &Target) {
    let timeout = SHORT_READ_TIMEOUT_MS.to_string();
    let mut server = target.start_with(&["--read-timeout-ms", &timeout]);
    let idle = client::connect(server.addr()).expect("connect an idle client");
    thread::sleep(HEAD_START);
    let exchange = client::get(server.addr(), "/");
    assert_hello_page(&exchange);
    let took = exchange.latency();
    match target.expectation {
        Expected::OneAtATime => {
            let waited = short_read_timeout() - HEAD_START;
            assert!(
                took >= verdicts::waited_floor(waited),
                "waited only {took:?} behind the idle client"
            );
            assert!(
                took < short_read_timeout() * 5,
                "the idle client held everyone {took:?}"
            );
        }
        _ => assert!(
            took < short_read_timeout() / 2,
            "waited {took:?} for an idle client"
        ),
    }
    drop(idle);
    assert_still_serves(&mut server);
}

pub fn a_client_that_never_reads_its_response_is_harmless(target: &Target) {
    let mut server = target.start();
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut stream = client::connect(server.addr()).expect("connect");
        stream.write_all(&client::get_request("/")).expect("send");
        streams.push(stream); // Kept open and never read.
    }
    assert_still_serves(&mut server);
    drop(streams);
    assert_still_serves(&mut server);
}

/// Ctrl-C during a pending `/sleep`: it still completes, then the server exits 0.
#[cfg(unix)]
pub fn ctrl_c_lets_requests_in_flight_finish(target: &Target) {
    for signal in ["INT", "TERM"] {
        let mut server = target.start();
        let slow = thread::spawn({
            let addr = server.addr();
            move || client::get(addr, "/sleep")
        });
        thread::sleep(HEAD_START * 2);
        server.send_signal(signal).expect("send the signal");
        let slow = slow.join().expect("the slow client");
        assert_hello_page(&slow);
        let status = server.wait_for_exit(delay() * 5);
        // Its last lines may still be in the pipe when it has exited: read them to the end.
        let log = server.stderr_text_after_exit(delay());
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "SIG{signal}: exit code; log:\n{log}"
        );
        assert!(log.contains("shutdown: no longer accepting"), "{log}");
        let served = log.find("GET /sleep -> 200");
        let finished = log.find("shutdown: all connections done; exiting");
        assert!(
            served.is_some() && finished > served,
            "served, then exited:\n{log}"
        );
    }
}

/// Ctrl-C when a request would outlast `--grace-ms`: the server exits anyway, with 1.
#[cfg(unix)]
pub fn the_grace_period_bounds_a_shutdown(target: &Target) {
    let mut server = target.start_with(&["--grace-ms", "200"]);
    let slow = thread::spawn({
        let addr = server.addr();
        move || client::get(addr, "/sleep")
    });
    thread::sleep(HEAD_START * 2);
    let signalled = Instant::now();
    server.send_signal("INT").expect("send the signal");
    let status = server.wait_for_exit(delay() * 5);
    let took = signalled.elapsed();
    let log = server.stderr_text_after_exit(delay());
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "exit code; log:\n{log}"
    );
    assert!(
        took < delay(),
        "exited after {took:?}, not at the end of the 200 ms grace"
    );
    assert!(log.contains("grace period is over"), "{log}");
    assert!(
        slow.join().expect("the slow client").response.is_err(),
        "cut off"
    );
}

/// Windows has no signal to send to a child process from a test; Ctrl-C is handled there
/// by the same code (the `ctrlc` crate), tried by hand. The tests are ignored there, so the
/// report says so instead of a pass.
#[cfg(not(unix))]
pub fn ctrl_c_lets_requests_in_flight_finish(_target: &Target) {
    panic!("not run here: sending Ctrl-C to a child process needs Unix signals");
}

#[cfg(not(unix))]
pub fn the_grace_period_bounds_a_shutdown(_target: &Target) {
    panic!("not run here: sending Ctrl-C to a child process needs Unix signals");
}

/// A bounded load: 8 clients, 250 requests each, a new connection per request, and every
/// single response must be a correct `200`.
pub fn a_burst_of_load_is_served_without_a_failure(target: &Target) {
    let mut server = target.start();
    let addr = server.addr();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                let mut failures = Vec::new();
                for _ in 0..250 {
                    let exchange = client::get(addr, "/");
                    let ok = matches!(&exchange.response, Ok(r) if r.status == 200 && r.body_text() == HELLO_HTML);
                    if !ok {
                        failures.push(format!("{:?}", exchange.response.map(|r| r.status)));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = clients
        .into_iter()
        .flat_map(|client| client.join().expect("a load client"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 2000 requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_still_serves(&mut server);
}
