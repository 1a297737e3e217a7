//! What a grade is made of (findings, their marks, what each saw, the diagnosis and its
//! hint), and the grading every step and bug shares: start the student's server with the
//! grading's flags, run the check on it, and Ctrl-C it with a request in flight.

use std::path::Path;
use std::time::Duration;

use measure::ServerProcess;
use measure::catalogue::Expected;
use measure::check::{self, ContractPoint, Cpu, Model, NoResponse, Process, Report, Stopped};
use measure::probes::{self, ProbeError};

/// The delay the grading gives `/sleep`: long enough to tell waiting from a busy laptop's
/// noise, short enough that a check takes seconds.
pub(crate) const GRADING_SLEEP_MS: u64 = 1000;
/// The limit the grading passes as `--workers` or `--max-connections`: not a default, so a
/// hard-coded number is caught.
pub(crate) const GRADING_LIMIT: usize = 3;

/// One thing the grading measured.
#[derive(Debug)]
pub struct Finding {
    pub what: String,
    pub mark: Mark,
    pub seen: Seen,
}

/// Whether a finding held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Pass,
    Fail,
    /// It could not be measured on this platform: neither a pass nor a fail.
    NotChecked,
}

/// What a finding saw, as data for xtask to render.
#[derive(Debug)]
pub enum Seen {
    /// What the check measured: the model with its evidence, and the CPU probe.
    Measured { model: Model, cpu: Cpu },
    /// The model measured beside the model intended (a find-the-bug server's stage).
    Compared {
        intended: Expected,
        model: Model,
        cpu: Cpu,
    },
    /// The contract points the server broke.
    BrokenContract(Vec<ContractPoint>),
    /// Anything else, in words: a server that did not start or crashed, a shutdown.
    Words(String),
}

impl Seen {
    pub(crate) fn measured(report: &Report) -> Seen {
        Seen::Measured {
            model: report.model.clone(),
            cpu: report.cpu.clone(),
        }
    }
}

/// Why a step did not pass: which hint fits what was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    DidNotStart,
    Crashed,
    /// It accepts connections but `GET /` gets no answer.
    NotAnswered,
    BrokeContract,
    CouldNotMeasure,
    /// Whether it runs on one core or several could not be measured: the machine was busy.
    MachineBusy,
    StillOneAtATime,
    StillAPool,
    AlreadyConcurrent,
    NoLimit,
    WrongSize,
    NotParallel,
    TooParallel,
    OneCore,
    ShutdownDropsRequests,
}

/// What a grade says when the machine was too busy to show parallelism or its absence.
pub(crate) const MACHINE_BUSY: &str = "Whether your server runs its connections on one core or \
     several could not be measured: the machine was busy (see the numbers above), so a server \
     on one thread and one on several looked the same. Close other programs (a build, an \
     indexing editor, a video) and check again.";

/// The result of grading one step.
#[derive(Debug)]
pub struct Grade {
    pub findings: Vec<Finding>,
    /// Why it failed, and the hint for that (for a step) or the symptom in behaviour (for a
    /// bug, whose hints lead from it to the cause); `None` when it passed.
    pub diagnosis: Option<(Diagnosis, String)>,
}

impl Grade {
    pub(crate) fn new() -> Grade {
        Grade {
            findings: Vec::new(),
            diagnosis: None,
        }
    }

    /// Passed: nothing measured failed.
    pub fn passed(&self) -> bool {
        self.diagnosis.is_none()
    }

    /// Not passed only because the machine was too busy to measure parallelism: neither a
    /// pass nor a mistake of the student's.
    pub fn machine_was_busy(&self) -> bool {
        matches!(self.diagnosis, Some((Diagnosis::MachineBusy, _)))
    }

    pub(crate) fn pass(&mut self, what: impl Into<String>, seen: Seen) {
        self.findings.push(Finding {
            what: what.into(),
            mark: Mark::Pass,
            seen,
        });
    }

    pub(crate) fn not_checked(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.findings.push(Finding {
            what: what.into(),
            mark: Mark::NotChecked,
            seen: Seen::Words(why.into()),
        });
    }

    /// Records a failed finding; the first failure's diagnosis is the one reported.
    pub(crate) fn fail(
        &mut self,
        what: impl Into<String>,
        seen: Seen,
        why: Diagnosis,
        hint: String,
    ) {
        self.findings.push(Finding {
            what: what.into(),
            mark: Mark::Fail,
            seen,
        });
        if self.diagnosis.is_none() {
            self.diagnosis = Some((why, hint));
        }
    }
}

/// Starts `bin` with the grading's `--sleep-ms` and `extra`; also says how, for the findings.
pub(crate) fn start_graded(bin: &Path, extra: &[&str]) -> (String, std::io::Result<ServerProcess>) {
    let sleep = GRADING_SLEEP_MS.to_string();
    let mut args = vec!["--sleep-ms", sleep.as_str()];
    args.extend(extra);
    let started_as = format!("started with {}", args.join(" "));
    (started_as, ServerProcess::start(bin, &args))
}

/// Starts `bin` with the grading's flags and `extra`, and runs the check on it, measuring
/// parallelism only if `measure_cpu`. A server that does not start is a failed grade, with
/// its error. `bin_name` is the student's binary, for the hints that say how to run it.
pub(crate) fn run_check(
    grade: &mut Grade,
    bin_name: &str,
    bin: &Path,
    extra: &[&str],
    measure_cpu: bool,
) -> Option<Report> {
    let run_it = format!("cargo run -p workshop --bin {bin_name}");
    let (started_as, started) = start_graded(bin, extra);
    let mut server = match started {
        Ok(server) => server,
        Err(err) => {
            grade.fail(
                format!("the server starts ({started_as})"),
                Seen::Words(err.to_string()),
                Diagnosis::DidNotStart,
                format!(
                    "Your server did not start. Run it yourself to see why: `{run_it} -- \
                     --port 0`. It must take the flags above and print `Listening on \
                     http://HOST:PORT` first."
                ),
            );
            return None;
        }
    };
    let options = check::Options {
        slow: Some(Duration::from_millis(GRADING_SLEEP_MS)),
        measure_cpu,
        ..Default::default()
    };
    let report = check::check_process(&mut server, &options);
    match &report.stopped {
        // Neither exited nor panicked: it has not crashed, its handlers do not run to their
        // end. That is also so when one connection in many is answered and the first `GET /`
        // was that one (a later `GET /` then failed).
        Some(Stopped::NotAnswering {
            unanswered,
            process,
        }) => {
            let failure = match unanswered.after {
                None => unanswered.to_string(),
                Some(_) => format!("the first GET / was answered, but {unanswered}"),
            };
            let running = match process {
                Process::StillRunning => "; the process is still running",
                Process::NotWatched => "", // Not so here: the grading starts the server.
            };
            let unanswered_how = match unanswered.failure {
                // The client gave up: each connection was accepted and held open, silent.
                NoResponse::TimedOut => "leaves them open without an answer (or answers a few)",
                _ => "does not answer them (or only a few)",
            };
            grade.fail(
                format!("GET / is answered ({started_as})"),
                Seen::Words(format!("{failure}{running}")),
                Diagnosis::NotAnswered,
                format!(
                    "Your server accepts connections and {unanswered_how}, and it has not \
                     crashed: a connection's handler never runs to its end. Nothing else can be \
                     measured until every `GET /` gets its answer."
                ),
            );
            return Some(report);
        }
        Some(crash @ (Stopped::Exited { .. } | Stopped::Panicked { .. })) => {
            grade.fail(
                format!("the server keeps running ({started_as})"),
                Seen::Words(crash.to_string()),
                Diagnosis::Crashed,
                format!(
                    "Your server crashed. Run it with `{run_it}` and read what it printed: a \
                     panic, or a `?`/`unwrap` on an I/O error, must not end the server."
                ),
            );
        }
        None if !report.contract_kept() => {
            let broken = report
                .contract
                .iter()
                .filter(|point| point.outcome.is_err())
                .cloned()
                .collect();
            grade.fail(
                format!("the server keeps the contract ({started_as})"),
                Seen::BrokenContract(broken),
                Diagnosis::BrokeContract,
                "Your server broke the contract. Keep calling the handler from `server_core` \
                 and the stage crates unchanged: the lesson is in the accept loop."
                    .into(),
            );
        }
        None => grade.pass(
            format!("the server keeps the contract ({started_as})"),
            Seen::Words("every point held".into()),
        ),
    }
    if let Model::Unknown(_) = &report.model {
        grade.fail(
            "the model can be measured",
            Seen::measured(&report),
            Diagnosis::CouldNotMeasure,
            "The check could not measure your server: what it found is above.".into(),
        );
    }
    Some(report)
}

/// Ctrl-C while a slow request is in flight ([`probes::ctrl_c_with_request_in_flight`]): the
/// request must still get its answer, and the process must exit by itself. Where signals
/// cannot be sent (Windows), the finding says so instead of passing.
pub(crate) fn graceful_shutdown(
    grade: &mut Grade,
    bin: &Path,
    extra: &[&str],
    what: &str,
    hint: &str,
) {
    let (_, started) = start_graded(bin, extra);
    let Ok(mut server) = started else {
        return; // Already reported by the first check.
    };
    let slow = Duration::from_millis(GRADING_SLEEP_MS);
    let seen = match probes::ctrl_c_with_request_in_flight(&mut server, "/sleep", slow) {
        Ok(seen) => seen,
        Err(err @ ProbeError::NotOnThisOs { .. }) => {
            grade.not_checked(what, err.to_string());
            return;
        }
        Err(ProbeError::Failed(why)) => {
            grade.fail(
                what,
                Seen::Words(format!("could not press Ctrl-C: {why}")),
                Diagnosis::CouldNotMeasure,
                hint.into(),
            );
            return;
        }
    };
    let words = |text: String| Seen::Words(text);
    match (seen.in_flight, seen.exit) {
        (Ok(200), Some(_)) => grade.pass(
            what,
            words(format!(
                "the request in flight got 200 after {:.2} s, then the server exited",
                seen.in_flight_done.as_secs_f64()
            )),
        ),
        (Ok(status), None) => grade.fail(
            what,
            words(format!(
                "the request got {status}, but the server did not exit"
            )),
            Diagnosis::ShutdownDropsRequests,
            "At Ctrl-C your server did not exit: the loop must end when \
             `shutdown::requested()` fires."
                .into(),
        ),
        (Ok(status), _) => grade.fail(
            what,
            words(format!("the request in flight got {status}")),
            Diagnosis::ShutdownDropsRequests,
            hint.into(),
        ),
        (Err(failure), exit) => grade.fail(
            what,
            words(format!(
                "the request in flight got no answer after {:.2} s ({failure}); {}",
                seen.in_flight_done.as_secs_f64(),
                match exit {
                    Some(status) => format!("then the server exited ({status})"),
                    None => "and the server did not exit".to_string(),
                }
            )),
            Diagnosis::ShutdownDropsRequests,
            hint.into(),
        ),
    }
}
