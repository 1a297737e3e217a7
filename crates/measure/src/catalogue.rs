//! The stage catalogue, once: every server binary of the progression, its package, runtime
//! and source file, the model its stage promises, and what each demo scenario must show for
//! it. The demo, `diff`, the workshop, `check`'s expectations and the tests all read it.
//!
//! Adding a binary is one row in [`BINARIES`]; adding a stage is a [`Stage`] variant, and the
//! compiler then points at every `match` that must say what the new stage does.

use crate::scenario::Scenario;

/// The stages of the progression, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// One connection at a time, blocking (std::net).
    One,
    /// A pool of worker threads (threadpool).
    Two,
    /// Async, but each connection awaited in the accept loop.
    Three,
    /// `for_each_concurrent`: concurrent connections on one task.
    Four,
    /// A spawned task per connection on a multi-threaded executor.
    Five,
}

/// How many threads stage 2's pool gets by default, and in the demo: busy-pool sends one slow
/// request more than this.
pub const WORKERS: usize = 4;

/// What a stage promises about a fast request while slow ones are pending: the model
/// `cargo xtask check` must find, and the lesson the suite asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A fast request waits for a pending slow one (stages 1 and 3).
    OneAtATime,
    /// Fast requests do not wait until all `workers` are busy with slow ones (stage 2).
    Pool { workers: usize },
    /// Fast requests never wait for sleeping ones, but everything runs on one thread, so a
    /// handler that blocks its thread (`/block`) makes every request wait (stage 4).
    ConcurrentOnOneThread,
    /// Fast requests wait neither for sleeping ones nor for one blocked thread, because other
    /// threads keep serving, given at least two cores (stage 5).
    Parallel,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::One,
        Stage::Two,
        Stage::Three,
        Stage::Four,
        Stage::Five,
    ];

    /// 1 to 5, as the packages and the book number them.
    pub fn number(self) -> u8 {
        match self {
            Stage::One => 1,
            Stage::Two => 2,
            Stage::Three => 3,
            Stage::Four => 4,
            Stage::Five => 5,
        }
    }

    pub fn from_number(number: u8) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.number() == number)
    }

    /// The cargo package: `stage-N`.
    pub fn package(self) -> &'static str {
        self.default_binary().package
    }

    /// The stage's default binary: the one the Rust Book's and the Async Book's chapters
    /// match (async-std for the async stages).
    pub fn default_binary(self) -> &'static Binary {
        BINARIES
            .iter()
            .find(|binary| binary.stage == self && binary.runtime.is_default())
            .expect("every stage has a default binary in BINARIES")
    }

    /// How the stage serves connections, in a few words for tables.
    pub fn model_words(self) -> &'static str {
        match self {
            Stage::One => "one at a time",
            Stage::Two => "thread pool of 4",
            Stage::Three => "await in accept loop",
            Stage::Four => "for_each_concurrent",
            Stage::Five => "task per connection",
        }
    }

    /// The model this stage promises, with its default flags.
    pub fn expected(self) -> Expected {
        match self {
            Stage::One | Stage::Three => Expected::OneAtATime,
            Stage::Two => Expected::Pool { workers: WORKERS },
            Stage::Four => Expected::ConcurrentOnOneThread,
            Stage::Five => Expected::Parallel,
        }
    }

    /// Whether the stage takes `--workers` (a pool's size).
    pub fn takes_workers(self) -> bool {
        matches!(self.expected(), Expected::Pool { .. })
    }

    /// Whether the stage takes `--max-connections` (a limit on connections in flight).
    pub fn takes_max_connections(self) -> bool {
        matches!(
            self.expected(),
            Expected::ConcurrentOnOneThread | Expected::Parallel
        )
    }

    /// What the stage must show in `scenario`, on a machine with `cores` cores: the lesson of
    /// the progression.
    pub fn lesson(self, scenario: Scenario, cores: usize) -> Lesson {
        use Lesson::*;
        let parallel_if_cores = if cores > 1 { ManyCores } else { OneCore };
        match (scenario, self.expected()) {
            // One at a time (1) and awaiting each connection in the accept loop (3) always
            // wait. An idle client holds them as long as a slow request: until
            // --read-timeout-ms.
            (_, Expected::OneAtATime) if scenario != Scenario::Cpu => Wait,
            (Scenario::Cpu, Expected::OneAtATime | Expected::ConcurrentOnOneThread) => OneCore,
            (Scenario::Cpu, Expected::Pool { .. } | Expected::Parallel) => parallel_if_cores,
            // The pool is full: the fast requests wait for a free worker.
            (Scenario::BusyPool, Expected::Pool { .. }) => Wait,
            // A blocked thread blocks the one task that runs every connection.
            (Scenario::Blocking, Expected::ConcurrentOnOneThread) => Wait,
            // The other workers (2) or runtime threads (5) keep serving, given another core.
            (Scenario::Blocking, _) if cores > 1 => NoWait,
            (Scenario::Blocking, _) => Wait,
            // Sleeping requests, and an idle client, hold one worker (2) or one task (4, 5),
            // never a whole thread of a concurrent server.
            (Scenario::Slow | Scenario::BusyPool | Scenario::Idle, _) => NoWait,
        }
    }
}

impl std::fmt::Display for Stage {
    /// The stage's number, as in "stage 4".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a binary runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runtime {
    /// std::net, blocking (stage 1).
    Std,
    /// The threadpool crate over std::net (stage 2).
    Threadpool,
    /// The async stages' default binary, `stage-N`, because the Async Book uses async-std.
    AsyncStd,
    Tokio,
    Smol,
    /// The runtime of our own (crates/mini-runtime), small enough to read.
    Mini,
}

impl Runtime {
    /// The runtimes of the async stages (3 to 5), each with a binary of its own.
    pub const ASYNC: [Runtime; 4] = [
        Runtime::AsyncStd,
        Runtime::Tokio,
        Runtime::Smol,
        Runtime::Mini,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Std => "std",
            Runtime::Threadpool => "threadpool",
            Runtime::AsyncStd => "async-std",
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
            Runtime::Mini => "mini",
        }
    }

    /// An async runtime by its name on the command line.
    pub fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ASYNC.into_iter().find(|r| r.name() == name)
    }

    /// Whether this runtime's binary is its stage's default one (`stage-N`).
    pub fn is_default(self) -> bool {
        match self {
            Runtime::Std | Runtime::Threadpool | Runtime::AsyncStd => true,
            Runtime::Tokio | Runtime::Smol | Runtime::Mini => false,
        }
    }

    /// Whether a chosen set of async runtimes includes this binary's: stages 1 and 2 have
    /// one binary each, always included.
    fn chosen(self, runtimes: &[Runtime]) -> bool {
        match self {
            Runtime::Std | Runtime::Threadpool => true,
            Runtime::AsyncStd | Runtime::Tokio | Runtime::Smol | Runtime::Mini => {
                runtimes.contains(&self)
            }
        }
    }
}

/// One server binary of the progression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binary {
    pub stage: Stage,
    pub runtime: Runtime,
    /// The binary target, such as `stage-4-tokio`.
    pub name: &'static str,
    /// The cargo package it belongs to, `stage-N`.
    pub package: &'static str,
    /// Its main file, relative to the workspace root: what `cargo xtask diff` compares and
    /// the workshop's solutions point at.
    pub source: &'static str,
}

const fn row(
    stage: Stage,
    runtime: Runtime,
    name: &'static str,
    package: &'static str,
    source: &'static str,
) -> Binary {
    Binary {
        stage,
        runtime,
        name,
        package,
        source,
    }
}

/// Every server binary, in the order of the progression.
pub const BINARIES: [Binary; 14] = {
    use Runtime::*;
    use Stage::*;
    [
        row(One, Std, "stage-1", "stage-1", "crates/stage-1/src/main.rs"),
        row(
            Two,
            Threadpool,
            "stage-2",
            "stage-2",
            "crates/stage-2/src/main.rs",
        ),
        row(
            Three,
            AsyncStd,
            "stage-3",
            "stage-3",
            "crates/stage-3/src/bin/stage-3.rs",
        ),
        row(
            Three,
            Tokio,
            "stage-3-tokio",
            "stage-3",
            "crates/stage-3/src/bin/stage-3-tokio.rs",
        ),
        row(
            Three,
            Smol,
            "stage-3-smol",
            "stage-3",
            "crates/stage-3/src/bin/stage-3-smol.rs",
        ),
        row(
            Three,
            Mini,
            "stage-3-mini",
            "stage-3",
            "crates/stage-3/src/bin/stage-3-mini.rs",
        ),
        row(
            Four,
            AsyncStd,
            "stage-4",
            "stage-4",
            "crates/stage-4/src/bin/stage-4.rs",
        ),
        row(
            Four,
            Tokio,
            "stage-4-tokio",
            "stage-4",
            "crates/stage-4/src/bin/stage-4-tokio.rs",
        ),
        row(
            Four,
            Smol,
            "stage-4-smol",
            "stage-4",
            "crates/stage-4/src/bin/stage-4-smol.rs",
        ),
        row(
            Four,
            Mini,
            "stage-4-mini",
            "stage-4",
            "crates/stage-4/src/bin/stage-4-mini.rs",
        ),
        row(
            Five,
            AsyncStd,
            "stage-5",
            "stage-5",
            "crates/stage-5/src/bin/stage-5.rs",
        ),
        row(
            Five,
            Tokio,
            "stage-5-tokio",
            "stage-5",
            "crates/stage-5/src/bin/stage-5-tokio.rs",
        ),
        row(
            Five,
            Smol,
            "stage-5-smol",
            "stage-5",
            "crates/stage-5/src/bin/stage-5-smol.rs",
        ),
        row(
            Five,
            Mini,
            "stage-5-mini",
            "stage-5",
            "crates/stage-5/src/bin/stage-5-mini.rs",
        ),
    ]
};

impl Binary {
    /// The binary of `stage` on `runtime`, if there is one (stages 1 and 2 have only theirs).
    pub fn of(stage: Stage, runtime: Runtime) -> Option<&'static Binary> {
        BINARIES
            .iter()
            .find(|binary| binary.stage == stage && binary.runtime == runtime)
    }

    /// The binary named `name`, such as `stage-4-tokio`.
    pub fn named(name: &str) -> Option<&'static Binary> {
        BINARIES.iter().find(|binary| binary.name == name)
    }

    /// The flags the tools give this server besides `--port 0`: the delay of `/sleep`, the
    /// demo's pool size for stage 2, and a `--read-timeout-ms` if a scenario needs one.
    pub fn args(&self, sleep_ms: u64, read_timeout_ms: Option<u64>) -> Vec<String> {
        let mut args = vec![
            "--host".to_string(),
            "127.0.0.1".to_string(),
            "--sleep-ms".to_string(),
            sleep_ms.to_string(),
        ];
        if let Some(ms) = read_timeout_ms {
            args.extend(["--read-timeout-ms".to_string(), ms.to_string()]);
        }
        if self.stage.takes_workers() {
            args.extend(["--workers".to_string(), WORKERS.to_string()]);
        }
        args
    }
}

/// The binaries of the chosen stages: stages 1 and 2 have one each, stages 3 to 5 one per
/// chosen runtime.
pub fn select(stages: &[Stage], runtimes: &[Runtime]) -> Vec<Binary> {
    BINARIES
        .iter()
        .filter(|binary| stages.contains(&binary.stage) && binary.runtime.chosen(runtimes))
        .copied()
        .collect()
}

/// What a stage should show in a scenario: the lesson of the progression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lesson {
    /// The fast requests wait for the slow one(s), or for the idle client.
    Wait,
    /// The fast requests do not wait.
    NoWait,
    /// The CPU batch runs on one core at a time.
    OneCore,
    /// The CPU batch runs on several cores at once.
    ManyCores,
}

impl Lesson {
    pub fn name(self) -> &'static str {
        match self {
            Lesson::Wait => "wait",
            Lesson::NoWait => "no-wait",
            Lesson::OneCore => "one-core",
            Lesson::ManyCores => "many-cores",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_runtimes_make_fourteen_binaries() {
        let all = select(&Stage::ALL, &Runtime::ASYNC);
        assert_eq!(all.len(), 14);
        let names: Vec<_> = all.iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            [
                "stage-1",
                "stage-2",
                "stage-3",
                "stage-3-tokio",
                "stage-3-smol",
                "stage-3-mini",
                "stage-4",
                "stage-4-tokio",
                "stage-4-smol",
                "stage-4-mini",
                "stage-5",
                "stage-5-tokio",
                "stage-5-smol",
                "stage-5-mini"
            ]
        );
        for binary in &all {
            let number = binary.stage.number();
            assert_eq!(binary.package, format!("stage-{number}"));
            assert!(binary.name.starts_with(binary.package), "{binary:?}");
            assert!(
                binary
                    .source
                    .starts_with(&format!("crates/{}/src/", binary.package)),
                "{binary:?}"
            );
            let suffix = binary.name.strip_prefix(binary.package).unwrap_or_default();
            let expected_suffix = match binary.runtime {
                runtime if runtime.is_default() => String::new(),
                runtime => format!("-{}", runtime.name()),
            };
            assert_eq!(suffix, expected_suffix, "{binary:?}");
        }
    }

    #[test]
    fn default_binaries_are_one_per_stage() {
        let defaults = select(&Stage::ALL, &[Runtime::AsyncStd]);
        assert_eq!(defaults.len(), 5);
        assert_eq!(defaults[2].runtime, Runtime::AsyncStd);
        for stage in Stage::ALL {
            assert_eq!(stage.default_binary().stage, stage);
            assert_eq!(Stage::from_number(stage.number()), Some(stage));
        }
    }

    #[test]
    fn the_lessons_of_the_progression() {
        let waits = |scenario| {
            Stage::ALL
                .iter()
                .filter(|stage| stage.lesson(scenario, 2) == Lesson::Wait)
                .map(|stage| stage.number())
                .collect::<Vec<_>>()
        };
        assert_eq!(waits(Scenario::Slow), [1, 3]);
        assert_eq!(waits(Scenario::BusyPool), [1, 2, 3]);
        assert_eq!(waits(Scenario::Blocking), [1, 3, 4]);
        assert_eq!(waits(Scenario::Idle), [1, 3]);
        assert_eq!(Stage::Two.lesson(Scenario::Idle, 1), Lesson::NoWait);
        assert_eq!(Stage::Five.lesson(Scenario::Cpu, 2), Lesson::ManyCores);
        assert_eq!(Stage::Two.lesson(Scenario::Cpu, 2), Lesson::ManyCores);
        assert_eq!(Stage::Four.lesson(Scenario::Cpu, 2), Lesson::OneCore);
        assert_eq!(Stage::One.lesson(Scenario::Cpu, 2), Lesson::OneCore);
        assert_eq!(Stage::Five.lesson(Scenario::Cpu, 1), Lesson::OneCore);
        assert_eq!(Stage::Five.lesson(Scenario::Blocking, 1), Lesson::Wait);
    }
}
