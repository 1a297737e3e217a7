//! The probes `check` lacks (`harness::bug_probes`) tell each bug that needs them from the
//! code it should be: the untouched step-2 exercise is stage 2's code line for line, so it
//! stands in for the real stage here.

use std::time::Duration;

use harness::bug_probes;
use measure::ServerProcess;

const SLOW_MS: u64 = 1000;

fn start(bin: &str) -> ServerProcess {
    let sleep = SLOW_MS.to_string();
    ServerProcess::start(bin, &["--sleep-ms", &sleep]).expect("the server starts")
}

#[cfg(unix)]
fn ctrl_c(bin: &str) -> bug_probes::ShutdownSeen {
    let mut server = start(bin);
    let seen = bug_probes::ctrl_c_with_request_in_flight(
        &mut server,
        "/sleep",
        Duration::from_millis(SLOW_MS),
    )
    .expect("Ctrl-C can be sent");
    println!("{bin}: {seen:?}");
    seen
}

#[cfg(unix)]
#[test]
fn ctrl_c_cuts_off_the_request_in_flight_of_a_pool_never_joined() {
    assert!(ctrl_c(env!("CARGO_BIN_EXE_exercise-2")).graceful());
    let bug = ctrl_c(env!("CARGO_BIN_EXE_bug-3"));
    assert!(bug.in_flight.is_err(), "{bug:?}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_cuts_off_the_request_in_flight_of_tasks_never_awaited() {
    let bug = ctrl_c(env!("CARGO_BIN_EXE_bug-6"));
    assert!(bug.in_flight.is_err(), "{bug:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_per_connection_grows_with_the_clients_and_a_pool_does_not() {
    let clients = 24;
    let settle = Duration::from_millis(300);
    let pool = start(env!("CARGO_BIN_EXE_exercise-2"));
    let pool = bug_probes::threads_while_waiting(&pool, "/sleep", clients, settle)
        .expect("threads counted");
    let per_connection = start(env!("CARGO_BIN_EXE_bug-2"));
    let per_connection =
        bug_probes::threads_while_waiting(&per_connection, "/sleep", clients, settle)
            .expect("threads counted");
    println!("pool: {pool:?}; a thread per connection: {per_connection:?}");
    assert_eq!(pool.waiting, pool.idle, "a pool keeps its threads");
    assert!(
        per_connection.per_client() >= 0.9,
        "one thread per waiting client: {per_connection:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn memory_per_waiting_connection_is_measured() {
    let server = start(env!("CARGO_BIN_EXE_exercise-2"));
    let seen = bug_probes::rss_while_waiting(&server, "/sleep", 4, Duration::from_millis(200))
        .expect("RSS read");
    println!(
        "{seen:?}: {:.1} KiB per waiting connection",
        seen.per_client_kib()
    );
    assert!(seen.idle_kib > 0 && seen.waiting_kib > 0, "{seen:?}");
}

#[test]
fn a_head_in_pieces_gets_its_answer() {
    let server = start(env!("CARGO_BIN_EXE_exercise-1"));
    let status = bug_probes::head_in_pieces(server.addr(), "/", Duration::from_millis(5));
    assert_eq!(status, Ok(200));
}
