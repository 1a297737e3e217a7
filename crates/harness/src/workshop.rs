//! The workshop's steps, and how a student's server is graded for each: by measuring it with
//! [`crate::check`], never by reading its source. `cargo xtask workshop` runs the grading;
//! the workshop's tests assert that every untouched starting point fails with the expected
//! hint, and every stage's tests that the real stage passes its step.

use std::path::Path;
use std::time::Duration;

use crate::check::{self, Cpu, Model, Report};
use crate::server::ServerProcess;
use crate::suite::available_cores;

/// One step of the progression: the exercise starts from stage `from`, and is done when the
/// student's server behaves like stage `to`.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    pub number: u8,
    pub from: u8,
    pub to: u8,
    pub title: &'static str,
    /// The starting point, relative to the workspace root.
    pub exercise: &'static str,
    /// The real stage's file: the solution, relative to the workspace root.
    pub solution: &'static str,
    /// The hints `cargo xtask workshop hint` gives, one at a time, in order.
    pub hints: &'static [&'static str],
}

pub const STEPS: [Step; 4] = [
    Step {
        number: 1,
        from: 1,
        to: 2,
        title: "a pool of worker threads",
        exercise: "crates/workshop/exercises/step-1.rs",
        solution: "crates/stage-2/src/main.rs",
        hints: &[
            "The main thread should only accept. Whatever serves a connection must run on \
             another thread, so `accept` can come round again at once.",
            "Make the threads once, before the loop: `let pool = \
             ThreadPool::with_name(\"worker\".to_string(), config.workers);` (use \
             threadpool::ThreadPool).",
            "In the loop: `Ok(stream) => pool.execute(move || handle_connection(stream, \
             config)),`. `move` gives the job its own `stream`; `config` is `&'static`, so \
             any thread may keep it.",
            "After the loop, before `shutdown::finished()`: `pool.join();`. Without it, the \
             jobs still running die with `main` when you press Ctrl-C.",
        ],
    },
    Step {
        number: 2,
        from: 2,
        to: 3,
        title: "async, and still one at a time",
        exercise: "crates/workshop/exercises/step-2.rs",
        solution: "crates/stage-3/src/bin/stage-3.rs",
        hints: &[
            "Async code needs a runtime to run it: wrap the body of `main` in \
             `async_std::task::block_on(async { ... })`.",
            "Use the async listener, `async_std::net::TcpListener`, and `.await` its `bind`. \
             Its `incoming()` is a Stream, not an Iterator: bring in \
             `futures_util::StreamExt`.",
            "`listener.incoming().filter_map(|stream| accept_errors.sift(stream, \
             async_std::task::sleep)).take_until(shutdown::requested()).for_each(..).await` \
             replaces the `for` loop, its `match` and its shutdown check: `sift` drops a \
             failed accept after pausing on the runtime's timer.",
            "Inside `for_each`, the async handler: `|stream| \
             stage_3::on_async_std::handle_connection(stream, config)`; `for_each` awaits \
             it. The blocking one from stage 1 would block the runtime's thread.",
            "No pool any more: this step's lesson is that async alone is not concurrency. \
             `for_each` awaits each connection before it takes the next.",
        ],
    },
    Step {
        number: 3,
        from: 3,
        to: 4,
        title: "concurrent connections on one task",
        exercise: "crates/workshop/exercises/step-3.rs",
        solution: "crates/stage-4/src/bin/stage-4.rs",
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
        from: 4,
        to: 5,
        title: "a task per connection, on many threads",
        exercise: "crates/workshop/exercises/step-4.rs",
        solution: "crates/stage-5/src/bin/stage-5.rs",
        hints: &[
            "Everything `for_each_concurrent` drives runs inside one task, so on one thread. \
             A task of its own per connection lets the executor run them on all its threads.",
            "`use async_std::task;` then, in a plain `for_each(|stream| async move { .. })`: \
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
    /// `Ok` with what was measured, or `Err` with what was measured instead.
    pub outcome: Result<String, String>,
    /// Not measured at all on this platform (why is in `outcome`): neither a pass nor a fail.
    pub not_checked: bool,
}

/// Why a step did not pass: which hint fits what was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    DidNotStart,
    Crashed,
    BrokeContract,
    CouldNotMeasure,
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

/// The result of grading one step.
#[derive(Debug)]
pub struct Grade {
    pub findings: Vec<Finding>,
    /// Why it failed, and the hint for that; `None` when it passed.
    pub diagnosis: Option<(Diagnosis, String)>,
}

impl Grade {
    fn new() -> Grade {
        Grade {
            findings: Vec::new(),
            diagnosis: None,
        }
    }

    /// Passed: nothing measured failed.
    pub fn passed(&self) -> bool {
        self.diagnosis.is_none()
    }

    fn pass(&mut self, what: impl Into<String>, seen: impl Into<String>) {
        self.findings.push(Finding {
            what: what.into(),
            outcome: Ok(seen.into()),
            not_checked: false,
        });
    }

    /// Records what could not be measured here, and why; it does not fail the grade.
    #[cfg_attr(unix, allow(dead_code))]
    fn not_checked(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.findings.push(Finding {
            what: what.into(),
            outcome: Ok(why.into()),
            not_checked: true,
        });
    }

    /// Records a failed finding; the first failure's diagnosis is the one reported.
    fn fail(
        &mut self,
        what: impl Into<String>,
        seen: impl Into<String>,
        why: Diagnosis,
        hint: String,
    ) {
        self.findings.push(Finding {
            what: what.into(),
            outcome: Err(seen.into()),
            not_checked: false,
        });
        if self.diagnosis.is_none() {
            self.diagnosis = Some((why, hint));
        }
    }
}

/// Starts `bin` with the grading's `--sleep-ms` and `extra`; also says how, for the findings.
fn start_graded(bin: &Path, extra: &[&str]) -> (String, std::io::Result<ServerProcess>) {
    let sleep = GRADING_SLEEP_MS.to_string();
    let mut args = vec!["--sleep-ms", sleep.as_str()];
    args.extend(extra);
    let started_as = format!("started with {}", args.join(" "));
    (started_as, ServerProcess::start(bin, &args))
}

/// Starts `bin` with the grading's flags and `extra`, and runs the check on it. A server
/// that does not start is a failed grade, with its error.
fn run_check(grade: &mut Grade, bin: &Path, extra: &[&str]) -> Option<Report> {
    run_check_with(grade, bin, extra, true)
}

/// [`run_check`], measuring parallelism only if `measure_cpu`.
fn run_check_with(
    grade: &mut Grade,
    bin: &Path,
    extra: &[&str],
    measure_cpu: bool,
) -> Option<Report> {
    let (started_as, started) = start_graded(bin, extra);
    let mut server = match started {
        Ok(server) => server,
        Err(err) => {
            grade.fail(
                format!("the server starts ({started_as})"),
                err.to_string(),
                Diagnosis::DidNotStart,
                "Your server did not start. Run it yourself to see why: `cargo run -p \
                 workshop --bin step-N -- --port 0`. It must take the flags above and print \
                 `Listening on http://HOST:PORT` first."
                    .into(),
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
    if let Some(crash) = &report.crashed {
        grade.fail(
            format!("the server keeps running ({started_as})"),
            crash.clone(),
            Diagnosis::Crashed,
            "Your server crashed or stopped answering. Run it with `cargo run -p workshop \
             --bin step-N` and read what it printed: a panic, or a `?`/`unwrap` on an I/O \
             error, must not end the server."
                .into(),
        );
    } else if !report.contract_kept() {
        let broken: Vec<_> = report
            .contract
            .iter()
            .filter_map(|point| {
                point
                    .outcome
                    .as_ref()
                    .err()
                    .map(|e| format!("{}: {e}", point.what))
            })
            .collect();
        grade.fail(
            format!("the server keeps the contract ({started_as})"),
            broken.join("; "),
            Diagnosis::BrokeContract,
            "Your server broke the contract. Keep calling the handler from `server_core` \
             and the stage crates unchanged: the lesson is in the accept loop."
                .into(),
        );
    } else {
        grade.pass(
            format!("the server keeps the contract ({started_as})"),
            "every point held",
        );
    }
    if let Model::Unknown { reason } = &report.model {
        grade.fail(
            "the model can be measured",
            reason.clone(),
            Diagnosis::CouldNotMeasure,
            format!("The check could not measure your server: {reason}"),
        );
    }
    Some(report)
}

/// What the check found: the model, then its evidence, separated by `; `.
fn found(report: &Report) -> String {
    let mut words = vec![report.model_name()];
    words.extend(report.evidence.iter().cloned());
    words.join("; ")
}

/// Grades the server binary `bin` for `step`.
pub fn grade(step: &Step, bin: &Path) -> Grade {
    let mut grade = Grade::new();
    match step.number {
        1 => grade_pool(&mut grade, bin),
        2 => grade_async_one_at_a_time(&mut grade, bin),
        3 => grade_concurrent_on_one_thread(&mut grade, bin),
        _ => grade_parallel(&mut grade, bin),
    }
    grade
}

fn grade_pool(grade: &mut Grade, bin: &Path) {
    let limit = GRADING_LIMIT.to_string();
    let Some(report) = run_check(grade, bin, &["--workers", &limit]) else {
        return;
    };
    let what = format!("a pool of exactly --workers {GRADING_LIMIT} threads");
    match report.model {
        Model::Pool { size } if size == GRADING_LIMIT => grade.pass(what, found(&report)),
        Model::OneAtATime => grade.fail(
            what,
            found(&report),
            Diagnosis::StillOneAtATime,
            "Your server still serves one connection at a time: the main thread serves each \
             connection itself, so `accept` waits. Hand each connection to a pool's worker \
             with `pool.execute(move || handle_connection(stream, config))`."
                .into(),
        ),
        Model::Pool { size } => grade.fail(
            what,
            found(&report),
            Diagnosis::WrongSize,
            format!(
                "Your pool serves {size} at once, but the check started it with --workers \
                 {GRADING_LIMIT}: make the pool with `config.workers` threads, not a number."
            ),
        ),
        Model::Concurrent { .. } => grade.fail(
            what,
            found(&report),
            Diagnosis::NoLimit,
            "No limit was found: that looks like a new thread per connection \
             (`thread::spawn`). It works, until a thousand clients make a thousand threads. \
             Make a fixed pool of `config.workers` threads once, before the loop."
                .into(),
        ),
        Model::Unknown { .. } => {}
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

fn grade_async_one_at_a_time(grade: &mut Grade, bin: &Path) {
    let Some(report) = run_check(grade, bin, &[]) else {
        return;
    };
    let what = "one connection at a time (async, but nothing runs beside the awaited connection)";
    match report.model {
        Model::OneAtATime => grade.pass(what, found(&report)),
        Model::Pool { .. } => grade.fail(
            what,
            found(&report),
            Diagnosis::StillAPool,
            "Your server still serves several connections at once: the thread pool is still \
             there. This step replaces it with async I/O on one task: \
             `async_std::task::block_on`, an async `TcpListener`, and \
             `incoming().for_each(...)` that awaits `handle_connection(stream, config)`."
                .into(),
        ),
        Model::Concurrent { .. } => grade.fail(
            what,
            found(&report),
            Diagnosis::AlreadyConcurrent,
            "Your server is already concurrent: that is the next step's lesson. Here, \
             `for_each` awaits each connection before it takes the next, to show that async \
             alone is not concurrency."
                .into(),
        ),
        Model::Unknown { .. } => {}
    }
}

fn grade_concurrent_on_one_thread(grade: &mut Grade, bin: &Path) {
    let Some(report) = run_check(grade, bin, &[]) else {
        return;
    };
    let what = "concurrent: fast requests answered at once while many /sleep are pending";
    match (&report.model, &report.cpu) {
        (Model::Concurrent { .. }, Cpu::Parallel { .. }) => {
            grade.pass(what, found(&report));
            grade.fail(
                "on one thread: CPU-bound requests take turns",
                found(&report),
                Diagnosis::TooParallel,
                "Your connections run in parallel on several threads: that is step 4 \
                 (a spawned task per connection). Here, keep them all on the one task of \
                 `main` with `for_each_concurrent`."
                    .into(),
            );
        }
        (Model::Concurrent { .. }, _) => {
            grade.pass(what, found(&report));
            grade.pass(
                "on one thread: CPU-bound requests take turns",
                found(&report),
            );
        }
        (Model::OneAtATime, _) => grade.fail(
            what,
            found(&report),
            Diagnosis::StillOneAtATime,
            "Your server still serves one connection at a time: `for_each` awaits each \
             connection's future before it takes the next. `for_each_concurrent` keeps \
             taking connections while earlier ones wait."
                .into(),
        ),
        (Model::Pool { size }, _) => grade.fail(
            what,
            found(&report),
            Diagnosis::WrongSize,
            format!(
                "Without --max-connections, your server serves only {size} at once. Pass \
                 `config.max_connections` as the limit, not a number."
            ),
        ),
        (Model::Unknown { .. }, _) => return,
    }
    if grade.diagnosis.is_some() {
        return; // The limit is only worth measuring once the model is right.
    }
    limit_of_3(
        grade,
        bin,
        "the limit of for_each_concurrent: pass `config.max_connections`",
    );
}

fn grade_parallel(grade: &mut Grade, bin: &Path) {
    let Some(report) = run_check(grade, bin, &[]) else {
        return;
    };
    let what = "concurrent and parallel: CPU-bound requests run on several cores at once";
    match (&report.model, &report.cpu) {
        (Model::Concurrent { .. }, Cpu::Parallel { .. }) => grade.pass(what, found(&report)),
        (Model::Concurrent { .. }, _) if available_cores() < 2 => grade.fail(
            what,
            found(&report),
            Diagnosis::OneCore,
            "This machine has one core, so parallelism cannot be shown here. Run the check \
             on a machine with two or more."
                .into(),
        ),
        (Model::Concurrent { .. }, _) => grade.fail(
            what,
            found(&report),
            Diagnosis::NotParallel,
            "Your connections are concurrent but still take turns on one thread: everything \
             `for_each_concurrent` drives is one task. Spawn a task per connection with \
             `task::spawn(handle_connection(stream, config))` in a plain `for_each`."
                .into(),
        ),
        (Model::OneAtATime, _) => grade.fail(
            what,
            found(&report),
            Diagnosis::StillOneAtATime,
            "Your server serves one connection at a time: the loop awaits each connection. \
             Spawn each one as a task and go straight back to accepting."
                .into(),
        ),
        (Model::Pool { size }, _) => grade.fail(
            what,
            found(&report),
            Diagnosis::WrongSize,
            format!(
                "Without --max-connections, your server serves only {size} at once: let \
                 `shutdown::wait_for_room(config.max_connections)` do the limiting."
            ),
        ),
        (Model::Unknown { .. }, _) => return,
    }
    if grade.diagnosis.is_some() {
        return; // The limit is only worth measuring once the model is right.
    }
    limit_of_3(
        grade,
        bin,
        "the loop must wait: `shutdown::wait_for_room(config.max_connections).await` after \
         spawning",
    );
    graceful_shutdown(
        grade,
        bin,
        &[],
        "Ctrl-C lets the request in flight finish (the spawned tasks are awaited)",
        "At Ctrl-C, a request in flight got no answer: spawned tasks die when `block_on` \
         returns. After the loop, `shutdown::all_done().await;` waits for them.",
    );
}

/// With `--max-connections 3`, a fourth slow request makes a fast one wait.
fn limit_of_3(grade: &mut Grade, bin: &Path, fix: &str) {
    let limit = GRADING_LIMIT.to_string();
    let Some(report) = run_check_with(grade, bin, &["--max-connections", &limit], false) else {
        return;
    };
    let what = format!("--max-connections {GRADING_LIMIT} serves at most {GRADING_LIMIT} at once");
    match report.model {
        Model::Pool { size } if size == GRADING_LIMIT => grade.pass(what, found(&report)),
        Model::Unknown { .. } => {}
        _ => grade.fail(
            what,
            found(&report),
            Diagnosis::NoLimit,
            format!(
                "With --max-connections {GRADING_LIMIT}, your server did not stop at \
                 {GRADING_LIMIT} connections in flight: {fix}."
            ),
        ),
    }
}

/// Ctrl-C while a slow request is in flight: the request must still get its answer, and the
/// process must exit by itself. Needs signals, so Unix only.
#[cfg(unix)]
fn graceful_shutdown(grade: &mut Grade, bin: &Path, extra: &[&str], what: &str, hint: &str) {
    let (_, started) = start_graded(bin, extra);
    let Ok(mut server) = started else {
        return; // Already reported by the first check.
    };
    let slow = std::thread::spawn({
        let addr = server.addr();
        move || crate::client::get(addr, "/sleep")
    });
    // Let the server take the request in hand, then press "Ctrl-C".
    std::thread::sleep(Duration::from_millis(GRADING_SLEEP_MS / 4));
    if let Err(err) = server.send_signal("INT") {
        grade.fail(
            what,
            format!("could not send Ctrl-C: {err}"),
            Diagnosis::CouldNotMeasure,
            hint.into(),
        );
        return;
    }
    let Ok(slow) = slow.join() else {
        return; // The client thread panicked: nothing was measured.
    };
    let exit = server.wait_for_exit(Duration::from_millis(GRADING_SLEEP_MS) * 5);
    match (slow.response, exit) {
        (Ok(response), Some(_)) if response.status == 200 => grade.pass(
            what,
            format!(
                "the request in flight got 200 after {:.2} s, then the server exited",
                slow.timing.done.as_secs_f64()
            ),
        ),
        (Ok(response), None) => grade.fail(
            what,
            format!(
                "the request got {}, but the server did not exit",
                response.status
            ),
            Diagnosis::ShutdownDropsRequests,
            "At Ctrl-C your server did not exit: the loop must end when \
             `shutdown::requested()` fires."
                .into(),
        ),
        (Ok(response), _) => grade.fail(
            what,
            format!("the request in flight got {}", response.status),
            Diagnosis::ShutdownDropsRequests,
            hint.into(),
        ),
        (Err(err), _) => grade.fail(
            what,
            format!("the request in flight got no answer ({err})"),
            Diagnosis::ShutdownDropsRequests,
            hint.into(),
        ),
    }
}

#[cfg(not(unix))]
fn graceful_shutdown(grade: &mut Grade, _bin: &Path, _extra: &[&str], what: &str, _hint: &str) {
    grade.not_checked(
        what,
        "not checked here: sending Ctrl-C to another process needs Unix signals",
    );
}
