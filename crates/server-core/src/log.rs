//! One line on stderr per connection, so a learner can watch the concurrency happen:
//! which thread served which request, and how long it took.
//!
//! Each line is formatted first and then written with one `write` call. stderr has no
//! buffer, so `eprintln!` with arguments writes a line piece by piece: about ten system calls
//! per request, under stderr's lock (measured with `strace -c`; see the book's chapter "What
//! it costs"). One call per line is also what keeps lines from two threads whole.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::thread;
use std::time::Instant;

use crate::Reply;

/// Logs how a connection ended: the request and its status, a client that left without
/// sending anything, or an I/O error. Errors are only logged: one client's broken connection
/// must never stop the server.
pub fn log_connection(started: Instant, outcome: &io::Result<Option<Reply>>) {
    write_line(&connection_line(started.elapsed().as_millis(), outcome));
}

/// The log line of one connection, with its newline.
fn connection_line(millis: u128, outcome: &io::Result<Option<Reply>>) -> String {
    let mut line = String::with_capacity(96);
    match outcome {
        Ok(Some(reply)) => write!(
            line,
            "{} {} -> {} in {millis} ms on ",
            reply.method(),
            reply.path(),
            reply.status.code(),
        ),
        Ok(None) => write!(
            line,
            "(no request; connection closed) after {millis} ms on "
        ),
        Err(err) => write!(line, "(connection failed: {err}) after {millis} ms on "),
    }
    .and_then(|()| push_thread_label(&mut line))
    .expect("formatting into a String cannot fail");
    line.push('\n');
    line
}

/// Writes a whole line (with its newline) to stderr with one `write_all` on the locked
/// stderr, so it costs one system call. A log that cannot be written is not worth stopping a
/// server for, so an error is ignored (where `eprintln!` would panic).
pub fn write_line(line: &str) {
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// The current thread's name and number, such as `main #1` or `tokio-runtime-worker #3`.
pub fn thread_label() -> String {
    let mut label = String::new();
    push_thread_label(&mut label).expect("formatting into a String cannot fail");
    label
}

fn push_thread_label(out: &mut String) -> std::fmt::Result {
    let current = thread::current();
    let name = current.name().unwrap_or("unnamed");
    // `ThreadId` has no stable number accessor; its Debug form is `ThreadId(3)`.
    let id = format!("{:?}", current.id());
    let number = id.trim_start_matches("ThreadId(").trim_end_matches(')');
    write!(out, "{name} #{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_test_thread_has_a_label() {
        // The test harness runs each test on a thread named after the test (or on `main`
        // with --test-threads=1): its label is that name and a number.
        let label = thread_label();
        let name = thread::current().name().unwrap_or("unnamed").to_string();
        let number = label
            .strip_prefix(&format!("{name} #"))
            .expect("the thread's name first");
        assert!(number.parse::<u64>().is_ok(), "{label}");
    }

    #[test]
    fn a_spawned_thread_is_labelled_with_its_name() {
        let label = thread::Builder::new()
            .name("worker".into())
            .spawn(thread_label)
            .expect("spawn a thread")
            .join()
            .expect("thread_label does not panic");
        let number = label.strip_prefix("worker #").expect("name first");
        assert!(number.parse::<u64>().is_ok(), "{label}");
    }

    #[test]
    fn a_line_is_whole_with_its_newline() {
        let me = thread_label();
        let failed = Err(io::Error::other("reset"));
        assert_eq!(
            connection_line(7, &failed),
            format!("(connection failed: reset) after 7 ms on {me}\n")
        );
        let reply = Reply::new("GET", "/sleep", crate::Status::Ok, crate::Work::None);
        assert_eq!(
            connection_line(5000, &Ok(Some(reply))),
            format!("GET /sleep -> 200 in 5000 ms on {me}\n")
        );
        assert_eq!(
            connection_line(0, &Ok(None)),
            format!("(no request; connection closed) after 0 ms on {me}\n")
        );
    }
}
