//! `cargo xtask workshop`: the guided exercises, one per step from stage to stage, and the
//! find-the-bug servers.
//!
//! `start N` copies a step's starting point (`crates/workshop/exercises/step-N.rs`, the
//! previous stage with the step left as TODOs) to the student's own file,
//! `crates/workshop/src/bin/step-N.rs`, which cargo builds as the binary `step-N`; `start
//! bug-N` copies a bug (`crates/workshop/bugs/bug-N.rs`) to `crates/workshop/src/bin/my-bug-N.rs`,
//! the binary `my-bug-N`. `check` builds that binary and grades it by measurement
//! (`workshop_course`), `hint` gives the next hint, `solution` shows the diff to the real
//! stage once `check` has passed, `reset` puts the starting point back, and `watch` checks
//! again at every save. What was started, passed and how many hints were shown is kept in
//! `crates/workshop/progress.json`, which git ignores.

mod check;
mod exercise;
mod hints;
mod progress_store;
mod reset;
mod start;
#[cfg(test)]
mod tests;
mod watch;

use std::ffi::OsString;
use std::io;
use std::path::Path;

use std::process::ExitCode;
use workshop_course as workshop;

use crate::style::{Color, Style};

use check::{CheckOutcome, check};
pub use exercise::{Exercise, student_file};
use hints::{hint, solution};
use progress_store::ProgressStore;
use reset::reset;
use start::start;
use watch::watch;

pub const WORKSHOP_HELP: &str = "\
Usage: cargo xtask workshop <COMMAND> [STEP | bug-N]

Guided exercises: you write each next stage yourself. STEP is the step's number:
  1  stage 1 -> 2  a pool of worker threads
  2  stage 2 -> 3  async, and still one at a time
  3  stage 3 -> 4  concurrent connections on one task
  4  stage 4 -> 5  a task per connection, on many threads
Find the bug: bug-1 to bug-11 are real stages with one mistake each; fix them.

Commands:
  list                 the steps and the bugs, and which you started, passed and fixed
  start STEP|bug-N     copy the starting point to your file (never overwritten):
                       crates/workshop/src/bin/step-N.rs, run with
                       `cargo run -p workshop --bin step-N`, or for a bug
                       crates/workshop/src/bin/my-bug-N.rs, run with `--bin my-bug-N`
  check [STEP|bug-N]   build your file and measure it: a step passes when it behaves like
                       the next stage, a bug is fixed when it behaves like its stage;
                       with nothing named, the one you started last
  watch [STEP|bug-N]   check, then check again every time you save your file (Ctrl-C ends)
  hint STEP|bug-N      the next hint, from what you see to why
  solution STEP|bug-N  the diff from your file to the real stage; after its check passed, or
                       with --force
  reset STEP|bug-N     put the starting point back in your file, after asking (--yes: do not
                       ask); your file is kept beside it as .rs.old
";

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    List,
    Start(Exercise),
    /// `None`: the one started last.
    Check(Option<Exercise>),
    Hint(Exercise),
    Solution {
        exercise: Exercise,
        force: bool,
    },
    Reset {
        exercise: Exercise,
        yes: bool,
    },
    Watch {
        exercise: Option<Exercise>,
        /// Stop after this many checks (hidden: for the tests).
        rounds: Option<usize>,
    },
}

/// Parses the command line; `Ok(None)` means `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Action>, String> {
    use lexopt::prelude::*;

    let mut words = Vec::new();
    let mut force = false;
    let mut yes = false;
    let mut rounds = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("force") => force = true,
            Short('y') | Long("yes") => yes = true,
            Long("rounds") => {
                let value = parser.value().map_err(|err| err.to_string())?;
                let text = value.to_string_lossy();
                let count = text
                    .parse::<usize>()
                    .ok()
                    .filter(|&count| count > 0)
                    .ok_or_else(|| format!("--rounds wants a count of 1 or more, not {text:?}"))?;
                rounds = Some(count);
            }
            Short('h') | Long("help") => return Ok(None),
            Value(value) => words.push(value.to_string_lossy().into_owned()),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    let named = |word: Option<&String>| -> Result<Exercise, String> {
        let word =
            word.ok_or("which step or bug? give a step's number, 1 to 4, or bug-1 to bug-11")?;
        Exercise::parse(word)
    };
    let maybe_named = |word: Option<&String>| word.map(|word| Exercise::parse(word)).transpose();
    let action = match words.first().map(String::as_str) {
        None => return Ok(None),
        Some("list") => Action::List,
        Some("start") => Action::Start(named(words.get(1))?),
        Some("check") => Action::Check(maybe_named(words.get(1))?),
        Some("hint") => Action::Hint(named(words.get(1))?),
        Some("solution") => Action::Solution {
            exercise: named(words.get(1))?,
            force,
        },
        Some("reset") => Action::Reset {
            exercise: named(words.get(1))?,
            yes,
        },
        Some("watch") => Action::Watch {
            exercise: maybe_named(words.get(1))?,
            rounds,
        },
        Some(other) => {
            return Err(format!(
                "unknown workshop command {other:?}: list, start, check, watch, hint, solution \
                 or reset"
            ));
        }
    };
    let most_words = if action == Action::List { 1 } else { 2 };
    if let Some(extra) = words.get(most_words) {
        return Err(format!("one step or bug at a time: what is {extra:?}?"));
    }
    if force && !matches!(action, Action::Solution { .. }) {
        return Err("--force only goes with solution".into());
    }
    if yes && !matches!(action, Action::Reset { .. }) {
        return Err("--yes only goes with reset".into());
    }
    if rounds.is_some() && !matches!(action, Action::Watch { .. }) {
        return Err("--rounds only goes with watch".into());
    }
    Ok(Some(action))
}

pub fn run(action: Action, root: &Path) -> ExitCode {
    let style = Style::for_stdout();
    let current =
        |named: Option<Exercise>| match named.or_else(|| ProgressStore::load(root).started()) {
            Some(exercise) => Ok(exercise),
            None => {
                eprintln!(
                    "error: nothing is started yet, so there is nothing to check. Start a step \
                 or a bug first: `cargo xtask workshop start 1` (or `start bug-1`)."
                );
                Err(ExitCode::FAILURE)
            }
        };
    match action {
        Action::List => list(root, style),
        Action::Start(exercise) => start(exercise, root),
        Action::Check(named) => match current(named) {
            Ok(exercise) => match check(exercise, root, style) {
                CheckOutcome::Passed => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            },
            Err(code) => code,
        },
        Action::Hint(exercise) => hint(exercise, root),
        Action::Solution { exercise, force } => solution(exercise, force, root, style),
        Action::Reset { exercise, yes } => reset(exercise, yes, root, &mut io::stdin().lock()),
        Action::Watch { exercise, rounds } => match current(exercise) {
            Ok(exercise) => watch(exercise, rounds, root, style),
            Err(code) => code,
        },
    }
}

fn list(root: &Path, style: Style) -> ExitCode {
    let progress = ProgressStore::load(root);
    let status = |exercise: Exercise| {
        let status = if progress.passed(exercise) {
            style.paint(Color::Green, exercise.passed_word())
        } else if root.join(student_file(exercise)).exists() {
            style.paint(Color::Yellow, "started")
        } else {
            "not started".to_string()
        };
        let hints = match progress.hints_shown(exercise) {
            0 => String::new(),
            1 => ", 1 hint".to_string(),
            n => format!(", {n} hints"),
        };
        format!("{status}{hints}")
    };
    println!("step    stages  what                                    status");
    for step in &workshop::STEPS {
        println!(
            "{:<7} {} -> {}  {:<40}{}",
            step.number,
            step.from,
            step.to,
            step.title,
            status(Exercise::Step(step))
        );
    }
    println!("\nbug     from                  what                                    status");
    for bug in &workshop::BUGS {
        let from = format!("stage {} ({})", bug.stage, bug.runtime);
        println!(
            "{:<7} {from:<21} {:<40}{}",
            bug.name(),
            bug.title,
            status(Exercise::Bug(bug))
        );
    }
    let next = workshop::STEPS
        .iter()
        .map(Exercise::Step)
        .find(|&step| !progress.passed(step));
    match next {
        Some(step) if root.join(student_file(step)).exists() => println!(
            "\nNext: finish {} in {}, then `cargo xtask workshop check {}`.",
            step.label(),
            student_file(step).display(),
            step.word()
        ),
        Some(step) => println!("\nNext: `cargo xtask workshop start {}`.", step.word()),
        None => println!(
            "\nEvery step passed: you wrote stages 2 to 5 yourself. Now find the bugs: \
             `cargo xtask workshop start bug-1`."
        ),
    }
    ExitCode::SUCCESS
}
