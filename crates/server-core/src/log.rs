//! One line on stderr per connection, so a learner can watch the concurrency happen:
//! which thread served which request, and how long it took.

use std::io;
use std::thread;
use std::time::Instant;

use crate::Reply;

/// Logs how a connection ended: the request and its status, a client that left without
/// sending anything, or an I/O error. Errors are only logged: one client's broken connection
/// must never stop the server.
pub fn log_connection(started: Instant, outcome: &io::Result<Option<Reply>>) {
    let millis = started.elapsed().as_millis();
    let thread = thread_label();
    match outcome {
        Ok(Some(reply)) => eprintln!(
            "{} {} -> {} in {millis} ms on {thread}",
            reply.method(),
            reply.path(),
            reply.status.code(),
        ),
        Ok(None) => {
            eprintln!("(no request; connection closed) after {millis} ms on {thread}")
        }
        Err(err) => eprintln!("(connection failed: {err}) after {millis} ms on {thread}"),
    }
}

/// The current thread's name and number, such as `main #1` or `tokio-runtime-worker #3`.
pub fn thread_label() -> String {
    let current = thread::current();
    let name = current.name().unwrap_or("unnamed");
    // `ThreadId` has no stable number accessor; its Debug form is `ThreadId(3)`.
    let id = format!("{:?}", current.id());
    let number = id.trim_start_matches("ThreadId(").trim_end_matches(')');
    format!("{name} #{number}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_main_test_thread_has_a_label() {
        let label = std::thread::Builder::new()
            .name("worker".into())
            .spawn(super::thread_label)
            .expect("spawn a thread")
            .join()
            .expect("thread_label does not panic");
        let number = label.strip_prefix("worker #").expect("name first");
        assert!(number.parse::<u64>().is_ok(), "{label}");
    }
}
