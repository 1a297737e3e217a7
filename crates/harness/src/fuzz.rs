//! A fuzz over real sockets: random and mutated requests, sent in random pieces with random
//! pauses, ended by a wait, a half-close or a reset at a random moment, against the real
//! binary. Whatever comes, the server must not crash, every answer it gives must be
//! well-formed HTTP with the contract's headers and a status of the contract, a well-formed
//! request sent whole must get its exact status, and `GET /` must be served after each case.
//!
//! It is a bounded property test (proptest): [`DEFAULT_CASES`] cases per binary in `cargo
//! test`, a few seconds. The seed is printed; to replay a failure, or for a long run before a
//! release:
//!
//! ```text
//! PROPTEST_RNG_SEED=1234 cargo test -p stage-2 --test faults a_socket_fuzz -- --nocapture
//! PROPTEST_CASES=2000 cargo test --release --test faults a_socket_fuzz
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use crate::suite::{Target, assert_still_serves};
use measure::client;

/// Cases per binary when `PROPTEST_CASES` is not set.
pub const DEFAULT_CASES: u32 = 32;
/// The server's `--read-timeout-ms` and `--sleep-ms` in the fuzz: short, so a case that sends
/// half a head is over quickly.
const READ_TIMEOUT_MS: u64 = 150;
const SLEEP_MS: u64 = 20;
/// How long the client waits for the server to answer and close.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// The statuses of the contract.
const STATUSES: [u16; 8] = [200, 400, 404, 405, 408, 413, 431, 501];

/// How a case's connection ends.
#[derive(Clone, Debug)]
pub enum Ending {
    /// Send everything, keep the connection open, read the answer.
    Wait,
    /// Send everything, close our side (a half-close), read the answer.
    HalfClose,
    /// Half-close after this many pieces, read what comes.
    HalfCloseAfter(usize),
    /// Reset (RST) after this many pieces.
    ResetAfter(usize),
    /// Send everything, reset as soon as the first byte of the answer arrives.
    ResetOnFirstByte,
}

/// One connection's worth of misbehaviour.
#[derive(Clone, Debug)]
pub struct Case {
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// The exact status, when `bytes` is a well-formed request that nothing mutated.
    pub expected: Option<u16>,
    /// Where the bytes are cut into pieces, and the pause before each piece (ms).
    pub cuts: Vec<usize>,
    pub pauses: Vec<u64>,
    pub ending: Ending,
}

impl Case {
    fn pieces(&self) -> Vec<&[u8]> {
        let mut cuts: Vec<usize> = self
            .cuts
            .iter()
            .map(|cut| cut % (self.bytes.len() + 1))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([self.bytes.len()]) {
            if cut > start {
                pieces.push(&self.bytes[start..cut]);
                start = cut;
            }
        }
        pieces
    }
}

/// A well-formed request, and the status it must get.
fn request() -> impl Strategy<Value = (Vec<u8>, u16)> {
    let method = select(&["GET", "HEAD", "POST", "DELETE", "OPTIONS"][..]);
    let path = select(&["/", "/sleep", "/block", "/?q=1", "/missing", "/a/b?c"][..]);
    let version = select(&["HTTP/1.1", "HTTP/1.0"][..]);
    let extra = prop::collection::vec(
        select(
            &[
                "User-Agent: fuzz",
                "Accept: */*",
                "X-Empty:",
                "Cookie: a=b; c=d",
            ][..],
        ),
        0..3,
    );
    let body = prop::collection::vec(any::<u8>(), 0..48);
    let huge = prop::bool::weighted(0.05);
    (method, path, version, extra, body, huge).prop_map(
        |(method, path, version, extra, body, huge)| {
            let mut head = format!("{method} {path} {version}\r\nHost: localhost\r\n");
            for header in extra {
                head.push_str(header);
                head.push_str("\r\n");
            }
            if huge {
                head.push_str(&format!("X-Big: {}\r\n", "b".repeat(9000)));
            }
            if !body.is_empty() {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body);
            let status = match (huge, method, path) {
                (true, ..) => 431,
                (false, "GET" | "HEAD", "/missing" | "/a/b?c") => 404,
                (false, "GET" | "HEAD", _) => 200,
                (false, ..) => 405,
            };
            (bytes, status)
        },
    )
}

/// One change to a request: a flipped, inserted or deleted byte, a cut, or a doubled piece.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = select(&[b'\r', b'\n', b' ', b':', 0, 0x7f, 0xff, b'/', b'%'][..]);
    let byte = prop_oneof![special, any::<u8>()];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Repeat(at, len)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match *mutation {
        Mutation::Flip(at, byte) if len > 0 => bytes[at % len] = byte,
        Mutation::Insert(at, byte) => bytes.insert(at % (len + 1), byte),
        Mutation::Delete(at) if len > 0 => {
            bytes.remove(at % len);
        }
        Mutation::Truncate(at) => bytes.truncate(at % (len + 1)),
        Mutation::Repeat(at, count) if len > 0 => {
            let start = at % len;
            let piece = bytes[start..(start + count).min(len)].to_vec();
            bytes.splice(start..start, piece);
        }
        _ => {}
    }
}

/// The cases: a well-formed request (kept whole in a third of the cases), mutated, or plain
/// random bytes; cut into up to 6 pieces with pauses of up to 8 ms; ended in one of 5 ways.
pub fn case() -> impl Strategy<Value = Case> {
    let mutations = prop_oneof![
        1 => Just(Vec::new()),
        2 => prop::collection::vec(mutation(), 1..4),
    ];
    let garbage = prop::collection::vec(any::<u8>(), 0..200);
    let bytes = prop_oneof![
        9 => (request(), mutations).prop_map(|((mut bytes, status), mutations)| {
            let expected = mutations.is_empty().then_some(status);
            mutations.iter().for_each(|m| mutate(&mut bytes, m));
            (bytes, expected)
        }),
        1 => garbage.prop_map(|bytes| (bytes, None)),
    ];
    let cuts = prop::collection::vec(any::<usize>(), 0..6);
    let pauses = prop::collection::vec(0..8u64, 6);
    let ending = prop_oneof![
        4 => Just(Ending::Wait),
        2 => Just(Ending::HalfClose),
        1 => (0..6usize).prop_map(Ending::HalfCloseAfter),
        2 => (0..6usize).prop_map(Ending::ResetAfter),
        1 => Just(Ending::ResetOnFirstByte),
    ];
    (bytes, cuts, pauses, ending).prop_map(|((bytes, expected), cuts, pauses, ending)| Case {
        bytes,
        expected,
        cuts,
        pauses,
        ending,
    })
}

/// Plays one case against `addr` and judges what came back.
pub fn play(addr: SocketAddr, case: &Case) -> Result<(), String> {
    let mut stream = client::connect_within(addr, ANSWER_WITHIN)
        .map_err(|err| format!("cannot connect: {err}"))?;
    let pieces = case.pieces();
    let stop_after = match case.ending {
        Ending::HalfCloseAfter(count) | Ending::ResetAfter(count) => count.min(pieces.len()),
        _ => pieces.len(),
    };
    for (index, piece) in pieces.iter().take(stop_after).enumerate() {
        thread::sleep(Duration::from_millis(
            case.pauses[index % case.pauses.len()],
        ));
        if let Err(err) = stream.write_all(piece) {
            // The server may answer and close before a refused request is all sent (a head
            // over 8 KiB gets 431 at once): what it sent is still judged below.
            return judge_after_write_error(case, &mut stream, err);
        }
    }
    let sent_whole = stop_after == pieces.len();
    match case.ending {
        Ending::ResetAfter(_) => {
            reset(&stream);
            return Ok(());
        }
        Ending::HalfClose | Ending::HalfCloseAfter(_) => {
            let _ = stream.shutdown(Shutdown::Write);
        }
        Ending::Wait | Ending::ResetOnFirstByte => {}
    }
    if let Ending::ResetOnFirstByte = case.ending {
        let mut byte = [0u8; 1];
        let _ = stream.read(&mut byte);
        reset(&stream);
        return Ok(());
    }
    let answer = read_to_close(&mut stream);
    judge(case, sent_whole, answer)
}

fn reset(stream: &TcpStream) {
    let _ = client::reset_on_close(stream);
}

/// Everything until the server closes; an error says how reading ended instead.
fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, Option<io::Error>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (bytes, None),
            Ok(count) => bytes.extend_from_slice(&chunk[..count]),
            Err(err) => return (bytes, Some(err)),
        }
    }
}

fn judge_after_write_error(
    case: &Case,
    stream: &mut TcpStream,
    err: io::Error,
) -> Result<(), String> {
    let (bytes, _) = read_to_close(stream);
    if bytes.is_empty() {
        // Reset by the server after answering a refused head, before we read the answer.
        return Ok(());
    }
    check_answer(case, &bytes)
        .map(|_status| ())
        .map_err(|why| format!("{why} (after a write failed: {err})"))
}

fn judge(
    case: &Case,
    sent_whole: bool,
    (bytes, err): (Vec<u8>, Option<io::Error>),
) -> Result<(), String> {
    if let Some(err) = &err {
        if matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            return Err(format!(
                "no answer and no close within {ANSWER_WITHIN:?} (the read timeout is \
                 {READ_TIMEOUT_MS} ms); got {} bytes",
                bytes.len()
            ));
        }
    }
    let whole_request = sent_whole && case.expected.is_some();
    if bytes.is_empty() {
        return match (whole_request, err) {
            (true, err) => Err(format!(
                "a well-formed request got no answer ({})",
                err.map_or("closed".to_string(), |err| err.to_string())
            )),
            // Closed (or reset, with bytes after the head left unread) without an answer:
            // allowed for what is not a whole request.
            (false, _) => Ok(()),
        };
    }
    if whole_request {
        if let Some(err) = err {
            return Err(format!("a well-formed request's answer ended with {err}"));
        }
    }
    let status = check_answer(case, &bytes)?;
    match case.expected {
        Some(expected) if whole_request && status != expected => Err(format!(
            "a well-formed request got {status}, not {expected}"
        )),
        _ => Ok(()),
    }
}

/// A complete response with the contract's headers; its status.
fn check_answer(case: &Case, bytes: &[u8]) -> Result<u16, String> {
    let text = || String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    if !bytes.starts_with(b"HTTP/1.1 ") {
        return Err(format!("not an HTTP/1.1 status line: {:?}", text()));
    }
    let response = client::parse_response(bytes).map_err(|err| format!("{err}: {:?}", text()))?;
    if !STATUSES.contains(&response.status) {
        return Err(format!("status {} is not in the contract", response.status));
    }
    let header = |name| response.header(name);
    if header("Content-Type") != Some("text/html; charset=utf-8") {
        return Err(format!("Content-Type: {:?}", text()));
    }
    if header("Connection") != Some("close") {
        return Err(format!("no `Connection: close`: {:?}", text()));
    }
    let length = header("Content-Length").and_then(|value| value.parse::<usize>().ok());
    let head_request = case.bytes.windows(4).any(|window| window == b"HEAD");
    match length {
        Some(length) if length == response.body.len() => {}
        Some(_) if response.body.is_empty() && head_request => {}
        _ => {
            return Err(format!(
                "Content-Length does not match the body: {:?}",
                text()
            ));
        }
    }
    if response.status == 405 && header("Allow") != Some("GET, HEAD") {
        return Err(format!("405 without `Allow: GET, HEAD`: {:?}", text()));
    }
    Ok(response.status)
}

/// The seed: `PROPTEST_RNG_SEED`, or a new one from the clock.
fn seed(config: &Config) -> u64 {
    match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos() as u64);
            nanos ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

/// The fuzz against one binary: [`DEFAULT_CASES`] cases (or `PROPTEST_CASES`), the seed
/// printed, `GET /` after every case, and the process alive at the end.
pub fn socket_fuzz(target: &Target) {
    let mut config = Config::default(); // Reads the PROPTEST_* variables.
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    let seed = seed(&config);
    config.rng_seed = RngSeed::Fixed(seed);
    config.failure_persistence = None;
    config.max_shrink_iters = 64;
    eprintln!(
        "socket fuzz of {}: {} cases, seed {seed} (replay with PROPTEST_RNG_SEED={seed})",
        target.bin, config.cases
    );

    let mut server = target.start_with(&[
        "--sleep-ms",
        &SLEEP_MS.to_string(),
        "--read-timeout-ms",
        &READ_TIMEOUT_MS.to_string(),
    ]);
    let addr = server.addr();
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&case(), |case| {
        play(addr, &case).map_err(TestCaseError::fail)?;
        let after = client::get(addr, "/");
        if after.status() != 200 {
            return Err(TestCaseError::fail(format!(
                "GET / after the case: {:?}",
                after.response.map(|r| r.status)
            )));
        }
        Ok(())
    });
    if let Err(err) = outcome {
        let log = server.stderr_text();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        panic!(
            "socket fuzz of {} failed (seed {seed}; replay with PROPTEST_RNG_SEED={seed}): \
             {err}\nlast log lines: {tail:?}",
            target.bin
        );
    }
    assert_still_serves(&mut server);
    let log = server.stderr_text();
    assert!(
        !log.contains("panicked"),
        "{}: a thread panicked:\n{log}",
        target.bin
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_every_byte_once() {
        let case = Case {
            bytes: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            expected: Some(200),
            cuts: vec![3, 3, 100, 0, 7],
            pauses: vec![0],
            ending: Ending::Wait,
        };
        let pieces = case.pieces();
        assert_eq!(pieces.concat(), case.bytes);
        assert!(pieces.iter().all(|piece| !piece.is_empty()));
        assert_eq!(pieces.len(), 4, "{pieces:?}");
    }

    #[test]
    fn mutations_stay_in_bounds() {
        let mut bytes = b"GET".to_vec();
        for mutation in [
            Mutation::Flip(7, b'x'),
            Mutation::Insert(99, b'y'),
            Mutation::Delete(5),
            Mutation::Repeat(1, 60),
            Mutation::Truncate(2),
        ] {
            mutate(&mut bytes, &mutation);
        }
        assert_eq!(bytes.len(), 2);
        let mut empty = Vec::new();
        mutate(&mut empty, &Mutation::Flip(3, 0));
        mutate(&mut empty, &Mutation::Delete(3));
        assert!(empty.is_empty());
    }

    #[test]
    fn only_answers_of_the_contract_pass() {
        let case = Case {
            bytes: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            expected: Some(200),
            cuts: Vec::new(),
            pauses: vec![0],
            ending: Ending::Wait,
        };
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                   Content-Length: 2\r\nConnection: close\r\n\r\nhi";
        assert_eq!(check_answer(&case, ok), Ok(200));
        assert_eq!(judge(&case, true, (ok.to_vec(), None)), Ok(()));
        let wrong_length = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                             Content-Length: 3\r\nConnection: close\r\n\r\nhi";
        assert!(check_answer(&case, wrong_length).is_err());
        let keep_alive = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                           Content-Length: 2\r\n\r\nhi";
        assert!(check_answer(&case, keep_alive).is_err());
        let teapot = b"HTTP/1.1 418 I'm a teapot\r\nContent-Type: text/html; charset=utf-8\r\n\
                       Content-Length: 0\r\nConnection: close\r\n\r\n";
        assert!(check_answer(&case, teapot).is_err());
        assert!(check_answer(&case, b"HTTP/1.1 200 OK\r\nContent-").is_err());
        // A whole, well-formed request must get its answer, and the right one.
        assert!(judge(&case, true, (Vec::new(), None)).is_err());
        let missing = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n\
                        Content-Length: 0\r\nConnection: close\r\n\r\n";
        assert!(judge(&case, true, (missing.to_vec(), None)).is_err());
        // Half a request may be closed without an answer.
        assert_eq!(judge(&case, false, (Vec::new(), None)), Ok(()));
    }
}
