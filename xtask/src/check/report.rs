//! A check's report in words and colours, from its typed data: the model with its evidence,
//! then the contract as a pass/FAIL list. `cargo xtask check` prints the whole report, and
//! the workshop prints what each finding measured with the same words.

use std::time::Duration;

use measure::check::{Cpu, Failure, Model, NoCpu, Process, Report, Stopped, Unknown};

use crate::style::{Color, Style};

/// The model in a few words: "one at a time", "a pool of 4", "concurrent and parallel".
pub fn model_name(model: &Model, cpu: &Cpu) -> String {
    match model {
        Model::OneAtATime { .. } => "one at a time".into(),
        Model::Pool { size, .. } => format!("a pool of {size}"),
        Model::Concurrent { .. } => match cpu {
            Cpu::Parallel(_) => "concurrent and parallel".into(),
            Cpu::OneThread(_) => "concurrent on one thread".into(),
            Cpu::CannotTell(_) => "concurrent".into(),
        },
        Model::Unknown(_) => "unknown".into(),
    }
}

/// What showed the model, one line each, with the numbers measured.
pub fn evidence(model: &Model, cpu: &Cpu) -> Vec<String> {
    let mut lines = match model {
        Model::OneAtATime { waited, slow } => vec![format!(
            "a fast request waited {} behind one slow request (which takes {})",
            seconds(*waited),
            seconds(*slow)
        )],
        Model::Pool {
            size,
            answered_at_once,
            waited,
        } => vec![
            format!(
                "with {} slow request{} pending, a fast request was answered in {}",
                size - 1,
                if *size == 2 { "" } else { "s" },
                millis(*answered_at_once)
            ),
            format!(
                "with {size} pending, a fast request waited {}, until a slow one finished",
                seconds(*waited)
            ),
        ],
        Model::Concurrent { pending, slowest } => vec![
            format!(
                "with {pending} slow requests pending, fast requests were still answered at \
                 once (the slowest in {})",
                millis(*slowest)
            ),
            format!(
                "(a pool of more than {pending} threads would look the same: the check stops \
                 at {pending})"
            ),
        ],
        Model::Unknown(reason) => vec![unknown(reason)],
    };
    match cpu {
        Cpu::Parallel(batch) => lines.push(format!(
            "{} CPU-bound requests at once did {:.2}× the work per second of one alone: they \
             ran in parallel on several cores",
            batch.size, batch.speedup
        )),
        Cpu::OneThread(batch) => lines.push(format!(
            "{} CPU-bound requests at once did only {:.2}× the work per second of one alone: \
             they took turns on one thread",
            batch.size, batch.speedup
        )),
        // Whether a pool or a concurrent server is also parallel, unless it was not asked
        // (the workshop's checks of a limit).
        Cpu::CannotTell(NoCpu::NotAsked) => {}
        Cpu::CannotTell(reason)
            if matches!(model, Model::Pool { .. } | Model::Concurrent { .. }) =>
        {
            lines.push(format!("parallel or not: cannot tell, {}", no_cpu(reason)));
        }
        Cpu::CannotTell(_) => {}
    }
    lines
}

/// Why nothing could be measured, with the `cargo xtask check` flag that fixes it.
fn unknown(reason: &Unknown) -> String {
    match reason {
        Unknown::FastNotAnswered { path } => {
            format!("GET {path} was not answered, so nothing else could be measured")
        }
        Unknown::SlowFailed { path, failure } => {
            format!("GET {path} (the slow route) failed: {failure}")
        }
        Unknown::SlowNotFound { path, status } => format!(
            "GET {path} answered {status}: give the path of a route that answers after a \
             delay with --slow-path"
        ),
        Unknown::SlowTooShort {
            path,
            took,
            shortest,
        } => format!(
            "GET {path} answered in {}, too fast to tell a request that waits behind it from \
             a busy machine: use a route that takes at least {}",
            millis(*took),
            millis(*shortest)
        ),
        Unknown::SlowNotSent { count, failure } => {
            format!("slow request {count} could not be sent: {failure}")
        }
        Unknown::FastFailed {
            path,
            pending,
            failure,
        } => format!("with {pending} slow requests pending, GET {path} failed: {failure}"),
        Unknown::SlowAnsweredEarly { path, took, slow } => format!(
            "GET {path} was answered in {}, but should take {}: does the route wait, and is \
             --slow-ms right?",
            millis(*took),
            millis(*slow)
        ),
        Unknown::RampTooShort {
            path,
            max_pending,
            slow,
        } => format!(
            "the slow requests finished before the ramp reached {max_pending} of them: GET \
             {path} takes {}, too short for this machine; give a longer delay (--slow-ms)",
            millis(*slow)
        ),
    }
}

fn no_cpu(reason: &NoCpu) -> String {
    match reason {
        NoCpu::NotAsked => "not measured this time".into(),
        NoCpu::OneAtATime => "one at a time is never parallel".into(),
        NoCpu::NoModel => "the model is unknown".into(),
        NoCpu::NoCpuRoute { path, status } => format!(
            "because GET {path} answered {status}: without a CPU-bound route, waiting requests \
             use no core, so one thread and many look the same from outside"
        ),
        NoCpu::Failed { path, failure } => format!("GET {path} failed: {}", failure_words(failure)),
        NoCpu::BatchUnanswered { path, size } => {
            format!("not every one of {size} GET {path} at once was answered")
        }
    }
}

fn failure_words(failure: &Failure) -> String {
    failure.to_string()
}

/// The whole report, as the terminal shows it: the model with its evidence, then the
/// contract as a pass/FAIL list, coloured where `style` allows.
pub fn render(report: &Report, style: Style) -> String {
    let mut text = String::new();
    let color = match report.model {
        Model::Unknown(_) => Color::Red,
        _ => Color::Green,
    };
    let name = model_name(&report.model, &report.cpu);
    text.push_str(&format!("Behaves like: {}\n", style.paint(color, &name)));
    for line in evidence(&report.model, &report.cpu) {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str("\nContract:\n");
    let pass = style.paint(Color::Green, "pass");
    let fail = style.paint(Color::Red, "FAIL");
    for point in &report.contract {
        match &point.outcome {
            Ok(seen) => text.push_str(&format!("  {pass}  {}: {seen}\n", point.what)),
            Err(problem) => text.push_str(&format!("  {fail}  {}: {problem}\n", point.what)),
        }
    }
    if let Some(stopped) = report.stopped.as_ref().and_then(stopped_words) {
        text.push_str(&format!("  {fail}  {stopped}\n"));
    }
    text
}

/// How the server stopped, with the verdict its kind allows: a crash only when the process
/// was seen to exit or panic. `None` when the contract list already says all that is known
/// (the first `GET` failed, and the process cannot be watched).
pub fn stopped_words(stopped: &Stopped) -> Option<String> {
    match stopped {
        Stopped::Exited { .. } | Stopped::Panicked { .. } => {
            Some(format!("the server crashed: {stopped}"))
        }
        Stopped::NotAnswering {
            unanswered,
            process: Process::StillRunning,
        } => Some(match unanswered.after {
            Some(_) => {
                format!("the server stopped answering (the process is still running): {stopped}")
            }
            // Its first `GET`: the contract's first point above says how it failed.
            None => format!(
                "the server does not answer GET {} (the process is still running: it has not \
                 crashed)",
                unanswered.path
            ),
        }),
        Stopped::NotAnswering {
            unanswered,
            process: Process::NotWatched,
        } => unanswered
            .after
            .as_ref()
            .map(|_| format!("the server stopped answering: {stopped}")),
    }
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::check::Unanswered;
    use measure::verdicts::CpuBatch;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn a_pool_reads_as_before() {
        let model = Model::Pool {
            size: 4,
            answered_at_once: ms(0),
            waited: ms(940),
        };
        let batch = CpuBatch {
            size: 4,
            speedup: 1.75,
            spread: 1.4,
            cores: 2,
        };
        assert_eq!(model_name(&model, &Cpu::Parallel(batch)), "a pool of 4");
        assert_eq!(
            evidence(&model, &Cpu::Parallel(batch)),
            [
                "with 3 slow requests pending, a fast request was answered in 0 ms",
                "with 4 pending, a fast request waited 0.94 s, until a slow one finished",
                "4 CPU-bound requests at once did 1.75× the work per second of one alone: they \
                 ran in parallel on several cores",
            ]
        );
    }

    #[test]
    fn a_crash_and_a_broken_point_are_marked_fail() {
        let report = Report {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            model: Model::OneAtATime {
                waited: ms(990),
                slow: ms(1000),
            },
            cpu: Cpu::CannotTell(NoCpu::OneAtATime),
            contract: vec![measure::check::ContractPoint {
                what: "GET / gets 200 with Content-Type, Content-Length and a body".into(),
                outcome: Err("got 500".into()),
            }],
            stopped: Some(Stopped::Exited {
                status: exit_status_101(),
                last_words: vec!["cannot parse: giving up".into()],
                unanswered: None,
            }),
        };
        let text = render(&report, Style::plain());
        assert!(text.starts_with("Behaves like: one at a time\n"), "{text}");
        assert!(text.contains("  FAIL  GET / gets 200"), "{text}");
        // The status's words are the platform's ("exit status: 101", "exit code: 101").
        assert!(
            text.contains("  FAIL  the server crashed: the process exited (")
                && text.ends_with("101); its last words: cannot parse: giving up\n"),
            "{text}"
        );
    }

    /// An exit status of 101, as a panicking Rust program exits.
    fn exit_status_101() -> std::process::ExitStatus {
        #[cfg(unix)]
        let status = std::os::unix::process::ExitStatusExt::from_raw(101 << 8);
        #[cfg(windows)]
        let status = std::os::windows::process::ExitStatusExt::from_raw(101);
        status
    }

    fn after_garbage(failure: Failure) -> Unanswered {
        Unanswered {
            after: Some("garbage gets 400".into()),
            path: "/".into(),
            failure,
        }
    }

    #[test]
    fn each_way_of_stopping_has_its_verdict() {
        let exited = Stopped::Exited {
            status: exit_status_101(),
            last_words: vec![],
            unanswered: Some(after_garbage(Failure::Refused)),
        };
        let exited = stopped_words(&exited).unwrap_or_default();
        assert!(
            exited.starts_with("the server crashed: the process exited (")
                && exited.ends_with(") after \"garbage gets 400\""),
            "{exited}"
        );
        let panicked = Stopped::Panicked {
            line: "thread 'worker-2' panicked at src/main.rs:9:5:".into(),
            unanswered: Some(after_garbage(Failure::TimedOut)),
        };
        assert_eq!(
            stopped_words(&panicked).as_deref(),
            Some(
                "the server crashed: a thread panicked: thread 'worker-2' panicked at \
                 src/main.rs:9:5:; after \"garbage gets 400\", GET / failed: no answer in \
                 time: the server accepted but never answered"
            )
        );
        // Seen running: no guess that it crashed.
        let running = Stopped::NotAnswering {
            unanswered: after_garbage(Failure::Reset),
            process: Process::StillRunning,
        };
        assert_eq!(
            stopped_words(&running).as_deref(),
            Some(
                "the server stopped answering (the process is still running): after \
                 \"garbage gets 400\", GET / failed: the server reset the connection without \
                 answering"
            )
        );
        let never = Stopped::NotAnswering {
            unanswered: Unanswered {
                after: None,
                ..after_garbage(Failure::Reset)
            },
            process: Process::StillRunning,
        };
        assert_eq!(
            stopped_words(&never).as_deref(),
            Some(
                "the server does not answer GET / (the process is still running: it has not \
                 crashed)"
            )
        );
        // At an address alone, the process cannot be seen: not a crash, and only a guess.
        let not_watched = Stopped::NotAnswering {
            unanswered: after_garbage(Failure::Reset),
            process: Process::NotWatched,
        };
        assert_eq!(
            stopped_words(&not_watched).as_deref(),
            Some(
                "the server stopped answering: after \"garbage gets 400\", GET / failed: the \
                 server reset the connection without answering (did it crash?)"
            )
        );
        // Its first GET failed: the contract's first point already says all that is known.
        let first_not_watched = Stopped::NotAnswering {
            unanswered: Unanswered {
                after: None,
                ..after_garbage(Failure::Refused)
            },
            process: Process::NotWatched,
        };
        assert_eq!(stopped_words(&first_not_watched), None);
    }

    #[test]
    fn an_unknown_model_names_the_flag_that_fixes_it() {
        let model = Model::Unknown(Unknown::SlowNotFound {
            path: "/sleep".into(),
            status: 404,
        });
        let lines = evidence(&model, &Cpu::CannotTell(NoCpu::NoModel));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("--slow-path"), "{lines:?}");
        assert_eq!(
            model_name(&model, &Cpu::CannotTell(NoCpu::NoModel)),
            "unknown"
        );
    }
}
