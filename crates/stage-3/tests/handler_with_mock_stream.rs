//! The async connection handlers, unit-tested without a network (the Async Book's approach,
//! done right): the mock stream hands out the request in small pieces, then reports end of
//! input, and keeps every byte written. So a handler that reads only once, answers before the
//! head is complete, or writes a wrong or partial response fails here.

use std::time::{Duration, Instant};

use harness::mock::MockStream;
use server_core::{Config, HELLO_HTML, NOT_FOUND_HTML};

fn config() -> Config {
    Config {
        sleep: Duration::from_millis(200),
        ..Config::default()
    }
}

/// The whole response, byte for byte. The handler runs inside `block_on` on the test's own
/// thread, so that is the thread the response names.
fn expected_response(status_line: &str, page: &str) -> String {
    format!(
        "{status_line}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\nX-Served-By: {}\r\n\r\n{page}",
        page.len(),
        server_core::thread_label()
    )
}

const BROWSER_LIKE_HEAD: &str = "Host: 127.0.0.1:7878\r\nUser-Agent: test\r\n\
    Accept: text/html\r\nAccept-Language: en\r\nConnection: keep-alive\r\n\r\n";

fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\n{BROWSER_LIKE_HEAD}")
}

/// Runs the async-std handler on a mock stream; returns what it wrote and how long it took.
fn serve_async_std(input: &str) -> (String, Duration) {
    let config = config();
    let mut stream = MockStream::new(input);
    let started = Instant::now();
    // `on_async_std::handle_connection` takes async-std's own stream; this is what it runs.
    async_std::task::block_on(stage_3::handle_futures_io_connection(
        &mut stream,
        &config,
        async_std::task::sleep,
    ));
    assert_eq!(
        stream.bytes_read(),
        input.len(),
        "the whole request is read"
    );
    (stream.written_text(), started.elapsed())
}

/// The same with the tokio handler, on a tokio runtime.
fn serve_tokio(input: &str) -> (String, Duration) {
    let config = config();
    let mut stream = MockStream::new(input);
    let started = Instant::now();
    stage_3::on_tokio::runtime()
        .block_on(stage_3::on_tokio::handle_connection(&mut stream, &config));
    assert_eq!(
        stream.bytes_read(),
        input.len(),
        "the whole request is read"
    );
    (stream.written_text(), started.elapsed())
}

#[test]
fn root_gets_the_hello_page() {
    let expected = expected_response("HTTP/1.1 200 OK", HELLO_HTML);
    for serve in [serve_async_std, serve_tokio] {
        let (written, took) = serve(&request("/"));
        assert_eq!(written, expected);
        assert!(took < Duration::from_millis(150), "GET / took {took:?}");
    }
}

#[test]
fn sleep_gets_the_hello_page_after_the_delay() {
    let expected = expected_response("HTTP/1.1 200 OK", HELLO_HTML);
    for serve in [serve_async_std, serve_tokio] {
        let (written, took) = serve(&request("/sleep"));
        assert_eq!(written, expected);
        assert!(
            took >= Duration::from_millis(160),
            "/sleep answered after only {took:?}"
        );
    }
}

#[test]
fn an_unknown_path_gets_404() {
    let expected = expected_response("HTTP/1.1 404 Not Found", NOT_FOUND_HTML);
    for serve in [serve_async_std, serve_tokio] {
        assert_eq!(serve(&request("/nope")).0, expected);
    }
}

#[test]
fn a_client_that_leaves_without_a_request_gets_nothing() {
    for serve in [serve_async_std, serve_tokio] {
        assert_eq!(serve("").0, "");
    }
}

#[test]
fn a_head_cut_short_gets_400() {
    for serve in [serve_async_std, serve_tokio] {
        let (written, _) = serve("GET / HTTP/1.1\r\nHost: x\r\n");
        assert!(
            written.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{written}"
        );
    }
}

/// A request with `Expect: 100-continue` whose body has not arrived with its head: the body
/// comes in later reads (16 bytes each).
fn expecting_continue(head: &str) -> String {
    let body = "b".repeat(100);
    format!("{head}Host: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{body}")
}

#[test]
fn expect_100_continue_gets_100_continue_then_the_page() {
    let page = expected_response("HTTP/1.1 200 OK", HELLO_HTML);
    let expected = format!("HTTP/1.1 100 Continue\r\n\r\n{page}");
    for serve in [serve_async_std, serve_tokio] {
        assert_eq!(serve(&expecting_continue("GET / HTTP/1.1\r\n")).0, expected);
    }
}

#[test]
fn a_refused_request_is_answered_at_once_and_the_rest_still_read() {
    let answer = "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/html; charset=utf-8\r\n";
    for serve in [serve_async_std, serve_tokio] {
        // `serve` checks that every input byte was read: the body, after the answer.
        let (written, _) = serve(&expecting_continue("POST / HTTP/1.1\r\n"));
        assert!(written.starts_with(answer), "{written}");
        assert!(!written.contains("100 Continue"), "{written}");
    }
}
