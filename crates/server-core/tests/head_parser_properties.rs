//! Property tests: no input, cut into reads of any sizes, makes the head parser or the router
//! panic, loop forever or answer with a malformed response.
//!
//! CI runs the default 256 cases per property. To search longer:
//! `PROPTEST_CASES=200000 cargo test --release -p server-core --test head_parser_properties`

use proptest::prelude::*;
use server_core::{HeadBuffer, HeadProgress, MAX_BODY_BYTES, MAX_HEAD_BYTES, Reply};

/// Feeds `input` in reads of the given sizes (cycled), then end of input. Returns the reply,
/// after checking that the buffer always offers room and finishes in a bounded number of reads.
fn feed(input: &[u8], read_sizes: &[usize]) -> Option<Reply> {
    let mut head = HeadBuffer::new();
    let mut offered = 0;
    let max_reads = input.len() + 10;
    for read in 0..=max_reads {
        let space = head.free_space();
        assert!(!space.is_empty(), "free_space is never empty");
        let wanted = read_sizes[read % read_sizes.len()].max(1);
        let count = (input.len() - offered).min(wanted).min(space.len());
        space[..count].copy_from_slice(&input[offered..offered + count]);
        offered += count;
        match head.filled(count) {
            HeadProgress::NeedMore | HeadProgress::SendContinue(_) => {}
            HeadProgress::ClosedWithoutRequest => return None,
            HeadProgress::Ready(reply) => {
                // A timeout at any point is also answerable without a panic.
                let _ = head.timed_out();
                return Some(reply);
            }
        }
    }
    panic!(
        "no answer after {max_reads} reads of a {}-byte input",
        input.len()
    );
}

/// Every response is well-formed: a status line, the three headers, a correct length.
fn check_response(reply: &Reply) {
    let bytes = reply.to_bytes();
    let text = String::from_utf8(bytes).expect("responses are UTF-8");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a blank line after the headers");
    assert!(head.starts_with(&format!("HTTP/1.1 {} ", reply.status.code())));
    assert!(head.contains("\r\nContent-Type: text/html; charset=utf-8"));
    assert!(head.contains("\r\nConnection: close"));
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|value| value.parse::<usize>().ok())
        .expect("a Content-Length");
    if reply.method() == "HEAD" {
        assert!(body.is_empty());
    } else {
        assert_eq!(length, body.len());
    }
}

/// Requests that are nearly right, which reach deeper into the parser than random bytes.
fn nearly_valid_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "HEAD", "POST", "get", "G\0T", ""]);
    let path = prop::sample::select(vec!["/", "/sleep", "/cpu?x", "/a b", "*", "/\u{e9}", ""]);
    let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1", ""]);
    let header = prop::sample::select(vec![
        "Host: x",
        "Content-Length: 3",
        "Content-Length: 70000",
        "Content-Length: -1",
        "Transfer-Encoding: chunked",
        "X: \u{1}",
        ": empty",
        "NoColon",
    ]);
    let body = prop::collection::vec(any::<u8>(), 0..8);
    (
        method,
        path,
        version,
        prop::collection::vec(header, 0..5),
        body,
    )
        .prop_map(|(method, path, version, headers, body)| {
            let mut request = format!("{method} {path} {version}\r\n");
            for header in headers {
                request.push_str(header);
                request.push_str("\r\n");
            }
            request.push_str("\r\n");
            let mut bytes = request.into_bytes();
            bytes.extend(body);
            bytes
        })
}

proptest! {
    #[test]
    fn any_bytes_in_any_reads_get_a_well_formed_answer(
        input in prop::collection::vec(any::<u8>(), 0..2048),
        read_sizes in prop::collection::vec(1usize..600, 1..8),
    ) {
        if let Some(reply) = feed(&input, &read_sizes) {
            check_response(&reply);
        }
    }

    #[test]
    fn nearly_valid_requests_get_a_well_formed_answer(
        input in nearly_valid_request(),
        read_sizes in prop::collection::vec(1usize..64, 1..4),
    ) {
        let reply = feed(&input, &read_sizes).expect("a non-empty input gets an answer");
        check_response(&reply);
    }

    #[test]
    fn long_heads_and_bodies_stay_within_the_limits(
        padding in 0usize..(2 * MAX_HEAD_BYTES),
        body_len in 0u64..(2 * MAX_BODY_BYTES),
        read_size in 1usize..5000,
    ) {
        let mut input = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body_len}\r\nX: ")
            .into_bytes();
        input.resize(input.len() + padding, b'p');
        input.extend_from_slice(b"\r\n\r\n");
        let head_len = input.len();
        input.resize(head_len + usize::try_from(body_len).unwrap_or(0), b'b');
        let reply = feed(&input, &[read_size]).expect("an answer");
        let expected = if head_len > MAX_HEAD_BYTES {
            431
        } else if body_len > MAX_BODY_BYTES {
            413
        } else {
            405
        };
        prop_assert_eq!(reply.status.code(), expected);
        check_response(&reply);
    }
}
