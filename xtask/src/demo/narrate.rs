//! `cargo xtask demo --narrate`: one `GET /sleep` to a stage on our own runtime, told by the
//! runtime itself. The `-mini` binary runs with `MINI_RUNTIME_TRACE=1`, and what it writes on
//! stderr (the `[mini-runtime]` lines and the request's log line, the servers' contract) is
//! printed as it came, between a header and a pointer to the book's chapter "Under the hood".

use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use measure::catalogue::{Binary, Runtime, Stage};
use measure::client;

use super::error;
use crate::cargo;
use crate::pipeline;
use crate::stop::{self, TrackedServer};

/// The prefix of every line the runtime narrates (`crates/mini-runtime/src/trace.rs`).
const NARRATION: &str = "[mini-runtime] ";

/// The start of the one request's log line (`server-core`'s `log.rs`).
const LOG_LINE: &str = "GET /sleep ";

/// How long stderr must stay unchanged to count as done: the runtime writes its lines within
/// microseconds of each other, so a pause this long means it waits (for a client or a timer).
const QUIET: Duration = Duration::from_millis(150);

/// The longest wait for the server to fall quiet or to log the request: a server that keeps
/// talking or never logs is shown as it is, not waited for forever.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Builds the stage's `-mini` binary, sends it one `/sleep` of `slow`, and prints its story.
pub fn run(stage: Stage, slow: Duration) -> ExitCode {
    let Some(binary) = Binary::of(stage, Runtime::Mini) else {
        return error(&format!(
            "stage {} has no binary on our runtime",
            stage.number()
        ));
    };
    if let Err(message) = stop::install_ctrl_c_handler() {
        eprintln!("warning: {message}");
    }
    let workspace = match cargo::workspace() {
        Ok(workspace) => workspace,
        Err(message) => return error(&message),
    };
    let built = pipeline::build(&workspace, &[*binary]);
    let executable = match built.get(binary.name) {
        Some(Ok(executable)) => executable,
        Some(Err(message)) => return error(&format!("{} did not build:\n{message}", binary.name)),
        None => return error(&format!("{} was not built", binary.name)),
    };

    let sleep_ms = u64::try_from(slow.as_millis()).unwrap_or(u64::MAX);
    let mut command = Command::new(executable);
    command
        .args(["--port", "0"])
        .args(binary.args(sleep_ms, None))
        .env("MINI_RUNTIME_TRACE", "1");
    let server = match stop::start_server_command(command, executable, None) {
        Ok(server) => server,
        Err(err) => return error(&format!("{} did not start: {err}", binary.name)),
    };
    // The first lines (the runtime waiting for a client) before the request, so that they
    // are not mixed with the request's.
    settled(&server, |_| true);
    let exchange = client::get(server.addr, "/sleep");
    // The log line is written once the answer is sent, and the connection's last steps
    // after it: wait for both before stopping the server.
    let log = settled(&server, |log| log.contains(LOG_LINE));
    // Stops the server by its PID.
    drop(server);

    let mut out = format!(
        "{} tells one GET /sleep (MINI_RUNTIME_TRACE=1, --sleep-ms {sleep_ms}):\n\n",
        binary.name
    );
    for line in narration(&log) {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(
        "\nRead it step by step in the book: \"Under the hood\" (cargo xtask book --serve).\n",
    );
    crate::output::stdout(&out);
    match exchange.response {
        Ok(response) if response.status == 200 => ExitCode::SUCCESS,
        Ok(response) => error(&format!("GET /sleep answered {}, not 200", response.status)),
        Err(err) => error(&format!("GET /sleep got no answer: {err}")),
    }
}

/// The server's stderr once `done` holds for it and it has not changed for [`QUIET`], or
/// as it is after [`MAX_WAIT`].
fn settled(server: &TrackedServer, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + MAX_WAIT;
    let mut log = String::new();
    let mut unchanged_since = Instant::now();
    loop {
        // Read a copy each time: `with` holds the lock Ctrl-C's handler needs.
        let now = server.with(|s| s.stderr_text()).unwrap_or_default();
        if now != log {
            log = now;
            unchanged_since = Instant::now();
        } else if done(&log) && unchanged_since.elapsed() >= QUIET {
            return log;
        }
        if Instant::now() >= deadline {
            return log;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The runtime's lines and the request's log line, in the order the server wrote them.
fn narration(log: &str) -> impl Iterator<Item = &str> {
    log.lines()
        .filter(|line| line.starts_with(NARRATION) || line.starts_with(LOG_LINE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_narration_is_the_runtime_s_lines_and_the_request_s_log_line_in_order() {
        let log = "warning: something else\n\
                   [mini-runtime] task 1 polled\n\
                   GET /sleep -> 200 in 201 ms on main #1\n\
                   [mini-runtime] task 1 woken by thread main\n";
        let lines: Vec<&str> = narration(log).collect();
        assert_eq!(
            lines,
            [
                "[mini-runtime] task 1 polled",
                "GET /sleep -> 200 in 201 ms on main #1",
                "[mini-runtime] task 1 woken by thread main",
            ]
        );
    }
}
