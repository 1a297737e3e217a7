//! `cargo xtask check` on a broken server: the report says what broke, and the check neither
//! hangs nor panics.

use std::time::{Duration, Instant};

use measure::ServerProcess;
use measure::check::{self, Model, Options, Unknown};

fn check_broken(mode: &str) -> check::Report {
    let mut server = ServerProcess::start(
        env!("CARGO_BIN_EXE_broken-server"),
        &["--sleep-ms", "500", "--broken", mode],
    )
    .expect("the broken server starts");
    let options = Options {
        slow: Some(Duration::from_millis(500)),
        ..Default::default()
    };
    let started = Instant::now();
    let report = check::check_process(&mut server, &options);
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
    let crash = report.crashed.as_deref().expect("the crash is reported");
    assert!(crash.contains("garbage gets 400"), "{crash}");
    assert!(crash.contains("the process exited"), "{crash}");
    assert!(
        crash.contains("giving up"),
        "its last words are quoted: {crash}"
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
}
