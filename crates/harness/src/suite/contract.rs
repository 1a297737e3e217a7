//! The contract every server keeps, point by point: its routes, methods and versions, bad
//! input of every kind (each followed by a `GET /` that must still be answered), and its flags.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use measure::catalogue::Expected;
use measure::client::{self};
use measure::verdicts;
use server_core::{HELLO_HTML, MAX_HEAD_BYTES, NOT_FOUND_HTML};

use super::{
    HEAD_START, Target, assert_hello_page, assert_page, assert_status, assert_still_serves, delay,
    in_pieces, served_by,
};

pub fn get_root_serves_the_hello_page(target: &Target) {
    let mut server = target.start();
    let exchange = client::get(server.addr(), "/");
    assert_hello_page(&exchange);
    assert!(
        exchange.latency() < delay() / 2,
        "GET / took {:?}",
        exchange.latency()
    );
    assert_still_serves(&mut server);
}

pub fn every_request_is_logged_with_its_thread(target: &Target) {
    let server = target.start();
    let root = client::get(server.addr(), "/");
    assert_hello_page(&root);
    assert_eq!(client::get(server.addr(), "/missing").status(), 404);
    // On a multi-threaded server the two lines may come in either order: wait for both.
    let wait = Duration::from_secs(5);
    for line in ["GET /missing -> 404 in ", "GET / -> 200 in "] {
        assert!(server.wait_for_log(line, wait), "{}", server.stderr_text());
    }
    let log = server.stderr_text();
    let line = log
        .lines()
        .find(|line| line.starts_with("GET / -> 200 in "))
        .unwrap_or_else(|| {
            panic!("no log line `GET / -> 200 in N ms on THREAD` on stderr:\n{log}")
        });
    let (millis, thread) = line
        .trim_start_matches("GET / -> 200 in ")
        .split_once(" ms on ")
        .unwrap_or_else(|| panic!("log line without `ms on THREAD`: {line}"));
    assert!(millis.parse::<u64>().is_ok(), "milliseconds in {line}");
    assert!(thread.contains(" #"), "thread name and number in {line}");
    // The response names the thread that the log line names.
    assert_eq!(
        served_by(&root),
        thread,
        "X-Served-By and the log line agree"
    );
}

pub fn sleep_waits_then_serves_the_page(target: &Target) {
    let mut server = target.start();
    let exchange = client::get(server.addr(), "/sleep?seconds=99");
    assert_hello_page(&exchange);
    let latency = exchange.latency();
    assert!(
        latency >= verdicts::waited_floor(delay()),
        "/sleep answered after {latency:?}"
    );
    assert!(
        latency < delay() + Duration::from_secs(5),
        "/sleep answered after {latency:?}"
    );
    assert_still_serves(&mut server);
}

pub fn unknown_paths_get_404(target: &Target) {
    let mut server = target.start();
    assert_page(&client::get(server.addr(), "/nope"), 404, NOT_FOUND_HTML);
    assert_page(
        &client::get(server.addr(), "/nope?x=1"),
        404,
        NOT_FOUND_HTML,
    );
    assert_page(
        &client::get(server.addr(), "/sleep/more"),
        404,
        NOT_FOUND_HTML,
    );
    assert_still_serves(&mut server);
}

pub fn query_strings_are_ignored(target: &Target) {
    let mut server = target.start();
    assert_hello_page(&client::get(server.addr(), "/?name=ferris&x"));
    assert_still_serves(&mut server);
}

pub fn http_1_0_is_served(target: &Target) {
    let mut server = target.start();
    assert_hello_page(&client::send(server.addr(), b"GET / HTTP/1.0\r\n\r\n"));
    assert_page(
        &client::send(server.addr(), b"GET /x HTTP/1.0\r\n\r\n"),
        404,
        NOT_FOUND_HTML,
    );
    assert_still_serves(&mut server);
}

pub fn head_gets_the_headers_only(target: &Target) {
    let mut server = target.start();
    let exchange = client::send(server.addr(), b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = exchange.response.as_ref().expect("a response to HEAD");
    assert_eq!(response.status, 200);
    let length = HELLO_HTML.len().to_string();
    assert_eq!(response.header("Content-Length"), Some(length.as_str()));
    assert_eq!(
        response.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(
        response.body.is_empty(),
        "HEAD got a body: {:?}",
        response.body_text()
    );
    assert_still_serves(&mut server);
}

pub fn other_methods_get_405(target: &Target) {
    let mut server = target.start();
    for method in ["POST", "DELETE", "OPTIONS", "BREW"] {
        let request = format!("{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
        let exchange = client::send(server.addr(), request.as_bytes());
        assert_status(&exchange, 405);
        let allow = exchange
            .response
            .as_ref()
            .ok()
            .and_then(|r| r.header("Allow"));
        assert_eq!(allow, Some("GET, HEAD"), "{method}");
    }
    assert_still_serves(&mut server);
}

pub fn a_request_body_is_read_before_answering(target: &Target) {
    let mut server = target.start();
    let mut request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n".to_vec();
    request.resize(request.len() + 3000, b'b');
    // If the server answered without reading the body, closing would reset the connection
    // and this read could fail; so several tries make that race show.
    for _ in 0..5 {
        assert_status(&client::send(server.addr(), &request), 405);
    }
    assert_still_serves(&mut server);
}

pub fn a_head_sent_in_small_pieces_is_served(target: &Target) {
    let mut server = target.start();
    let request = client::get_request("/");
    let exchange = in_pieces(server.addr(), &request, 3, Duration::from_millis(1));
    assert_hello_page(&exchange);
    assert_still_serves(&mut server);
}

// ---- Bad input ----------------------------------------------------------------------------

pub fn garbage_gets_400(target: &Target) {
    let mut server = target.start();
    let inputs: [&[u8]; 5] = [
        b"hello there\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n", // HTTP/1.1 without Host
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
    ];
    for input in inputs {
        let exchange = client::send(server.addr(), input);
        assert_status(&exchange, 400);
        assert_still_serves(&mut server);
    }
}

pub fn a_request_line_that_is_not_utf8_gets_400(target: &Target) {
    let mut server = target.start();
    let exchange = client::send(
        server.addr(),
        b"GET /\xff\xfe\xc3 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_status(&exchange, 400);
    assert_still_serves(&mut server);
}

pub fn a_head_over_8_kib_gets_431(target: &Target) {
    let mut server = target.start();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    request.resize(MAX_HEAD_BYTES + 100, b'p');
    request.extend_from_slice(b"\r\n\r\n");
    assert_status(&client::send(server.addr(), &request), 431);
    assert_still_serves(&mut server);
    let exchange = in_pieces(server.addr(), &request, 500, Duration::ZERO);
    assert_status(&exchange, 431);
    assert_still_serves(&mut server);
}

pub fn empty_connections_are_harmless(target: &Target) {
    let mut server = target.start();
    for _ in 0..20 {
        client::connect_and_close(server.addr()).expect("connect");
    }
    assert_still_serves(&mut server);
}

pub fn a_client_that_resets_after_sending_is_harmless(target: &Target) {
    let mut server = target.start();
    for _ in 0..5 {
        client::reset_after(server.addr(), &client::get_request("/"), Duration::ZERO)
            .expect("connect and send");
    }
    assert_still_serves(&mut server);
}

pub fn a_client_that_resets_during_sleep_is_harmless(target: &Target) {
    let mut server = target.start();
    client::reset_after(server.addr(), &client::get_request("/sleep"), HEAD_START)
        .expect("connect and send");
    assert_still_serves(&mut server);
    // The server noticed when it tried to answer, and logged it instead of crashing.
    let logged = server.wait_for_log("(connection failed: ", delay() * 3);
    assert!(
        logged,
        "the failed write is logged:\n{}",
        server.stderr_text()
    );
}

pub fn many_empty_connections_at_once_are_harmless(target: &Target) {
    let mut server = target.start();
    // Like a browser's preconnects: open many, send nothing, close them all.
    let streams: Vec<_> = (0..50)
        .filter_map(|_| client::connect(server.addr()).ok())
        .collect();
    assert_eq!(
        streams.len(),
        50,
        "all 50 connections were accepted by the kernel"
    );
    drop(streams);
    assert_still_serves(&mut server);
}

pub fn a_head_of_exactly_8_kib_is_served(target: &Target) {
    let mut server = target.start();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    request.resize(MAX_HEAD_BYTES - 4, b'p');
    request.extend_from_slice(b"\r\n\r\n");
    assert_eq!(request.len(), MAX_HEAD_BYTES);
    assert_hello_page(&client::send(server.addr(), &request));
    let exchange = in_pieces(server.addr(), &request, 100, Duration::ZERO);
    assert_hello_page(&exchange);
    assert_still_serves(&mut server);
}

// ---- The command line ---------------------------------------------------------------------

pub fn a_port_in_use_is_a_one_line_error(target: &Target) {
    let server = target.start();
    let port = server.addr().port().to_string();
    let output = Command::new(target.bin)
        .args(["--port", &port])
        .stdin(Stdio::null())
        .output()
        .expect("run the server a second time");
    assert!(
        !output.status.success(),
        "a second server on port {port} must fail"
    );
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use")),
        "{stderr}"
    );
    assert!(stderr.contains("--port"), "suggests --port: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

pub fn help_explains_the_flags(target: &Target) {
    let output = Command::new(target.bin)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--host",
        "--port",
        "--sleep-ms",
        "--read-timeout-ms",
        "--grace-ms",
        "--help",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}:\n{help}");
    }
    let has_workers = matches!(target.expectation, Expected::Pool { .. });
    assert_eq!(
        help.contains("--workers"),
        has_workers,
        "--workers only for a pool:\n{help}"
    );

    let output = Command::new(target.bin)
        .arg("--bogus")
        .output()
        .expect("run with a bad flag");
    assert_eq!(output.status.code(), Some(2), "a bad flag exits with 2");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--bogus") && stderr.contains("--help"),
        "{stderr}"
    );
}

/// `--version` prints the binary's name and version, one line, and exits 0; `--help` says so.
pub fn version_prints_the_name_and_version(target: &Target) {
    let output = Command::new(target.bin)
        .arg("--version")
        .output()
        .expect("run --version");
    assert!(output.status.success(), "--version exits 0");
    let name = Path::new(target.bin)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("a binary has a UTF-8 name");
    let printed = String::from_utf8_lossy(&output.stdout);
    let version = printed
        .strip_prefix(&format!("{name} "))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_default();
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u64>().is_ok()),
        "one line, `{name} MAJOR.MINOR.PATCH`: {printed:?}"
    );
    let help = Command::new(target.bin)
        .arg("--help")
        .output()
        .expect("run --help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--version"),
        "--help mentions --version:\n{help}"
    );
}
