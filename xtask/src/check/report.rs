//! A check's report in words and colours, from its typed data: the model with its evidence,
//! then the contract as a pass/FAIL list. `cargo xtask check` prints the whole report, and
//! the workshop prints what each finding measured with the same words.

use std::time::Duration;

use measure::check::{
    BlockedPair, Cpu, CpuFinding, Model, NoCpu, NoResponse, Process, Report, Stopped, Unknown,
};
use measure::verdicts::{self, CpuBatch, Proof};

use crate::style::{Color, Style};

/// The model in a few words: "one at a time", "a pool of 4", "concurrent and parallel".
pub fn model_name(model: &Model, cpu: &Cpu) -> String {
    match model {
        Model::OneAtATime { .. } => "one at a time".into(),
        Model::Pool { size, .. } => format!("a pool of {size}"),
        Model::Concurrent { .. } => match cpu {
            Cpu::Parallel(_) => "concurrent and parallel".into(),
            Cpu::OneThread(_) => "concurrent on one thread".into(),
            Cpu::Busy(_) => {
                "concurrent (parallel or not: cannot tell, the machine was busy)".into()
            }
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
        Cpu::Parallel(finding) | Cpu::OneThread(finding) | Cpu::Busy(finding) => {
            lines.extend(cpu_evidence(cpu, finding));
        }
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

/// What the CPU probe measured, one line each: the verdict with the evidence that decided it,
/// then what the machine could give at that moment, and how many batches it took.
fn cpu_evidence(cpu: &Cpu, finding: &CpuFinding) -> Vec<String> {
    let batch = &finding.batch;
    let did = format!(
        "{} CPU-bound requests at once did {:.2}× the work per second of one alone",
        batch.size, batch.speedup
    );
    let mut lines = match (cpu, finding.proof()) {
        (Cpu::Parallel(_), Some(Proof::CpuTime)) => vec![format!(
            "the server used {} of CPU time in {} of {} CPU-bound requests at once: more than \
             one core can give, so they ran in parallel on several cores",
            millis(batch.server_cpu.unwrap_or_default()),
            millis(batch.together),
            batch.size
        )],
        (Cpu::Parallel(_), Some(Proof::BlockedAtOnce)) => {
            let mut lines = blocked_lines(finding.blocked.as_ref());
            lines.push(format!(
                "(the CPU-bound batches could not tell: {})",
                busy_words(batch)
            ));
            lines
        }
        (Cpu::Parallel(_), _) => vec![format!("{did}: they ran in parallel on several cores")],
        (Cpu::OneThread(_), _) => vec![format!(
            "{} CPU-bound requests at once did only {:.2}× the work per second of one alone, \
             while this machine had cores to spare ({}): they took turns on one thread",
            batch.size,
            batch.speedup,
            spare_words(batch)
        )],
        _ => {
            let mut lines = vec![format!(
                "parallel or not: cannot tell, the machine was busy: {}",
                busy_words(batch)
            )];
            if let Some(pair) = &finding.blocked {
                lines.extend(blocked_lines(Some(pair)));
            }
            lines.push(
                "close other programs (a build, an indexing editor, a video) and run the check \
                 again"
                    .into(),
            );
            lines
        }
    };
    let tries = finding.tries;
    lines.push(format!(
        "({tries} batch{} of CPU-bound requests)",
        if tries == 1 { "" } else { "es" }
    ));
    lines
}

/// Why a batch without a speed-up proves nothing: what the machine could give then.
fn busy_words(batch: &CpuBatch) -> String {
    format!(
        "the batch did {:.2}× the work per second of one request alone, while the machine had \
         no core to spare ({})",
        batch.speedup,
        spare_words(batch)
    )
}

/// What the machine had to spare during a batch, as measured: its idle cores (where the OS
/// counts them), the calibration's speed-up, and how much of a core the server got.
fn spare_words(batch: &CpuBatch) -> String {
    let mut words = Vec::new();
    if let Some(idle) = batch.idle_cores() {
        words.push(format!(
            "{idle:.2} of {} cores idle during the batch",
            batch.cores
        ));
    }
    if let Some(spare) = batch.spare {
        words.push(format!(
            "a calibration of the check's own beside it did {spare:.2}×"
        ));
    }
    if let Some(cores) = batch.server_cores() {
        words.push(format!("the server got {cores:.2} cores"));
    }
    if words.is_empty() {
        words.push("not measured".into());
    }
    words.join("; ")
}

/// The two blocking requests at once, in words.
fn blocked_lines(pair: Option<&BlockedPair>) -> Vec<String> {
    let Some(pair) = pair else {
        return Vec::new();
    };
    // One not answered when the time for a pair at once ran out has no thread to name.
    let answer = |index: usize| match pair.threads[index].as_deref() {
        Some(thread) => format!("answered in {} by {thread}", seconds(pair.took[index])),
        None if pair.took[index] >= verdicts::blocked_at_once(pair.slow) => {
            format!("not answered within {}", seconds(pair.took[index]))
        }
        None => format!(
            "answered in {} by a thread it did not name",
            seconds(pair.took[index])
        ),
    };
    let took = format!(
        "two GET {} at once (each blocks its thread for {}): one {}, the other {}",
        pair.path,
        seconds(pair.slow),
        answer(0),
        answer(1)
    );
    let meaning = if pair.at_once() {
        "they blocked two threads at the same time: handlers run on several threads at once"
    } else {
        "which shows neither: one thread, or a runtime that left the second waiting behind the \
         blocked one"
    };
    vec![format!("{took}: {meaning}")]
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
        Unknown::RampSlowFailed {
            path,
            pending,
            failure,
        } => format!(
            "with {pending} slow requests sent at once, one GET {path} got no answer: {failure} \
             (alone, it had been answered)"
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
        NoCpu::NoWork { path, took, fast } => format!(
            "because GET {path} answered in {}, as fast as GET / ({}): it did no CPU work (a \
             server that answers every path with its page). Point the check at a route that \
             computes with --cpu-path PATH",
            millis_fine(*took),
            millis_fine(*fast)
        ),
        NoCpu::Failed { path, failure } => format!("GET {path} failed: {}", failure_words(failure)),
        NoCpu::BatchUnanswered { path, size } => {
            format!("not every one of {size} GET {path} at once was answered")
        }
    }
}

fn failure_words(failure: &NoResponse) -> String {
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

/// Milliseconds with one decimal, for the short times a route that does no work takes.
fn millis_fine(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::check::Unanswered;

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
        let batch = CpuBatch::measure(ms(100), &[ms(200), ms(210), ms(220), ms(228)], ms(228), 2)
            .expect("a batch")
            .with_spare(1.9);
        let cpu = Cpu::Parallel(CpuFinding {
            batch,
            tries: 2,
            blocked: None,
        });
        assert_eq!(model_name(&model, &cpu), "a pool of 4");
        assert_eq!(
            evidence(&model, &cpu),
            [
                "with 3 slow requests pending, a fast request was answered in 0 ms",
                "with 4 pending, a fast request waited 0.94 s, until a slow one finished",
                "4 CPU-bound requests at once did 1.75× the work per second of one alone: they \
                 ran in parallel on several cores",
                "(2 batches of CPU-bound requests)",
            ]
        );
    }

    /// On a busy machine, no speed-up is "cannot tell", with the calibration's numbers and
    /// what to do; two blocking requests at once on two threads still prove parallelism, and
    /// the server's CPU time above one core does too.
    #[test]
    fn a_busy_machine_reads_as_cannot_tell_or_as_its_proof() {
        let model = Model::Concurrent {
            pending: 12,
            slowest: ms(1),
        };
        let batch = CpuBatch::measure(ms(150), &[ms(300), ms(400), ms(500), ms(560)], ms(560), 2)
            .expect("a batch")
            .with_spare(1.2);
        let busy = Cpu::Busy(CpuFinding {
            batch,
            tries: 5,
            blocked: None,
        });
        assert_eq!(
            model_name(&model, &busy),
            "concurrent (parallel or not: cannot tell, the machine was busy)"
        );
        let lines = evidence(&model, &busy);
        assert_eq!(
            lines[2],
            "parallel or not: cannot tell, the machine was busy: the batch did 1.07× the work \
             per second of one request alone, while the machine had no core to spare (a \
             calibration of the check's own beside it did 1.20×)"
        );
        assert!(lines[3].starts_with("close other programs"), "{lines:?}");
        assert_eq!(lines[4], "(5 batches of CPU-bound requests)");
        let blocked = BlockedPair {
            path: "/block".into(),
            slow: ms(1000),
            took: [ms(1004), ms(1010)],
            threads: [Some("worker #1".into()), Some("worker #2".into())],
        };
        let parallel = Cpu::Parallel(CpuFinding {
            batch,
            tries: 5,
            blocked: Some(blocked),
        });
        assert_eq!(model_name(&model, &parallel), "concurrent and parallel");
        assert_eq!(
            evidence(&model, &parallel)[2],
            "two GET /block at once (each blocks its thread for 1.00 s): one answered in 1.00 s \
             by worker #1, the other answered in 1.01 s by worker #2: they blocked two threads \
             at the same time: handlers run on several threads at once"
        );
        let by_cpu_time = Cpu::Parallel(CpuFinding {
            batch: batch.with_server_cpu(ms(900)),
            tries: 1,
            blocked: None,
        });
        assert_eq!(
            evidence(&model, &by_cpu_time)[2],
            "the server used 900 ms of CPU time in 560 ms of 4 CPU-bound requests at once: \
             more than one core can give, so they ran in parallel on several cores"
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
            model_after: None,
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

    fn after_garbage(failure: NoResponse) -> Unanswered {
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
            unanswered: Some(after_garbage(NoResponse::Refused)),
        };
        let exited = stopped_words(&exited).unwrap_or_default();
        assert!(
            exited.starts_with("the server crashed: the process exited (")
                && exited.ends_with(") after \"garbage gets 400\""),
            "{exited}"
        );
        let panicked = Stopped::Panicked {
            line: "thread 'worker-2' panicked at src/main.rs:9:5:".into(),
            unanswered: Some(after_garbage(NoResponse::TimedOut)),
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
            unanswered: after_garbage(NoResponse::Reset),
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
                ..after_garbage(NoResponse::Reset)
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
            unanswered: after_garbage(NoResponse::Reset),
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
                ..after_garbage(NoResponse::Refused)
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
