//! What a workshop command works on: a step or a find-the-bug server, its names, its files
//! and its hints.

use std::path::{Path, PathBuf};

use workshop_course::{self as workshop, Bug, Grade, Step};

/// What a command works on: a step, or a find-the-bug server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exercise {
    Step(&'static Step),
    Bug(&'static Bug),
}

impl Exercise {
    /// `1` to `4` for a step, `bug-1` to `bug-11` for a bug.
    pub fn parse(word: &str) -> Result<Exercise, String> {
        let unknown = || {
            format!(
                "there is no step or bug {word:?}: the steps are 1 to {}, the bugs bug-1 to \
                 bug-{}",
                workshop::STEPS.len(),
                workshop::BUGS.len()
            )
        };
        match word.strip_prefix("bug-") {
            Some(number) => number
                .parse()
                .ok()
                .and_then(workshop::bug)
                .map(Exercise::Bug)
                .ok_or_else(unknown),
            None => word
                .parse()
                .ok()
                .and_then(workshop::step)
                .map(Exercise::Step)
                .ok_or_else(unknown),
        }
    }

    /// How the command line names it: `1`, `bug-7`.
    pub fn word(self) -> String {
        match self {
            Exercise::Step(step) => step.number.to_string(),
            Exercise::Bug(bug) => bug.name(),
        }
    }

    /// How a sentence names it: "step 1", "bug-7".
    pub(super) fn label(self) -> String {
        match self {
            Exercise::Step(step) => format!("step {}", step.number),
            Exercise::Bug(bug) => bug.name(),
        }
    }

    /// How a sentence starts with it: "Step 1", "bug-7" (a name, as typed).
    pub(super) fn sentence_label(self) -> String {
        match self {
            Exercise::Step(step) => format!("Step {}", step.number),
            Exercise::Bug(bug) => bug.name(),
        }
    }

    /// The starting point, relative to the workspace root.
    pub(super) fn starting_point(self) -> String {
        match self {
            Exercise::Step(step) => step.exercise.to_string(),
            Exercise::Bug(bug) => bug.source(),
        }
    }

    /// The binary cargo builds from the student's file.
    pub(super) fn bin_name(self) -> String {
        match self {
            Exercise::Step(step) => step.bin_name(),
            Exercise::Bug(bug) => bug.bin_name(),
        }
    }

    /// The real stage's file.
    pub(super) fn solution(self) -> &'static str {
        match self {
            Exercise::Step(step) => step.solution(),
            Exercise::Bug(bug) => bug.solution(),
        }
    }

    pub(super) fn hints(self) -> &'static [&'static str] {
        match self {
            Exercise::Step(step) => step.hints,
            Exercise::Bug(bug) => bug.hints,
        }
    }

    pub(super) fn grade(self, bin: &Path) -> Grade {
        match self {
            Exercise::Step(step) => workshop::grade(step, bin),
            Exercise::Bug(bug) => workshop::grade_bug(bug, bin),
        }
    }

    /// The stage it is measured against: "stage 2", or a bug's binary, "stage-5-tokio".
    pub(super) fn measured_as(self) -> String {
        match self {
            Exercise::Step(step) => format!("stage {}", step.to),
            Exercise::Bug(bug) => bug.from().name.to_string(),
        }
    }

    /// What passing is called: a step passes, a bug is fixed.
    pub(super) fn passed_word(self) -> &'static str {
        match self {
            Exercise::Step(_) => "passed",
            Exercise::Bug(_) => "fixed",
        }
    }
}

/// The student's file for a step or a bug, relative to the workspace root: a bin of the
/// workshop package by autobins (git-ignored).
pub fn student_file(exercise: Exercise) -> PathBuf {
    PathBuf::from(format!(
        "crates/workshop/src/bin/{}.rs",
        exercise.bin_name()
    ))
}
