//! The probes that no grading uses yet (`measure::probes`): memory per waiting connection and
//! a head sent in pieces, against the untouched exercises, whose code is stage 1's and stage
//! 2's line for line. (Ctrl-C with a request in flight and the thread count are part of the
//! grading of bugs 2, 3 and 6: `tests/bugs.rs`, and the stages' `tests/check.rs`.)

use std::time::Duration;

use measure::ServerProcess;
use measure::probes;

fn start(bin: &str) -> ServerProcess {
    ServerProcess::start(bin, &["--sleep-ms", "1000"]).expect("the server starts")
}

/// Linux reads `/proc`; macOS asks `ps` and Windows PowerShell (`measure::system`).
#[cfg(any(target_os = "linux", target_os = "macos", windows))]
#[test]
fn memory_per_waiting_connection_is_measured() {
    let server = start(env!("CARGO_BIN_EXE_exercise-2"));
    let seen = probes::rss_while_waiting(&server, "/sleep", 4, Duration::from_millis(200))
        .expect("RSS read");
    println!(
        "{seen:?}: {:.1} KiB per waiting connection",
        seen.per_client_kib()
    );
    assert!(seen.idle_kib > 0 && seen.waiting_kib > 0, "{seen:?}");
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[test]
fn memory_per_waiting_connection_is_not_measured_here() {
    let server = start(env!("CARGO_BIN_EXE_exercise-2"));
    let seen = probes::rss_while_waiting(&server, "/sleep", 4, Duration::from_millis(200));
    println!("skipped: memory per connection is measured on Linux, macOS and Windows ({seen:?})");
    assert!(matches!(seen, Err(probes::ProbeError::NotOnThisOs { .. })));
}

#[test]
fn a_head_in_pieces_gets_its_answer() {
    let server = start(env!("CARGO_BIN_EXE_exercise-1"));
    let status = probes::head_in_pieces(server.addr(), "/", Duration::from_millis(5));
    assert_eq!(status, Ok(200));
}
