//! stage-4-mini explains itself: with `MINI_RUNTIME_TRACE=1`, one `/sleep` request is told
//! step by step, from the accept to the answer (the narration the book's chapter "Under the
//! hood" follows).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use measure::process::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_stage-4-mini");
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn one_sleep_request_is_narrated_step_by_step() {
    let mut command = Command::new(BIN);
    command
        .args([
            "--port",
            "0",
            "--sleep-ms",
            "200",
            "--read-timeout-ms",
            "10000",
        ])
        .env("MINI_RUNTIME_TRACE", "1");
    let mut server =
        ServerProcess::start_command(command, Path::new(BIN), None).expect("stage-4-mini starts");
    let listener = format!("socket 1 (listener {})", server.addr());
    assert!(server.wait_for_log(&format!("waits for {listener} readable"), WAIT));

    let mut client = TcpStream::connect(server.addr()).expect("connects");
    let connection = format!(
        "socket 2 (connection from {})",
        client.local_addr().expect("a local address")
    );
    // The request is sent once the server waits for it, so that its first read is `Pending`
    // on every run: the narration is then the same, line for line.
    assert!(server.wait_for_log(&format!("waits for {connection} readable"), WAIT));
    client
        .write_all(b"GET /sleep HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("sends");
    let mut answer = String::new();
    client.read_to_string(&mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    // The last lines come after the request's log line (the connection ends, then it stops
    // counting as in flight): wait for all of them before stopping the server.
    let deadline = Instant::now() + WAIT;
    while narration_of(&server.stderr_text()).len() < 17 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    server.stop();

    let log = server.stderr_text();
    let narration: Vec<&str> = narration_of(&log).into_iter().take(17).collect();
    let expected = [
        // Nothing to accept yet: the one task waits for the listener.
        "task 1 polled".to_string(),
        format!("task 1 pending: waits for {listener} readable"),
        // The client connects: the OS says the listener is readable.
        format!("reactor: {listener} readable, wakes task 1"),
        "task 1 polled".to_string(),
        // Accepted, and the connection's first poll done: `for_each_concurrent`'s
        // `FuturesUnordered` wakes its own task and yields once it has polled them all.
        "task 1 woken by thread main".to_string(),
        // No request yet: it waits for the connection, its read timeout, and more clients.
        format!(
            "task 1 pending: waits for {connection} readable, timer 1 (10000 ms), \
             {listener} readable"
        ),
        "task 1 polled".to_string(),
        format!("task 1 pending: waits for {listener} readable"),
        // The request arrives.
        format!("reactor: {connection} readable, wakes task 1"),
        "task 1 polled".to_string(),
        "task 1 woken by thread main".to_string(),
        // Read; `/sleep` now waits on a timer, and the thread is free.
        format!("task 1 pending: waits for {listener} readable, timer 2 (200 ms)"),
        "task 1 polled".to_string(),
        format!("task 1 pending: waits for {listener} readable"),
        "reactor: timer 2 fired, wakes task 1".to_string(),
        // Answered; the connection is done, and no longer in flight: shutdown's watcher
        // (`take_until`'s) is told, and wakes the task it is in.
        "task 1 polled".to_string(),
        "task 1 woken by thread main".to_string(),
    ];
    assert_eq!(narration, expected, "the whole log:\n{log}");
}

/// The runtime's lines in a log, without their prefix.
fn narration_of(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|line| line.strip_prefix("[mini-runtime] "))
        .collect()
}

#[test]
fn without_the_variable_it_says_nothing() {
    let mut server = ServerProcess::start(BIN, &[]).expect("stage-4-mini starts");
    let mut client = TcpStream::connect(server.addr()).expect("connects");
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("sends");
    let mut answer = String::new();
    client.read_to_string(&mut answer).expect("an answer");
    assert!(server.wait_for_log("GET / -> 200", WAIT));
    server.stop();
    let log = server.stderr_text();
    assert!(!log.contains("[mini-runtime]"), "{log}");
}
