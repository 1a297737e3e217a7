//! The find-the-bug servers: each is one real stage binary with one classic mistake in it
//! (`crates/workshop/bugs/bug-N.rs`; the answer key is `crates/workshop/bugs/README.md`). The
//! table says, for each, which stage binary it comes from (so the model intended, from the
//! catalogue, and the fix: that binary's file), the flags its check needs, which probe finds
//! it, its symptom and its hints, and where its code differs from the stage (the drift test
//! holds it to that). [`grade_bug`] grades a student's copy with the same check as the steps,
//! and reports in behaviour: the model measured against the model intended, with numbers.

use std::path::Path;
use std::time::Duration;

use measure::available_cores;
use measure::catalogue::{Binary, Expected, Runtime, Stage};
use measure::check::{Cpu, Model, Report};
use measure::probes::{self, ProbeError};

use crate::grading::{
    Diagnosis, GRADING_SLEEP_MS, Grade, MACHINE_BUSY, Seen, graceful_shutdown, run_check,
    start_graded,
};

/// What finds a bug besides the model `check` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// The model alone (with the bug's flags): one at a time, the wrong size, no limit, or no
    /// answer at all.
    Model,
    /// The `/cpu` probe: concurrent, but CPU-bound requests take turns on one thread (needs a
    /// machine with two cores or more).
    Cpu,
    /// Ctrl-C with a request in flight (Unix; Windows as Ctrl-Break), after the model: the model is right and the
    /// shutdown is not (bugs 3 and 6), or the model is wrong too and a fix of half the bug
    /// would still not stop at Ctrl-C (bug 11).
    CtrlC,
    /// The server's thread count while clients wait: a thread per client.
    Threads,
}

/// One find-the-bug server.
#[derive(Debug, PartialEq, Eq)]
pub struct Bug {
    pub number: u8,
    /// The stage binary it is a copy of: with `runtime`, a row of the catalogue.
    pub stage: Stage,
    pub runtime: Runtime,
    /// Its page's title in the book.
    pub title: &'static str,
    /// What a user of the server would notice, in a sentence.
    pub symptom: &'static str,
    /// The flags its check starts it with (besides `--sleep-ms`), so that the bug shows.
    pub flags: &'static [&'static str],
    pub found_by: FoundBy,
    /// The diagnosis of the untouched bug.
    pub diagnosis: Diagnosis,
    /// From the symptom to the cause, in steps; the first never names the line.
    pub hints: &'static [&'static str],
    /// At most this many code lines (added plus removed) differ from the stage file.
    pub most_changed: usize,
    /// A piece of code the difference must contain, on either side: the bug's line.
    pub changed_code: &'static str,
}

impl Bug {
    /// The stage binary it comes from, in the catalogue.
    pub fn from(&self) -> &'static Binary {
        Binary::of(self.stage, self.runtime).expect("every bug's stage and runtime is a binary")
    }

    /// `bug-N`: its name on the command line and its binary in the workshop package.
    pub fn name(&self) -> String {
        format!("bug-{}", self.number)
    }

    /// The bug's file, relative to the workspace root: the starting point.
    pub fn source(&self) -> String {
        format!("crates/workshop/bugs/bug-{}.rs", self.number)
    }

    /// The binary cargo builds from the student's copy, `my-bug-N`.
    pub fn bin_name(&self) -> String {
        format!("my-bug-{}", self.number)
    }

    /// The fix: the file of the stage binary it comes from, relative to the workspace root.
    pub fn solution(&self) -> &'static str {
        self.from().source
    }

    /// The model its stage promises, started with the bug's flags: a pool of exactly N with
    /// `--workers N`, and with `--max-connections N` (N connections in flight at most).
    pub fn intended(&self) -> Expected {
        let limit = self
            .flags
            .windows(2)
            .find(|pair| matches!(pair[0], "--workers" | "--max-connections"))
            .and_then(|pair| pair[1].parse().ok());
        match limit {
            Some(workers) => Expected::Pool { workers },
            None => self.stage.expected(),
        }
    }
}

/// The bug numbered `number` (1 to 11).
pub fn bug(number: u8) -> Option<&'static Bug> {
    BUGS.iter().find(|bug| bug.number == number)
}

/// The model intended, in a few words, as the findings name it.
pub fn intended_words(intended: Expected) -> String {
    match intended {
        Expected::OneAtATime => "one at a time".into(),
        Expected::Pool { workers } => format!("a pool of {workers}"),
        Expected::ConcurrentOnOneThread => "concurrent on one thread".into(),
        Expected::Parallel => "concurrent and parallel".into(),
    }
}

/// How many clients the thread probe keeps waiting: well above any pool the grading asks for.
const THREAD_PROBE_CLIENTS: usize = 24;

/// Grades the server binary `bin` as a fix of `bug`: the same check as the steps, started
/// with the bug's flags, then the bug's own probe. It passes when the server behaves as the
/// stage it comes from promises.
pub fn grade_bug(bug: &Bug, bin: &Path) -> Grade {
    let mut grade = Grade::new();
    let intended = bug.intended();
    let measure_cpu = matches!(
        intended,
        Expected::Parallel | Expected::ConcurrentOnOneThread
    );
    let Some(report) = run_check(&mut grade, &bug.bin_name(), bin, bug.flags, measure_cpu) else {
        return grade;
    };
    if grade.diagnosis.is_some() {
        return grade; // Not answered, or crashed, or not measured: that is the symptom.
    }
    // The bug's own probe first: its symptom is the one to report, even when the CPU probe
    // of a busy machine also finds fault with the model.
    match bug.found_by {
        FoundBy::Model | FoundBy::Cpu | FoundBy::Threads => {}
        FoundBy::CtrlC => graceful_shutdown(
            &mut grade,
            bin,
            bug.flags,
            "Ctrl-C lets the request in flight finish",
            "At Ctrl-C, a request in flight got no answer: the server exits before the \
             requests it is serving are done.",
        ),
    }
    compare(&mut grade, bug, intended, &report);
    // The thread count after the model: "no limit" is the symptom, the threads say why.
    if bug.found_by == FoundBy::Threads {
        threads_stay(&mut grade, bin, bug.flags);
    }
    grade
}

/// The model measured against the model intended: a finding, and on a mismatch the
/// diagnosis, said in behaviour.
fn compare(grade: &mut Grade, bug: &Bug, intended: Expected, report: &Report) {
    let from = match bug.flags {
        [] => bug.from().name.to_string(),
        flags => format!("{} with {}", bug.from().name, flags.join(" ")),
    };
    let what = format!("behaves like the stage it comes from, {from}");
    let seen = Seen::Compared {
        intended,
        model: report.model.clone(),
        cpu: report.cpu.clone(),
    };
    let wanted = intended_words(intended);
    let mismatch = match (intended, &report.model, &report.cpu) {
        (_, Model::Unknown(_), _) => return, // Already a failed finding of its own.
        (Expected::OneAtATime, Model::OneAtATime { .. }, _) => None,
        (Expected::Pool { workers }, Model::Pool { size, .. }, _) if *size == workers => None,
        (Expected::ConcurrentOnOneThread, Model::Concurrent { .. }, Cpu::OneThread(_)) => None,
        (Expected::Parallel, Model::Concurrent { .. }, Cpu::Parallel(_)) => None,
        (_, Model::OneAtATime { .. }, _) => Some((
            Diagnosis::StillOneAtATime,
            format!(
                "A fast request waited until a slow one was done: the server serves one \
                 connection at a time, where {from} is {wanted}."
            ),
        )),
        (Expected::OneAtATime, Model::Pool { .. }, _) => Some((
            Diagnosis::StillAPool,
            format!(
                "Fast requests were answered while slow ones were pending: the server \
                 serves several connections at once, where {from} serves one at a time."
            ),
        )),
        (_, Model::Pool { size, .. }, _) => Some((
            Diagnosis::WrongSize,
            format!(
                "The server serves {size} requests at once and makes the next one wait, \
                 where {from} is {wanted}."
            ),
        )),
        (Expected::OneAtATime, Model::Concurrent { .. }, _) => Some((
            Diagnosis::AlreadyConcurrent,
            format!(
                "No fast request waited for the slow ones: the server is concurrent, where \
                 {from} serves one at a time."
            ),
        )),
        (Expected::Pool { .. }, Model::Concurrent { pending, .. }, _) => Some((
            Diagnosis::NoLimit,
            format!(
                "Nothing limits how many requests the server serves at once: with {pending} \
                 slow requests pending, no fast request waited, where {from} is \
                 {wanted}."
            ),
        )),
        (Expected::ConcurrentOnOneThread, Model::Concurrent { .. }, Cpu::Parallel(_)) => Some((
            Diagnosis::TooParallel,
            format!(
                "CPU-bound requests ran on several cores at once, where {from} runs every \
                 connection on one thread."
            ),
        )),
        (Expected::Parallel, Model::Concurrent { .. }, _) if available_cores() < 2 => Some((
            Diagnosis::OneCore,
            "This machine has one core, so parallelism cannot be shown here. Run the check \
             on a machine with two or more."
                .into(),
        )),
        (Expected::Parallel, Model::Concurrent { .. }, Cpu::OneThread(_)) => Some((
            Diagnosis::NotParallel,
            format!(
                "Slow requests do not make fast ones wait, but CPU-bound requests take turns \
                 on one thread: the server is concurrent and not parallel, where {from} is \
                 concurrent and parallel."
            ),
        )),
        (_, Model::Concurrent { .. }, Cpu::Busy(_)) => {
            Some((Diagnosis::MachineBusy, MACHINE_BUSY.into()))
        }
        (_, Model::Concurrent { .. }, Cpu::CannotTell(_)) => Some((
            Diagnosis::CouldNotMeasure,
            format!("Whether it is {wanted} could not be measured: what was found is above."),
        )),
    };
    match mismatch {
        None => grade.pass(what, seen),
        Some((diagnosis, symptom)) => grade.fail(what, seen, diagnosis, symptom),
    }
}

/// The thread probe: a pool keeps its threads while clients wait; a thread per connection
/// makes one more for each. On Linux, macOS and Windows (`measure::system`); elsewhere the
/// finding says it was not measured.
fn threads_stay(grade: &mut Grade, bin: &Path, flags: &[&str]) {
    let what =
        format!("the thread count stays the same with {THREAD_PROBE_CLIENTS} clients waiting");
    let (_, started) = start_graded(bin, flags);
    let Ok(server) = started else {
        return; // Already reported by the first check.
    };
    // Long enough for every client's request to be taken in hand, well within the delay.
    let settle = Duration::from_millis(GRADING_SLEEP_MS * 3 / 10);
    match probes::threads_while_waiting(&server, "/sleep", THREAD_PROBE_CLIENTS, settle) {
        Ok(seen) => {
            let words = Seen::Words(format!(
                "{} threads idle, {} with {} clients waiting: {:.1} more per waiting client",
                seen.idle,
                seen.waiting,
                seen.clients,
                seen.per_client()
            ));
            if seen.grow_with_clients() {
                grade.fail(
                    what,
                    words,
                    Diagnosis::NoLimit,
                    "Every waiting client costs the server one more thread: nothing bounds \
                     how many it makes."
                        .into(),
                );
            } else {
                grade.pass(what, words);
            }
        }
        Err(err @ ProbeError::NotOnThisOs { .. }) => grade.not_checked(what, err.to_string()),
        Err(ProbeError::Failed(why)) => grade.fail(
            what,
            Seen::Words(format!("the threads could not be counted: {why}")),
            Diagnosis::CouldNotMeasure,
            "The thread count could not be measured: what went wrong is above.".into(),
        ),
    }
}

pub const BUGS: [Bug; 11] = [
    Bug {
        number: 1,
        stage: Stage::Two,
        runtime: Runtime::Threadpool,
        title: "four workers, whatever you ask",
        symptom: "The pool always has four workers: with `--workers 3` (or 8) the server still \
             serves exactly four requests at once.",
        flags: &["--workers", "3"],
        found_by: FoundBy::Model,
        diagnosis: Diagnosis::WrongSize,
        hints: &[
            "`check` started it with `--workers 3`: with three slow requests pending, a fast \
             one was still answered at once, and only the fourth made it wait. The flag is \
             accepted (`--help` lists it), so something else decides the size.",
            "Find the line where the pool is made, and read what decides its number of \
             threads.",
            "The size is the number 4 (the default of `--workers`, so a test by hand with \
             no flags looks right), not `config.workers`.",
        ],
        most_changed: 2,
        changed_code: "ThreadPool::with_name(\"worker\".to_string(), 4)",
    },
    Bug {
        number: 2,
        stage: Stage::Two,
        runtime: Runtime::Threadpool,
        title: "no limit at all",
        symptom: "Nothing limits how many clients are served at once: every waiting client costs \
             the server one more thread, and `--workers` changes nothing.",
        flags: &["--workers", "3"],
        found_by: FoundBy::Threads,
        diagnosis: Diagnosis::NoLimit,
        hints: &[
            "Even with `--workers 3` and twelve slow requests pending, no fast request \
             waited. What bounds the number of requests this server serves at once?",
            "Count the server's threads while clients wait (Linux: `ls /proc/PID/task | wc \
             -l`; or read the log, where the thread numbers keep growing): one more per \
             waiting client, however many there are.",
            "The loop starts a new thread for every connection. A pool of `config.workers` \
             threads, given each connection as a job, is the bound (and joining it at the \
             end is what lets Ctrl-C finish the requests in flight).",
        ],
        most_changed: 9,
        changed_code: "worker.spawn(move || handle_connection(stream, config))",
    },
    Bug {
        number: 3,
        stage: Stage::Two,
        runtime: Runtime::Threadpool,
        title: "Ctrl-C loses a request (threads)",
        symptom: "On Ctrl-C the server exits at once, and a request it was serving gets no \
             answer, although the log says it waited for it.",
        flags: &["--workers", "3"],
        found_by: FoundBy::CtrlC,
        diagnosis: Diagnosis::ShutdownDropsRequests,
        hints: &[
            "The model is right (a pool of 3): the bug is in what happens at Ctrl-C. See it \
             by hand: request `/sleep`, press Ctrl-C in the server's terminal while it \
             waits: the client gets an empty reply.",
            "The log says `waiting up to 10000 ms for 1 connection(s) in flight`, then `all \
             connections done; exiting` a moment later, with no `GET /sleep` line. After \
             the accept loop ends, what does `main` do before it returns, and who is still \
             running that job?",
            "When `main` returns, the process ends, and every thread with it, halfway \
             through its job. The pool's jobs must be waited for: `pool.join()` after the \
             loop.",
        ],
        most_changed: 1,
        changed_code: "pool.join();",
    },
    Bug {
        number: 4,
        stage: Stage::Five,
        runtime: Runtime::AsyncStd,
        title: "tasks that wait in line",
        symptom: "Requests are answered one at a time, although every connection is accepted at \
             once and gets a task of its own.",
        flags: &[],
        found_by: FoundBy::Model,
        diagnosis: Diagnosis::StillOneAtATime,
        hints: &[
            "A fast request waits for a slow one, as in stage 1, though every connection is \
             spawned as a task. The log is a clue: each request's time in the log is what \
             it should be, yet the clients waited longer. The time the log does not count \
             is spent before the handler starts.",
            "Look for what the tasks share, and for how long each one holds it.",
            "Each task takes the lock of the `SERVED` counter before it serves its \
             connection, and keeps the guard (`served`) until after: the lock is held \
             across the `.await` of the whole connection, so the tasks take turns.",
        ],
        most_changed: 9,
        changed_code: "let mut served = SERVED.lock().await;",
    },
    Bug {
        number: 5,
        stage: Stage::Five,
        runtime: Runtime::AsyncStd,
        title: "a limit that is not one",
        symptom: "`--max-connections` limits nothing: with a limit of 3, twelve slow requests \
             are served at once.",
        flags: &["--max-connections", "3"],
        found_by: FoundBy::Model,
        diagnosis: Diagnosis::NoLimit,
        hints: &[
            "`check` started it with `--max-connections 3`: the fourth slow request, and the \
             twelfth, were taken in hand at once. The flag is parsed, so the loop must not \
             be using it.",
            "`task::spawn` returns at once, so the accept loop never waits for a connection \
             to finish. What would make it wait when there are already enough in flight?",
            "After each spawn the loop must wait for room: \
             `shutdown::wait_for_room(config.max_connections).await`.",
        ],
        most_changed: 1,
        changed_code: "shutdown::wait_for_room(config.max_connections).await;",
    },
    Bug {
        number: 6,
        stage: Stage::Five,
        runtime: Runtime::AsyncStd,
        title: "Ctrl-C loses a request (tasks)",
        symptom: "On Ctrl-C the server exits at once, and a request it was serving gets no \
             answer.",
        flags: &[],
        found_by: FoundBy::CtrlC,
        diagnosis: Diagnosis::ShutdownDropsRequests,
        hints: &[
            "The model is right: the bug is in what happens at Ctrl-C. Request `/sleep` and \
             press Ctrl-C while it waits. The client gets an empty reply; the log says it \
             was waiting for 1 connection, then that all are done.",
            "On Ctrl-C the stream of connections ends, so the loop ends, and `block_on` \
             returns. Who waits for the tasks spawned earlier?",
            "Nobody: they die with the process. Wait for them after the loop, inside \
             `block_on`: `shutdown::all_done().await`.",
        ],
        most_changed: 1,
        changed_code: "shutdown::all_done().await;",
    },
    Bug {
        number: 7,
        stage: Stage::Five,
        runtime: Runtime::Tokio,
        title: "spawned, and still one at a time",
        symptom: "Requests are answered one at a time, although each connection is spawned as a \
             task of its own.",
        flags: &[],
        found_by: FoundBy::Model,
        diagnosis: Diagnosis::StillOneAtATime,
        hints: &[
            "Every connection is a task, and a task runs by itself: so why would the next \
             connection wait? Look at what the accept loop does right after spawning.",
            "`tokio::spawn` returns a `JoinHandle`, and awaiting a `JoinHandle` waits until \
             the task has finished.",
            "The loop awaits each handle before it accepts again: spawning then awaiting at \
             once is the same as awaiting the handler in the loop (stage 3). Drop the \
             handle instead (that detaches the task); a panic in it is still printed.",
        ],
        most_changed: 4,
        changed_code: "tokio::spawn(handle_connection(stream, config)).await",
    },
    Bug {
        number: 8,
        stage: Stage::Five,
        runtime: Runtime::Tokio,
        title: "concurrent, on one thread (tokio)",
        symptom: "Slow requests no longer make fast ones wait, but CPU-heavy requests take turns \
             on one core, and every request is served by the same thread.",
        flags: &[],
        found_by: FoundBy::Cpu,
        diagnosis: Diagnosis::NotParallel,
        hints: &[
            "Concurrent, so the tasks are spawned and not awaited; but `/cpu` takes turns. \
             Read the log: every request says `on main #1`.",
            "Tasks run on the runtime's worker threads. How many worker threads does this \
             runtime have, and which thread runs `block_on`?",
            "`Builder::new_current_thread()` runs every task on the thread that calls \
             `block_on`: here, `main`. A multi-threaded runtime (`new_multi_thread()`, \
             which `#[tokio::main]` builds by default and `stage_3::on_tokio::runtime()` \
             builds here) has a worker per core.",
        ],
        most_changed: 11,
        changed_code: "tokio::runtime::Builder::new_current_thread()",
    },
    Bug {
        number: 9,
        stage: Stage::Five,
        runtime: Runtime::Smol,
        title: "no answer at all",
        symptom: "Connections are accepted and then closed without an answer (one in 50 gets \
             one), and the server logs nothing about them.",
        flags: &[],
        found_by: FoundBy::Model,
        diagnosis: Diagnosis::NotAnswered,
        hints: &[
            "Every connection is accepted and closed with no answer and no log line, not \
             even an error: the handler never runs to its end. The process has not crashed.",
            "Each connection is spawned as a task on `EXECUTOR`, and its handle is dropped. \
             What does dropping a handle do in async-std, in tokio, and in smol?",
            "In async-std and tokio, a dropped handle detaches the task. A dropped smol \
             `Task` cancels it, on the spot. `.detach()` it.",
        ],
        most_changed: 2,
        changed_code: "drop(EXECUTOR.spawn(handle_connection(stream, config)))",
    },
    Bug {
        number: 10,
        stage: Stage::Five,
        runtime: Runtime::Smol,
        title: "concurrent, on one thread (smol)",
        symptom: "Slow requests no longer make fast ones wait, but CPU-heavy requests take turns \
             on one core, although the program starts an executor thread per core.",
        flags: &[],
        found_by: FoundBy::Cpu,
        diagnosis: Diagnosis::NotParallel,
        hints: &[
            "`/cpu` takes turns. Read the log: every request is served on the same thread, \
             `smol-1`, which is not one of the `smol-worker` threads the program starts.",
            "The program makes an executor, `EXECUTOR`, and runs it on a thread per core. \
             Are the connections' tasks spawned on it?",
            "`smol::spawn` spawns on smol's global executor, a different one, which runs on \
             one thread (unless the `SMOL_THREADS` environment variable says more). Spawn \
             on `EXECUTOR`.",
        ],
        most_changed: 2,
        changed_code: "smol::spawn(handle_connection(stream, config)).detach()",
    },
    Bug {
        number: 11,
        stage: Stage::Five,
        runtime: Runtime::Tokio,
        title: "accepted, and never served",
        symptom: "Connections are accepted at once, and no request is ever answered, not even \
             when more clients connect; the server logs nothing about them, and its process \
             keeps running.",
        flags: &[],
        found_by: FoundBy::CtrlC,
        diagnosis: Diagnosis::NotAnswered,
        hints: &[
            "Every client connects at once and waits for ever: no answer, no log line, no \
             error, and the process has not crashed. Press Ctrl-C: the log counts every one \
             of those connections as in flight. Each was spawned as a task, and not one task \
             has run.",
            "This runtime has one thread (`new_current_thread()`): the accept loop and every \
             task take turns on it, and a task runs only while the loop waits at an \
             `.await`. Where does this loop wait for the next client?",
            "In `accept`, inside `std::net::TcpListener`'s `incoming()`: it blocks the thread \
             until a client connects, and `stream::iter` only makes it look like a stream. \
             Use the runtime's listener, `tokio::net::TcpListener` (`bind(..).await`, then \
             `TcpListenerStream::new(listener)`), whose accept waits at `.await` and lends \
             the thread to the tasks; and stage 5's runtime, `stage_3::on_tokio::runtime()`, \
             with a worker per core (on one thread it is bug 8).",
        ],
        most_changed: 27,
        changed_code: "stream::iter(listener.incoming())",
    },
];
