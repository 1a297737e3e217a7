//! `cargo xtask check` on a broken server: the report says what broke, and the check neither
//! hangs nor panics.

use std::time::{Duration, Instant};

use measure::ServerProcess;
use measure::check::{
    self, Cpu, Model, NoCpu, NoResponse, Options, Process, Stopped, Unanswered, Unknown,
};

fn start_broken(mode: &str) -> ServerProcess {
    ServerProcess::start(
        env!("CARGO_BIN_EXE_broken-server"),
        &["--sleep-ms", "500", "--broken", mode],
    )
    .expect("the broken server starts")
}

fn options() -> Options {
    Options {
        slow: Some(Duration::from_millis(500)),
        ..Default::default()
    }
}

/// Checks the broken server in `mode`, watching its process.
fn check_broken(mode: &str) -> check::Report {
    let mut server = start_broken(mode);
    timed(|| check::check_process(&mut server, &options()))
}

fn timed(check: impl FnOnce() -> check::Report) -> check::Report {
    let started = Instant::now();
    let report = check();
    println!("{report:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the check took {:?}",
        started.elapsed()
    );
    report
}

#[test]
fn a_server_that_crashes_on_bad_input_is_reported_as_crashed() {
    let report = check_broken("crash-on-bad-input");
    // The model was measured before the bad input: the crash does not hide it.
    assert!(
        matches!(report.model, Model::OneAtATime { .. }),
        "{:?}",
        report.model
    );
    let Some(Stopped::Exited {
        status,
        last_words,
        unanswered: Some(unanswered),
    }) = &report.stopped
    else {
        panic!("an exit found by a GET that failed: {:?}", report.stopped);
    };
    assert_eq!(status.code(), Some(101));
    assert_eq!(unanswered.after.as_deref(), Some("garbage gets 400"));
    assert!(
        last_words.iter().any(|line| line.contains("giving up")),
        "its last words are kept: {last_words:?}"
    );
    let words = report.stopped.as_ref().map(ToString::to_string);
    assert!(
        words
            .as_deref()
            .is_some_and(|words| words.starts_with("the process exited (")
                && words.contains("after \"garbage gets 400\"")),
        "{words:?}"
    );
    assert!(!report.contract_kept());
}

#[test]
fn a_server_that_closes_without_answering_is_reported_as_such() {
    let report = check_broken("close-without-answer");
    assert_eq!(
        report.model,
        Model::Unknown(Unknown::FastNotAnswered { path: "/".into() })
    );
    let first = &report.contract[0];
    let problem = first.outcome.as_ref().expect_err("GET / failed");
    // Closed (EOF) or reset: which one depends on whether the request had arrived yet.
    assert!(
        problem.contains("connection without answering"),
        "{problem}"
    );
    assert!(!report.contract_kept());
    assert!(first.what.starts_with("GET / gets 200"), "{first:?}");
    // The process runs on: it did not crash, and the words do not guess that it did.
    assert!(!problem.contains("crash"), "{problem}");
    match &report.stopped {
        Some(Stopped::NotAnswering {
            unanswered:
                Unanswered {
                    after: None,
                    path,
                    failure: NoResponse::Closed | NoResponse::Reset,
                },
            process: Process::StillRunning,
        }) => assert_eq!(path, "/"),
        other => panic!("not answering, the process still running: {other:?}"),
    }
}

/// The broken server that answers its first request only, then closes every connection.
fn assert_stopped_answering(report: &check::Report, process: Process) {
    assert!(
        report.contract[0].outcome.is_ok(),
        "the first GET / is answered: {:?}",
        report.contract[0]
    );
    // Its slow requests are closed unanswered: a failure of the ramp's (the delay was given,
    // so /sleep was never sent alone), not an answer that came early.
    assert!(
        matches!(
            &report.model,
            Model::Unknown(Unknown::RampSlowFailed {
                path,
                pending: 1,
                failure: NoResponse::Closed | NoResponse::Reset
            }) if path == "/sleep"
        ),
        "{:?}",
        report.model
    );
    match &report.stopped {
        Some(stopped @ Stopped::NotAnswering { unanswered, .. }) => {
            assert_eq!(
                stopped,
                &Stopped::NotAnswering {
                    unanswered: unanswered.clone(),
                    process,
                }
            );
            // The first probe after the ramp (which found nothing) is an unknown path.
            assert_eq!(
                unanswered.after.as_deref(),
                Some("an unknown path gets 404")
            );
            assert_eq!(unanswered.path, "/");
            assert!(
                matches!(unanswered.failure, NoResponse::Closed | NoResponse::Reset),
                "{:?}",
                unanswered.failure
            );
            assert!(!stopped.is_crash());
        }
        other => panic!("not answering, not a crash: {other:?}"),
    }
    assert!(!report.contract_kept());
}

#[test]
fn a_server_that_stops_answering_but_runs_on_is_not_reported_as_crashed() {
    let mut server = start_broken("answer-once");
    let report = timed(|| check::check_process(&mut server, &options()));
    assert_stopped_answering(&report, Process::StillRunning);
    assert!(server.exit_status().is_none(), "it is still running");
    let words = report.stopped.as_ref().map(ToString::to_string);
    assert!(
        words.as_deref().is_some_and(|words| words
            .starts_with("after \"an unknown path gets 404\", GET / failed: the server")
            && !words.contains("crash")),
        "no guess at a crash for a process seen running: {words:?}"
    );
}

#[test]
fn at_an_address_alone_a_server_that_stops_answering_is_not_watched() {
    let mut server = start_broken("answer-once");
    let report = timed(|| check::check(server.addr(), &options()));
    assert_stopped_answering(&report, Process::NotWatched);
    assert!(server.exit_status().is_none(), "it is still running");
}

// ---- Servers students bring, written any way ----------------------------------------------

/// A server that answers every path with its page: its `/cpu` answered at once did no work,
/// and the check says so instead of judging it one thread; its other routes break the
/// contract, each said as what came back.
#[test]
fn a_server_that_answers_every_path_has_no_cpu_route() {
    let report = check_broken("every-path-200");
    assert!(
        matches!(report.model, Model::Concurrent { pending: 12, .. }),
        "a thread per connection: {:?}",
        report.model
    );
    match &report.cpu {
        Cpu::CannotTell(NoCpu::NoWork { path, took, .. }) => {
            assert_eq!(path, "/cpu");
            assert!(*took < check::CPU_ROUTE_SHORTEST, "{took:?}");
        }
        other => panic!("no CPU work, not a verdict: {other:?}"),
    }
    assert_eq!(
        point(&report, "an unknown path gets 404"),
        Err("got 200, expected 404")
    );
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
}

/// A server that reads only the first KiB of a request, answers and closes: a head longer
/// than that is answered, then reset. The check keeps the answer and says what happened,
/// never "reset without answering (did it crash?)".
#[test]
fn an_answer_then_a_reset_is_worded_as_what_happened() {
    for watched in [true, false] {
        let mut server = start_broken("answer-then-reset");
        let report = if watched {
            timed(|| check::check_process(&mut server, &options()))
        } else {
            timed(|| check::check(server.addr(), &options()))
        };
        let huge = point(&report, "a 9 KiB head gets 431").expect_err("200 is not 431");
        assert!(
            huge.starts_with("answered 200 (not the status expected), then reset the connection: it closed with bytes of the request unread"),
            "{huge}"
        );
        assert!(!huge.contains("crash"), "{huge}");
        assert!(
            report.stopped.is_none(),
            "it still answers: {:?}",
            report.stopped
        );
    }
}

/// A pool whose worker dies on an empty connection: at an address alone the check cannot see
/// the panic, so it measures the pool again after the bad input and reports the worker lost;
/// where it watches the process, the panic itself, with its message.
#[test]
fn a_pool_that_loses_a_worker_to_the_bad_input_is_caught() {
    let server = start_broken("pool-dies-on-empty");
    let report = timed(|| check::check(server.addr(), &options()));
    assert!(
        matches!(report.model, Model::Pool { size: 4, .. }),
        "{:?}",
        report.model
    );
    assert!(
        matches!(report.model_after, Some(Model::Pool { size: 3, .. })),
        "{:?}",
        report.model_after
    );
    assert_eq!(
        point(&report, "the bad input left the server as it was"),
        Err(
            "a pool of 4 before it, 3 after: a worker died on the bad input (its log may say which request killed it)"
        )
    );
    assert!(!report.contract_kept());

    let mut server = start_broken("pool-dies-on-empty");
    let report = timed(|| check::check_process(&mut server, &options()));
    match &report.stopped {
        Some(Stopped::Panicked { line, .. }) => assert!(
            line.contains("panicked at") && line.ends_with("a connection without a request"),
            "the panic and its message: {line}"
        ),
        other => panic!("a worker panicked: {other:?}"),
    }
    assert_eq!(report.model_after, None, "watched: the panic says it all");
}

/// The outcome of the contract point named `what`.
fn point<'a>(report: &'a check::Report, what: &str) -> Result<&'a str, &'a str> {
    let point = report
        .contract
        .iter()
        .find(|point| point.what == what)
        .unwrap_or_else(|| panic!("no point {what:?} in {:#?}", report.contract));
    point.outcome.as_deref().map_err(String::as_str)
}

/// `check --bin` on a wrapper script that starts the server as its own child: stopping the
/// wrapper stops the server too, so nothing stays on the port.
#[cfg(unix)]
#[test]
fn stopping_a_wrapper_stops_the_server_it_started() {
    let bin = env!("CARGO_BIN_EXE_broken-server");
    let mut command = std::process::Command::new("sh");
    // Not `exec`: the shell stays, as a wrapper that sets something up first would.
    command.args(["-c", "\"$0\" \"$@\"; exit $?", bin, "--port", "0"]);
    command.args(["--broken", "every-path-200"]);
    let server = ServerProcess::start_command(command, std::path::Path::new(bin), None)
        .expect("the wrapper starts the server");
    let addr = server.addr();
    assert_eq!(measure::client::get(addr, "/").status(), 200);
    drop(server);
    let after = measure::client::get(addr, "/");
    assert!(
        after.response.is_err(),
        "the wrapper's server still answers on {addr}: {:?}",
        after.response
    );
}
