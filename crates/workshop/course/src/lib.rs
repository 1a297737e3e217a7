//! The workshop's course: its steps and its find-the-bug servers ([`bugs`]), their hints, and
//! how a student's server is graded for each, by measuring it with [`measure::check`] and
//! [`measure::probes`], never by reading its source. `cargo xtask workshop` runs the grading
//! and renders its findings; the workshop's tests assert that every untouched starting point
//! and every untouched bug fails with the expected diagnosis, and every stage's tests that
//! the real stage passes its step and fixes the bugs made from it.

use std::path::Path;
use std::time::Duration;

use measure::ServerProcess;
use measure::available_cores;
use measure::catalogue::{Expected, Stage};
use measure::check::{self, ContractPoint, Cpu, Failure, Model, Process, Report, Stopped};
use measure::probes::{self, ProbeError};

pub mod bugs;

pub use bugs::{BUGS, Bug, FoundBy, bug, grade_bug};

/// One step of the progression: the exercise starts from stage `from`, and is done when the
/// student's server behaves like stage `to`.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    pub number: u8,
    pub from: Stage,
    pub to: Stage,
    pub title: &'static str,
    /// The starting point, relative to the workspace root.
    pub exercise: &'static str,
    /// The hints `cargo xtask workshop hint` gives, one at a time, in order.
    pub hints: &'static [&'static str],
}

impl Step {
    /// The real stage's file, relative to the workspace root: the solution.
    pub fn solution(&self) -> &'static str {
        self.to.default_binary().source
    }

    /// The binary cargo builds from the student's copy, `step-N`.
    pub fn bin_name(&self) -> String {
        format!("step-{}", self.number)
    }
}

pub const STEPS: [Step; 4] = [
    Step {
        number: 1,
        from: Stage::One,
        to: Stage::Two,
        title: "a pool of worker threads",
        exercise: "crates/workshop/exercises/step-1.rs",
        hints: &[
            "The main thread should only accept. Whatever serves a connection must run on \
             another thread, so `accept` can come round again at once.",
            "Make the threads once, before the loop: `let pool = \
             ThreadPool::with_name(\"worker\".to_string(), config.workers);` (use \
             threadpool::ThreadPool).",
            "In the loop: `pool.execute(move || handle_connection(stream, config));`. \
             `move` gives the job its own `stream`; `config` is `&'static`, so any thread \
             may keep it.",
            "After the loop, before `shutdown::finished()`: `pool.join();`. Without it, the \
             jobs still running die with `main` when you press Ctrl-C.",
        ],
    },
    Step {
        number: 2,
        from: Stage::Two,
        to: Stage::Three,
        title: "async, and still one at a time",
        exercise: "crates/workshop/exercises/step-2.rs",
        hints: &[
            "Async code needs a runtime to run it: `use async_std::task;` and wrap the body \
             of `main` in `task::block_on(async { ... })`.",
            "Use the async listener, `async_std::net::TcpListener`, and `.await` its `bind`. \
             Its `incoming()` is a Stream, not an Iterator: bring in \
             `futures_util::StreamExt`.",
            "`accepted_async(listener.incoming(), task::sleep).for_each(..).await` replaces \
             the `for` loop over `accepted(..)`: like it, it yields only the accepted \
             connections and ends at Ctrl-C, and it pauses on the runtime's timer \
             (`task::sleep`) where `accepted` slept the thread.",
            "Inside `for_each`, the async handler: `|stream| \
             stage_3::on_async_std::handle_connection(stream, config)`; `for_each` awaits \
             it. The blocking one from stage 1 would block the runtime's thread.",
            "No pool any more: this step's lesson is that async alone is not concurrency. \
             `for_each` awaits each connection before it takes the next.",
        ],
    },
    Step {
        number: 3,
        from: Stage::Three,
        to: Stage::Four,
        title: "concurrent connections on one task",
        exercise: "crates/workshop/exercises/step-3.rs",
        hints: &[
            "`for_each` awaits each future before it takes the next item of the stream. \
             Look for the StreamExt method that polls many of them at once.",
            "`.for_each_concurrent(limit, |stream| handle_connection(stream, config))`: the \
             same closure, one more argument.",
            "The limit is `config.max_connections`. `None` would mean no limit at all, and \
             `--max-connections` would do nothing.",
        ],
    },
    Step {
        number: 4,
        from: Stage::Four,
        to: Stage::Five,
        title: "a task per connection, on many threads",
        exercise: "crates/workshop/exercises/step-4.rs",
        hints: &[
            "Everything `for_each_concurrent` drives runs inside one task, so on one thread. \
             A task of its own per connection lets the executor run them on all its threads.",
            "In a plain `for_each(|stream| async move { .. })`: \
             `drop(task::spawn(handle_connection(stream, config)));` (dropping the handle \
             detaches the task).",
            "The loop no longer waits for anything, so nothing limits the connections in \
             flight: after spawning, `shutdown::wait_for_room(config.max_connections).await;`.",
            "Spawned tasks die when `block_on` returns: after the loop, \
             `shutdown::all_done().await;` waits for them at Ctrl-C.",
        ],
    },
];

/// The step numbered `number` (1 to 4).
pub fn step(number: u8) -> Option<&'static Step> {
    STEPS.iter().find(|step| step.number == number)
}

/// The delay the grading gives `/sleep`: long enough to tell waiting from a busy laptop's
/// noise, short enough that a check takes seconds.
pub const GRADING_SLEEP_MS: u64 = 1000;
/// The limit the grading passes as `--workers` or `--max-connections`: not a default, so a
/// hard-coded number is caught.
pub const GRADING_LIMIT: usize = 3;

/// One thing the grading measured.
#[derive(Debug)]
pub struct Finding {
    pub what: String,
    pub verdict: Verdict,
    pub seen: Seen,
}

/// Whether a finding held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
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
    fn measured(report: &Report) -> Seen {
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
            verdict: Verdict::Pass,
            seen,
        });
    }

    pub(crate) fn not_checked(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.findings.push(Finding {
            what: what.into(),
            verdict: Verdict::NotChecked,
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
            verdict: Verdict::Fail,
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
                Failure::TimedOut => "leaves them open without an answer (or answers a few)",
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

/// Grades the server binary `bin` for `step`.
pub fn grade(step: &Step, bin: &Path) -> Grade {
    let mut grade = Grade::new();
    match step.to {
        Stage::Two => grade_pool(&mut grade, step, bin),
        Stage::Three => grade_async_one_at_a_time(&mut grade, step, bin),
        Stage::Four => grade_concurrent_on_one_thread(&mut grade, step, bin),
        Stage::Five => grade_parallel(&mut grade, step, bin),
        // No step ends at the first stage: it is where the course starts.
        Stage::One => grade.not_checked("a step to stage 1", "stage 1 is where the steps start"),
    }
    grade
}

fn grade_pool(grade: &mut Grade, step: &Step, bin: &Path) {
    let limit = GRADING_LIMIT.to_string();
    let Some(report) = run_check(grade, &step.bin_name(), bin, &["--workers", &limit], true) else {
        return;
    };
    let what = format!("a pool of exactly --workers {GRADING_LIMIT} threads");
    let seen = Seen::measured(&report);
    match report.model {
        Model::Pool { size, .. } if size == GRADING_LIMIT => grade.pass(what, seen),
        Model::OneAtATime { .. } => grade.fail(
            what,
            seen,
            Diagnosis::StillOneAtATime,
            "Your server still serves one connection at a time: the main thread serves each \
             connection itself, so `accept` waits. Hand each connection to a pool's worker \
             with `pool.execute(move || handle_connection(stream, config))`."
                .into(),
        ),
        Model::Pool { size, .. } => grade.fail(
            what,
            seen,
            Diagnosis::WrongSize,
            format!(
                "Your pool serves {size} at once, but the check started it with --workers \
                 {GRADING_LIMIT}: make the pool with `config.workers` threads, not a number."
            ),
        ),
        Model::Concurrent { .. } => grade.fail(
            what,
            seen,
            Diagnosis::NoLimit,
            "No limit was found: that looks like a new thread per connection \
             (`thread::spawn`). It works, until a thousand clients make a thousand threads. \
             Make a fixed pool of `config.workers` threads once, before the loop."
                .into(),
        ),
        Model::Unknown(_) => {}
    }
    graceful_shutdown(
        grade,
        bin,
        &["--workers", &limit],
        "Ctrl-C lets the request in flight finish (the pool is joined)",
        "At Ctrl-C, a request in flight got no answer: the pool's jobs die with `main`. \
         Call `pool.join()` after the loop, before `shutdown::finished()`.",
    );
}

fn grade_async_one_at_a_time(grade: &mut Grade, step: &Step, bin: &Path) {
    let Some(report) = run_check(grade, &step.bin_name(), bin, &[], true) else {
        return;
    };
    let what = "one connection at a time (async, but nothing runs beside the awaited connection)";
    let seen = Seen::measured(&report);
    match report.model {
        Model::OneAtATime { .. } => grade.pass(what, seen),
        Model::Pool { .. } => grade.fail(
            what,
            seen,
            Diagnosis::StillAPool,
            "Your server still serves several connections at once: the thread pool is still \
             there. This step replaces it with async I/O on one task: \
             `async_std::task::block_on`, an async `TcpListener`, and \
             `incoming().for_each(...)` that awaits `handle_connection(stream, config)`."
                .into(),
        ),
        Model::Concurrent { .. } => grade.fail(
            what,
            seen,
            Diagnosis::AlreadyConcurrent,
            "Your server is already concurrent: that is the next step's lesson. Here, \
             `for_each` awaits each connection before it takes the next, to show that async \
             alone is not concurrency."
                .into(),
        ),
        Model::Unknown(_) => {}
    }
}

fn grade_concurrent_on_one_thread(grade: &mut Grade, step: &Step, bin: &Path) {
    let Some(report) = run_check(grade, &step.bin_name(), bin, &[], true) else {
        return;
    };
    let what = "concurrent: fast requests answered at once while many /sleep are pending";
    let one_thread = "on one thread: CPU-bound requests take turns";
    match (&report.model, &report.cpu) {
        (Model::Concurrent { .. }, Cpu::Parallel(_)) => {
            grade.pass(what, Seen::measured(&report));
            grade.fail(
                one_thread,
                Seen::measured(&report),
                Diagnosis::TooParallel,
                "Your connections run in parallel on several threads: that is step 4 \
                 (a spawned task per connection). Here, keep them all on the one task of \
                 `main` with `for_each_concurrent`."
                    .into(),
            );
        }
        (Model::Concurrent { .. }, Cpu::Busy(_)) => {
            grade.pass(what, Seen::measured(&report));
            grade.fail(
                one_thread,
                Seen::measured(&report),
                Diagnosis::MachineBusy,
                MACHINE_BUSY.into(),
            );
        }
        (Model::Concurrent { .. }, _) => {
            grade.pass(what, Seen::measured(&report));
            grade.pass(one_thread, Seen::measured(&report));
        }
        (Model::OneAtATime { .. }, _) => grade.fail(
            what,
            Seen::measured(&report),
            Diagnosis::StillOneAtATime,
            "Your server still serves one connection at a time: `for_each` awaits each \
             connection's future before it takes the next. `for_each_concurrent` keeps \
             taking connections while earlier ones wait."
                .into(),
        ),
        (Model::Pool { size, .. }, _) => grade.fail(
            what,
            Seen::measured(&report),
            Diagnosis::WrongSize,
            format!(
                "Without --max-connections, your server serves only {size} at once. Pass \
                 `config.max_connections` as the limit, not a number."
            ),
        ),
        (Model::Unknown(_), _) => return,
    }
    limit_of_3(
        grade,
        step,
        bin,
        "the limit of for_each_concurrent: pass `config.max_connections`",
    );
}

fn grade_parallel(grade: &mut Grade, step: &Step, bin: &Path) {
    let Some(report) = run_check(grade, &step.bin_name(), bin, &[], true) else {
        return;
    };
    let what = "concurrent and parallel: CPU-bound requests run on several cores at once";
    let seen = Seen::measured(&report);
    match (&report.model, &report.cpu) {
        (Model::Concurrent { .. }, Cpu::Parallel(_)) => grade.pass(what, seen),
        (Model::Concurrent { .. }, Cpu::Busy(_)) => {
            grade.fail(what, seen, Diagnosis::MachineBusy, MACHINE_BUSY.into())
        }
        (Model::Concurrent { .. }, _) if available_cores() < 2 => grade.fail(
            what,
            seen,
            Diagnosis::OneCore,
            "This machine has one core, so parallelism cannot be shown here. Run the check \
             on a machine with two or more."
                .into(),
        ),
        (Model::Concurrent { .. }, _) => grade.fail(
            what,
            seen,
            Diagnosis::NotParallel,
            "Your connections are concurrent but still take turns on one thread: everything \
             `for_each_concurrent` drives is one task. Spawn a task per connection with \
             `task::spawn(handle_connection(stream, config))` in a plain `for_each`."
                .into(),
        ),
        (Model::OneAtATime { .. }, _) => grade.fail(
            what,
            seen,
            Diagnosis::StillOneAtATime,
            "Your server serves one connection at a time: the loop awaits each connection. \
             Spawn each one as a task and go straight back to accepting."
                .into(),
        ),
        (Model::Pool { size, .. }, _) => grade.fail(
            what,
            seen,
            Diagnosis::WrongSize,
            format!(
                "Without --max-connections, your server serves only {size} at once: let \
                 `shutdown::wait_for_room(config.max_connections)` do the limiting."
            ),
        ),
        (Model::Unknown(_), _) => return,
    }
    let model_right = limit_of_3(
        grade,
        step,
        bin,
        "the loop must wait: `shutdown::wait_for_room(config.max_connections).await` after \
         spawning",
    );
    if !model_right {
        return;
    }
    graceful_shutdown(
        grade,
        bin,
        &[],
        "Ctrl-C lets the request in flight finish (the spawned tasks are awaited)",
        "At Ctrl-C, a request in flight got no answer: spawned tasks die when `block_on` \
         returns. After the loop, `shutdown::all_done().await;` waits for them.",
    );
}

/// With `--max-connections 3`, a fourth slow request makes a fast one wait. Measured only
/// once the model is right (returns whether it was): a wrong model's limit says nothing.
fn limit_of_3(grade: &mut Grade, step: &Step, bin: &Path, fix: &str) -> bool {
    if grade.diagnosis.is_some() {
        return false;
    }
    let limit = GRADING_LIMIT.to_string();
    let extra = ["--max-connections", &limit];
    let Some(report) = run_check(grade, &step.bin_name(), bin, &extra, false) else {
        return true;
    };
    let what = format!("--max-connections {GRADING_LIMIT} serves at most {GRADING_LIMIT} at once");
    let seen = Seen::measured(&report);
    match report.model {
        Model::Pool { size, .. } if size == GRADING_LIMIT => grade.pass(what, seen),
        Model::Unknown(_) => {}
        _ => grade.fail(
            what,
            seen,
            Diagnosis::NoLimit,
            format!(
                "With --max-connections {GRADING_LIMIT}, your server did not stop at \
                 {GRADING_LIMIT} connections in flight: {fix}."
            ),
        ),
    }
    true
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
