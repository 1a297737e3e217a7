//! The course's four steps, from stage 1 to stage 5: each one's exercise, title and hints, and
//! how a student's server is graded for it.

use std::path::Path;

use measure::available_cores;
use measure::catalogue::Stage;
use measure::check::{Cpu, Model};

use crate::grading::{
    Diagnosis, GRADING_LIMIT, Grade, MACHINE_BUSY, Seen, graceful_shutdown, run_check,
};

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
