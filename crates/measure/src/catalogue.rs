//! The stages and their binaries: what the demo can run, and what each one should show.

use crate::scenario::Scenario;

/// Every stage, in the order of the progression.
pub const STAGES: [u8; 5] = [1, 2, 3, 4, 5];

/// How many threads stage 2's pool gets: busy-pool sends one slow request more than this.
pub const WORKERS: usize = 4;

/// The runtimes of the async stages (3 to 5), each with its own binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Runtime {
    /// The default binary, `stage-N`, because the Async Book uses async-std.
    AsyncStd,
    Tokio,
    Smol,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::AsyncStd, Runtime::Tokio, Runtime::Smol];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::AsyncStd => "async-std",
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
        }
    }

    pub fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The binary's name: `stage-N` for async-std, `stage-N-tokio`, `stage-N-smol`.
    fn binary(self, stage: u8) -> String {
        match self {
            Runtime::AsyncStd => format!("stage-{stage}"),
            other => format!("stage-{stage}-{}", other.name()),
        }
    }
}

/// One server binary the demo runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    pub stage: u8,
    /// The cargo package it belongs to, `stage-N`.
    pub package: String,
    /// The binary target, such as `stage-4-tokio`.
    pub name: String,
    /// What it runs on: `std`, `threadpool`, or the async runtime.
    pub runtime: &'static str,
    /// How it serves connections, in a few words.
    pub model: &'static str,
}

impl Binary {
    /// The extra flags the demo gives this server besides `--port 0`; `read_timeout_ms` is
    /// its `--read-timeout-ms`, if the scenario needs one other than the default.
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
        if self.stage == 2 {
            args.extend(["--workers".to_string(), WORKERS.to_string()]);
        }
        args
    }
}

/// How each stage serves connections, in a few words for the table.
pub fn model(stage: u8) -> &'static str {
    match stage {
        1 => "one at a time",
        2 => "thread pool of 4",
        3 => "await in accept loop",
        4 => "for_each_concurrent",
        _ => "task per connection",
    }
}

/// The binaries of the chosen stages: stages 1 and 2 have one each, stages 3 to 5 one per
/// chosen runtime.
pub fn select(stages: &[u8], runtimes: &[Runtime]) -> Vec<Binary> {
    let mut binaries = Vec::new();
    for &stage in stages {
        let package = format!("stage-{stage}");
        let one = |name: String, runtime: &'static str| Binary {
            stage,
            package: package.clone(),
            name,
            runtime,
            model: model(stage),
        };
        match stage {
            1 => binaries.push(one(package.clone(), "std")),
            2 => binaries.push(one(package.clone(), "threadpool")),
            _ => binaries.extend(
                runtimes
                    .iter()
                    .map(|runtime| one(runtime.binary(stage), runtime.name())),
            ),
        }
    }
    binaries
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

/// The lesson of `stage` in `scenario`, on a machine with `cores` cores.
pub fn lesson(stage: u8, scenario: Scenario, cores: usize) -> Lesson {
    use Lesson::*;
    let parallel_if_cores = if cores > 1 { ManyCores } else { OneCore };
    match (scenario, stage) {
        // One at a time (1) and awaiting each connection in the accept loop (3) always wait.
        // An idle client holds them as long as a slow request: until --read-timeout-ms.
        (Scenario::Slow | Scenario::BusyPool | Scenario::Blocking | Scenario::Idle, 1 | 3) => Wait,
        (Scenario::Slow, _) => NoWait,
        // The pool is full: the fast requests wait for a free worker.
        (Scenario::BusyPool, 2) => Wait,
        (Scenario::BusyPool, _) => NoWait,
        // A blocked thread blocks the one task that runs every connection.
        (Scenario::Blocking, 4) => Wait,
        // The other workers (2) or runtime threads (5) keep serving, given more than one core.
        (Scenario::Blocking, _) if cores > 1 => NoWait,
        (Scenario::Blocking, _) => Wait,
        (Scenario::Cpu, 2 | 5) => parallel_if_cores,
        (Scenario::Cpu, _) => OneCore,
        // The idle client holds one worker (2) or one task (4, 5), never a whole core.
        (Scenario::Idle, _) => NoWait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_runtimes_make_eleven_binaries() {
        let all = select(&STAGES, &Runtime::ALL);
        assert_eq!(all.len(), 11);
        let names: Vec<_> = all.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "stage-1",
                "stage-2",
                "stage-3",
                "stage-3-tokio",
                "stage-3-smol",
                "stage-4",
                "stage-4-tokio",
                "stage-4-smol",
                "stage-5",
                "stage-5-tokio",
                "stage-5-smol"
            ]
        );
        assert!(
            all.iter()
                .all(|b| b.package == format!("stage-{}", b.stage))
        );
    }

    #[test]
    fn default_binaries_are_one_per_stage() {
        let defaults = select(&STAGES, &[Runtime::AsyncStd]);
        assert_eq!(defaults.len(), 5);
        assert_eq!(defaults[2].runtime, "async-std");
    }

    #[test]
    fn the_lessons_of_the_issue() {
        let waits = |scenario| {
            STAGES
                .iter()
                .filter(|&&stage| lesson(stage, scenario, 2) == Lesson::Wait)
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(waits(Scenario::Slow), [1, 3]);
        assert_eq!(waits(Scenario::BusyPool), [1, 2, 3]);
        assert_eq!(waits(Scenario::Blocking), [1, 3, 4]);
        assert_eq!(waits(Scenario::Idle), [1, 3]);
        assert_eq!(lesson(2, Scenario::Idle, 1), Lesson::NoWait);
        assert_eq!(lesson(5, Scenario::Cpu, 2), Lesson::ManyCores);
        assert_eq!(lesson(4, Scenario::Cpu, 2), Lesson::OneCore);
        assert_eq!(lesson(5, Scenario::Cpu, 1), Lesson::OneCore);
    }
}
