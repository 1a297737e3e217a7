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

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use workshop_course::{self as workshop, Bug, Finding, Grade, Mark, Seen, Step};

use crate::check::report;

use crate::style::{Color, Style};

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
    fn label(self) -> String {
        match self {
            Exercise::Step(step) => format!("step {}", step.number),
            Exercise::Bug(bug) => bug.name(),
        }
    }

    /// How a sentence starts with it: "Step 1", "bug-7" (a name, as typed).
    fn sentence_label(self) -> String {
        match self {
            Exercise::Step(step) => format!("Step {}", step.number),
            Exercise::Bug(bug) => bug.name(),
        }
    }

    /// The starting point, relative to the workspace root.
    fn starting_point(self) -> String {
        match self {
            Exercise::Step(step) => step.exercise.to_string(),
            Exercise::Bug(bug) => bug.source(),
        }
    }

    /// The binary cargo builds from the student's file.
    fn bin_name(self) -> String {
        match self {
            Exercise::Step(step) => step.bin_name(),
            Exercise::Bug(bug) => bug.bin_name(),
        }
    }

    /// The real stage's file.
    fn solution(self) -> &'static str {
        match self {
            Exercise::Step(step) => step.solution(),
            Exercise::Bug(bug) => bug.solution(),
        }
    }

    fn hints(self) -> &'static [&'static str] {
        match self {
            Exercise::Step(step) => step.hints,
            Exercise::Bug(bug) => bug.hints,
        }
    }

    fn grade(self, bin: &Path) -> Grade {
        match self {
            Exercise::Step(step) => workshop::grade(step, bin),
            Exercise::Bug(bug) => workshop::grade_bug(bug, bin),
        }
    }

    /// The stage it is measured against: "stage 2", or a bug's binary, "stage-5-tokio".
    fn measured_as(self) -> String {
        match self {
            Exercise::Step(step) => format!("stage {}", step.to),
            Exercise::Bug(bug) => bug.from().name.to_string(),
        }
    }

    /// What passing is called: a step passes, a bug is fixed.
    fn passed_word(self) -> &'static str {
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

const PROGRESS_FILE: &str = "crates/workshop/progress.json";

/// What is remembered between commands: per step and per bug, `passed` and `hints` shown;
/// and which was `started` last, for `check` and `watch` with nothing named.
struct Progress {
    path: PathBuf,
    steps: Map<String, Value>,
    bugs: Map<String, Value>,
    started: Option<String>,
}

impl Progress {
    fn load(root: &Path) -> Progress {
        let path = root.join(PROGRESS_FILE);
        let value = fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .unwrap_or_default();
        let map = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Progress {
            steps: map("steps"),
            bugs: map("bugs"),
            started: value
                .get("started")
                .and_then(Value::as_str)
                .map(String::from),
            path,
        }
    }

    /// The map and the key an exercise's entry is kept under.
    fn place(&self, exercise: Exercise) -> (&Map<String, Value>, String) {
        match exercise {
            Exercise::Step(step) => (&self.steps, step.number.to_string()),
            Exercise::Bug(bug) => (&self.bugs, bug.number.to_string()),
        }
    }

    fn passed(&self, exercise: Exercise) -> bool {
        self.entry(exercise, "passed").as_bool().unwrap_or(false)
    }

    fn hints_shown(&self, exercise: Exercise) -> usize {
        self.entry(exercise, "hints").as_u64().unwrap_or(0) as usize
    }

    fn entry(&self, exercise: Exercise, key: &str) -> &Value {
        let (map, name) = self.place(exercise);
        map.get(&name)
            .and_then(|entry| entry.get(key))
            .unwrap_or(&Value::Null)
    }

    fn set(&mut self, exercise: Exercise, key: &str, value: Value) {
        let (map, name) = match exercise {
            Exercise::Step(step) => (&mut self.steps, step.number.to_string()),
            Exercise::Bug(bug) => (&mut self.bugs, bug.number.to_string()),
        };
        let entry = map.entry(name).or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(key.to_string(), value);
        }
    }

    /// The step or bug started last, if it is still one.
    fn started(&self) -> Option<Exercise> {
        self.started
            .as_deref()
            .and_then(|word| Exercise::parse(word).ok())
    }

    fn set_started(&mut self, exercise: Exercise) {
        self.started = Some(exercise.word());
    }

    /// Saves; a failure only costs the memory of progress, so it is reported, not fatal.
    fn save(&self) {
        let mut value = json!({ "steps": self.steps, "bugs": self.bugs });
        if let (Some(started), Some(object)) = (&self.started, value.as_object_mut()) {
            object.insert("started".into(), json!(started));
        }
        let text = value.to_string() + "\n";
        if let Err(err) = fs::write(&self.path, text) {
            eprintln!(
                "(could not save your progress to {}: {err})",
                self.path.display()
            );
        }
    }
}

pub fn run(action: Action, root: &Path) -> ExitCode {
    let style = Style::for_stdout();
    let current = |named: Option<Exercise>| match named.or_else(|| Progress::load(root).started()) {
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
                Outcome::Passed => ExitCode::SUCCESS,
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
    let progress = Progress::load(root);
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

/// Copies the starting point to the student's file, which must not exist yet.
fn copy_starting_point(exercise: Exercise, root: &Path) -> Result<(), String> {
    let mine = student_file(exercise);
    let target = root.join(&mine);
    target
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::copy(root.join(exercise.starting_point()), &target))
        .map(|_| ())
        .map_err(|err| {
            format!(
                "could not copy {} to {}: {err}",
                exercise.starting_point(),
                mine.display()
            )
        })
}

fn start(exercise: Exercise, root: &Path) -> ExitCode {
    let mine = student_file(exercise);
    let word = exercise.word();
    let mut progress = Progress::load(root);
    if root.join(&mine).exists() {
        println!(
            "{} is already started: your file is {} (left as it is).\n\
             To start over: `cargo xtask workshop reset {word}`.",
            exercise.sentence_label(),
            mine.display()
        );
        progress.set_started(exercise);
        progress.save();
        return ExitCode::SUCCESS;
    }
    if let Err(err) = copy_starting_point(exercise, root) {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    progress.set_started(exercise);
    progress.save();
    let bin = exercise.bin_name();
    match exercise {
        Exercise::Step(step) => println!(
            "Step {word}: stage {} -> stage {}, {}.\n\n\
             Your file: {}\n\
             It is stage {} with the step left as TODOs; it runs as it is.\n",
            step.from,
            step.to,
            step.title,
            mine.display(),
            step.from
        ),
        Exercise::Bug(bug) => {
            let from = bug.from();
            println!(
                "{word}: {}.\n\n\
                 Your file: {}\n\
                 It is {} ({}) with one mistake in it.\n\
                 It should behave like that stage: {}.\n\n\
                 What its users see: {}\n",
                bug.title,
                mine.display(),
                from.name,
                from.source,
                workshop::bugs::intended_words(bug.intended()),
                bug.symptom
            );
        }
    }
    let flags = match exercise {
        Exercise::Bug(bug) if !bug.flags.is_empty() => format!(" -- {}", bug.flags.join(" ")),
        _ => String::new(),
    };
    println!(
        "Run it:    cargo run -p workshop --bin {bin}{flags}\n\
         Check it:  cargo xtask workshop check {word}   (or `watch {word}`: at every save)\n\
         Stuck:     cargo xtask workshop hint {word}"
    );
    ExitCode::SUCCESS
}

fn hint(exercise: Exercise, root: &Path) -> ExitCode {
    let mut progress = Progress::load(root);
    let shown = progress.hints_shown(exercise);
    let hints = exercise.hints();
    let total = hints.len();
    let next = shown.min(total - 1);
    let word = exercise.word();
    println!("Hint {} of {total} for {}:", next + 1, exercise.label());
    println!("  {}", hints[next]);
    if next + 1 < total {
        println!("(`cargo xtask workshop hint {word}` again for the next one)");
    } else {
        println!(
            "(that was the last; `cargo xtask workshop solution {word} --force` shows the answer)"
        );
    }
    progress.set(exercise, "hints", json!(next + 1));
    progress.save();
    ExitCode::SUCCESS
}

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    NotYet,
    DidNotBuild,
    NotStarted,
}

/// Builds the student's file and grades it, printing what was measured; records a pass.
fn check(exercise: Exercise, root: &Path, style: Style) -> Outcome {
    let mine = student_file(exercise);
    let word = exercise.word();
    let label = exercise.label();
    if !root.join(&mine).exists() {
        eprintln!(
            "error: {label} is not started: there is no {}. Run `cargo xtask workshop start \
             {word}` first.",
            mine.display()
        );
        return Outcome::NotStarted;
    }
    println!("Building {} (release) ...", mine.display());
    let bin = match build(root, exercise) {
        Ok(bin) => bin,
        Err(err) => {
            eprintln!("{err}");
            return Outcome::DidNotBuild;
        }
    };
    println!(
        "Measuring it as {} should behave (this takes some seconds) ...\n",
        exercise.measured_as()
    );
    let grade = exercise.grade(&bin);
    for finding in &grade.findings {
        print!("{}", render_finding(finding, style));
    }
    let mut progress = Progress::load(root);
    match (&grade.diagnosis, exercise) {
        (None, Exercise::Step(step)) => {
            let n = step.number;
            println!(
                "\n{} Your server behaves like stage {}.",
                style.paint(Color::Green, &format!("Step {n} passed.")),
                step.to
            );
            if n == 2 {
                println!(
                    "From outside it looks exactly like stage 1: async alone is not \
                     concurrency. That is this step's lesson."
                );
            }
            println!(
                "Compare with the real stage: `cargo xtask workshop solution {n}`.{}",
                match workshop::step(n + 1) {
                    Some(next) => format!(" Next: `cargo xtask workshop start {}`.", next.number),
                    None => " That was the last step: now find the bugs, `cargo xtask workshop \
                             start bug-1`."
                        .to_string(),
                }
            );
        }
        (None, Exercise::Bug(_)) if not_checked(&grade) => {
            println!(
                "\n{} Nothing wrong was measured, but what finds this bug could not be \
                 measured on this OS (\"not checked\" above): try it by hand, as its page in \
                 the book says.",
                style.paint(Color::Yellow, &format!("{word}: cannot tell here."))
            );
            return Outcome::NotYet;
        }
        (None, Exercise::Bug(bug)) => {
            println!(
                "\n{} It behaves like {}: {}.",
                style.paint(Color::Green, &format!("{word} fixed.")),
                exercise.measured_as(),
                workshop::bugs::intended_words(bug.intended())
            );
            println!(
                "Compare with the real stage: `cargo xtask workshop solution {word}`.{}",
                match workshop::bug(bug.number + 1) {
                    Some(next) => format!(" Next: `cargo xtask workshop start {}`.", next.name()),
                    None => " That was the last bug.".to_string(),
                }
            );
        }
        (Some((_, hint)), Exercise::Step(_)) => {
            println!(
                "\n{} Hint: {hint}",
                style.paint(Color::Red, &format!("Step {word} not passed yet."))
            );
            println!(
                "More hints: `cargo xtask workshop hint {word}`. The full measurements: \
                 `cargo xtask check --bin {}`.",
                bin.display()
            );
        }
        (Some((_, symptom)), Exercise::Bug(_)) => {
            println!(
                "\n{} {symptom}",
                style.paint(Color::Red, &format!("{word} not fixed yet."))
            );
            println!(
                "From this symptom to its cause: `cargo xtask workshop hint {word}`, one step \
                 at a time."
            );
        }
    }
    if grade.passed() {
        progress.set(exercise, "passed", json!(true));
        progress.save();
        Outcome::Passed
    } else {
        Outcome::NotYet
    }
}

/// Whether a finding could not be measured here (no signals, no /proc).
fn not_checked(grade: &Grade) -> bool {
    grade
        .findings
        .iter()
        .any(|finding| finding.mark == Mark::NotChecked)
}

/// One finding: its mark and what it is, then what was measured, a line each.
fn render_finding(finding: &Finding, style: Style) -> String {
    let mark = match finding.mark {
        Mark::Pass => style.paint(Color::Green, "pass"),
        Mark::Fail => style.paint(Color::Red, "FAIL"),
        Mark::NotChecked => style.paint(Color::Yellow, "not checked"),
    };
    let lines = match &finding.seen {
        Seen::Measured { model, cpu } => {
            let mut lines = vec![report::model_name(model, cpu)];
            lines.extend(report::evidence(model, cpu));
            lines
        }
        Seen::Compared {
            intended,
            model,
            cpu,
        } => {
            let mut lines = vec![
                format!("intended: {}", workshop::bugs::intended_words(*intended)),
                format!("measured: {}", report::model_name(model, cpu)),
            ];
            lines.extend(report::evidence(model, cpu));
            lines
        }
        Seen::BrokenContract(points) => points
            .iter()
            .map(|point| match &point.outcome {
                Ok(seen) => format!("{}: {seen}", point.what),
                Err(problem) => format!("{}: {problem}", point.what),
            })
            .collect(),
        Seen::Words(words) => vec![words.clone()],
    };
    let mut text = format!("{mark}  {}\n", finding.what);
    for line in lines {
        text.push_str(&format!("      {line}\n"));
    }
    text
}

/// Builds the student's binary in release mode, showing cargo's own messages (compiler
/// errors included, in full), and returns the executable cargo names.
fn build(root: &Path, exercise: Exercise) -> Result<PathBuf, String> {
    let manifest = root.join("Cargo.toml");
    crate::cargo::build_one_showing_errors(&manifest, "workshop", &exercise.bin_name())
        .map_err(|err| format!("\nYour file does not build yet: nothing was measured.\n{err}"))
}

fn solution(exercise: Exercise, force: bool, root: &Path, style: Style) -> ExitCode {
    let word = exercise.word();
    let progress = Progress::load(root);
    if !progress.passed(exercise) && !force {
        eprintln!(
            "{} has not passed its check yet, so the solution stays hidden: try \
             `cargo xtask workshop check {word}` and `cargo xtask workshop hint {word}` first.\n\
             To see it anyway: `cargo xtask workshop solution {word} --force`.",
            exercise.sentence_label()
        );
        return ExitCode::FAILURE;
    }
    let mine = student_file(exercise);
    let starting_point = exercise.starting_point();
    let (from_name, from_text) = match fs::read_to_string(root.join(&mine)) {
        Ok(text) => (mine.display().to_string(), text),
        // Not started: compare the starting point instead.
        Err(_) => match fs::read_to_string(root.join(&starting_point)) {
            Ok(text) => (starting_point, text),
            Err(err) => {
                eprintln!("error: cannot read {starting_point}: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let solution_file = exercise.solution();
    let solution_text = match fs::read_to_string(root.join(solution_file)) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read {solution_file}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The code only, as `cargo xtask diff` shows it: the comments of a starting point and
    // of a stage explain different things, and would bury the few lines that matter.
    // Nor the name and description the program gives `Config::from_args` (a bug has its own).
    let code = |text: &str| {
        without_program_name(&crate::diff::code_lines(text, false)).replace("\n\n\n", "\n\n")
    };
    let diff = crate::diff::unified(
        &code(&from_text),
        &code(&solution_text),
        &from_name,
        solution_file,
        style,
    );
    let stage = exercise.measured_as();
    if diff.is_empty() {
        println!(
            "Your code is the real {stage}'s, line for line (comments and the program's name \
             aside)."
        );
    } else {
        print!("{diff}");
        println!(
            "\n(- your file, + the real {stage}, comments and the program's name left out. \
             Different code that passes the check is a right answer too.)"
        );
    }
    println!("The real stage's comments say why each line is there: {solution_file}");
    ExitCode::SUCCESS
}

/// `text` without the string arguments of `Config::from_args(..)`: the program's name and
/// description, one a line as rustfmt writes them.
fn without_program_name(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut in_from_args = false;
    for line in text.lines() {
        let code = line.trim();
        if in_from_args && code.starts_with('"') {
            continue;
        }
        in_from_args = code.ends_with("Config::from_args(") || (in_from_args && code != ");");
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// The student's file kept aside by `reset`: `step-1.rs.old`.
fn old_file(mine: &Path) -> PathBuf {
    let mut name = mine.as_os_str().to_owned();
    name.push(".old");
    PathBuf::from(name)
}

/// Puts the starting point back in the student's file, after asking on `answers` (unless
/// `yes`); the file is kept as `.rs.old` first.
fn reset(exercise: Exercise, yes: bool, root: &Path, answers: &mut dyn BufRead) -> ExitCode {
    let mine = student_file(exercise);
    let target = root.join(&mine);
    if !target.exists() {
        println!(
            "{} was not started: there is nothing to reset.",
            exercise.sentence_label()
        );
        return start(exercise, root);
    }
    let old = old_file(&mine);
    if !yes {
        print!(
            "Put the starting point of {} back in {}? Your file is kept as {}{}. [y/N] ",
            exercise.label(),
            mine.display(),
            old.display(),
            if root.join(&old).exists() {
                " (replacing the one there)"
            } else {
                ""
            }
        );
        let _ = io::stdout().flush();
        let mut answer = String::new();
        let answered = answers.read_line(&mut answer).is_ok_and(|read| read > 0);
        if !answered {
            println!();
        }
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing changed: your file is as it was.");
            return ExitCode::SUCCESS;
        }
    }
    if let Err(err) = fs::rename(&target, root.join(&old)) {
        eprintln!(
            "error: could not keep your file as {}: {err}. Nothing changed.",
            old.display()
        );
        return ExitCode::FAILURE;
    }
    if let Err(err) = copy_starting_point(exercise, root) {
        eprintln!("error: {err}; your file is {}", old.display());
        return ExitCode::FAILURE;
    }
    let mut progress = Progress::load(root);
    progress.set_started(exercise);
    progress.save();
    println!(
        "{} is back at its starting point ({}). Your file was kept as {}.",
        mine.display(),
        exercise.starting_point(),
        old.display()
    );
    ExitCode::SUCCESS
}

/// How often `watch` looks at the file's time.
const WATCH_POLL: Duration = Duration::from_millis(300);

fn watch(exercise: Exercise, rounds: Option<usize>, root: &Path, style: Style) -> ExitCode {
    let mine = student_file(exercise);
    let word = exercise.word();
    if !root.join(&mine).exists() {
        eprintln!(
            "error: {} is not started: there is no {}. Run `cargo xtask workshop start \
             {word}` first.",
            exercise.label(),
            mine.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "Watching {}: it is built and checked now, and again every time you save it. Ctrl-C \
         ends.\n",
        mine.display()
    );
    let last = watch_loop(
        &root.join(&mine),
        rounds,
        WATCH_POLL,
        || check(exercise, root, style),
        |round, outcome| {
            let verdict = match outcome {
                Outcome::Passed => style.paint(Color::Green, exercise.passed_word()),
                Outcome::NotYet => {
                    style.paint(Color::Red, &format!("not {} yet", exercise.passed_word()))
                }
                Outcome::DidNotBuild => style.paint(Color::Red, "does not build"),
                Outcome::NotStarted => style.paint(Color::Red, "no file"),
            };
            println!("\n[watch, check {round}] {}: {verdict}.", exercise.label());
        },
    );
    match last {
        Some(Outcome::Passed) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// What tells a save: the file's modification time and length (a coarse clock can miss a
/// time change, rarely both).
fn saved_stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let metadata = fs::metadata(file).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Runs `check` at once, then again each time `file` is saved (its stamp changes, looked at
/// every `poll`), telling `report` each outcome; stops after `rounds` checks if given, else
/// never (Ctrl-C ends the process). Returns the last outcome.
fn watch_loop(
    file: &Path,
    rounds: Option<usize>,
    poll: Duration,
    mut check: impl FnMut() -> Outcome,
    mut report: impl FnMut(usize, Outcome),
) -> Option<Outcome> {
    let mut last = None;
    for round in 1.. {
        // The stamp before the check: a save while it builds or measures starts another.
        let checked = saved_stamp(file);
        let outcome = check();
        report(round, outcome);
        last = Some(outcome);
        if rounds.is_some_and(|rounds| round >= rounds) {
            break;
        }
        let name = file
            .file_name()
            .unwrap_or(file.as_os_str())
            .to_string_lossy();
        println!("Waiting for you to save {name} ... (Ctrl-C ends)");
        while saved_stamp(file) == checked {
            std::thread::sleep(poll);
        }
        println!("\n{name} changed: checking again.\n");
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Option<Action>, String> {
        parse(words.split_whitespace().map(OsString::from))
    }

    fn step(number: u8) -> Exercise {
        Exercise::Step(workshop::step(number).expect("steps 1 to 4 exist"))
    }

    fn bug(number: u8) -> Exercise {
        Exercise::Bug(workshop::bug(number).expect("bugs 1 to 11 exist"))
    }

    /// A folder of its own under the temporary one, empty.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("workshop-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    }

    #[test]
    fn commands_and_steps() {
        assert_eq!(parse_words("list"), Ok(Some(Action::List)));
        assert_eq!(parse_words("start 1"), Ok(Some(Action::Start(step(1)))));
        assert_eq!(
            parse_words("check 4"),
            Ok(Some(Action::Check(Some(step(4)))))
        );
        assert_eq!(
            parse_words("solution 2 --force"),
            Ok(Some(Action::Solution {
                exercise: step(2),
                force: true
            }))
        );
        assert_eq!(parse_words(""), Ok(None));
        assert_eq!(parse_words("watch --help"), Ok(None));
    }

    #[test]
    fn the_commands_take_bugs_too() {
        assert_eq!(parse_words("start bug-7"), Ok(Some(Action::Start(bug(7)))));
        assert_eq!(
            parse_words("check bug-10"),
            Ok(Some(Action::Check(Some(bug(10)))))
        );
        assert_eq!(parse_words("hint bug-1"), Ok(Some(Action::Hint(bug(1)))));
        assert_eq!(
            parse_words("solution bug-3"),
            Ok(Some(Action::Solution {
                exercise: bug(3),
                force: false
            }))
        );
        assert_eq!(bug(7).word(), "bug-7");
        assert_eq!(
            student_file(bug(7)),
            Path::new("crates/workshop/src/bin/my-bug-7.rs")
        );
        assert_eq!(
            student_file(step(1)),
            Path::new("crates/workshop/src/bin/step-1.rs")
        );
    }

    #[test]
    fn check_and_watch_without_a_name_mean_the_one_started_last() {
        assert_eq!(parse_words("check"), Ok(Some(Action::Check(None))));
        assert_eq!(
            parse_words("watch"),
            Ok(Some(Action::Watch {
                exercise: None,
                rounds: None
            }))
        );
        assert_eq!(
            parse_words("watch 1 --rounds 2"),
            Ok(Some(Action::Watch {
                exercise: Some(step(1)),
                rounds: Some(2)
            }))
        );
    }

    #[test]
    fn reset_asks_unless_told_yes() {
        assert_eq!(
            parse_words("reset 3"),
            Ok(Some(Action::Reset {
                exercise: step(3),
                yes: false
            }))
        );
        assert_eq!(
            parse_words("reset bug-2 --yes"),
            Ok(Some(Action::Reset {
                exercise: bug(2),
                yes: true
            }))
        );
        assert_eq!(
            parse_words("reset -y 1"),
            Ok(Some(Action::Reset {
                exercise: step(1),
                yes: true
            }))
        );
    }

    #[test]
    fn bad_words_are_explained() {
        let err = |words: &str| parse_words(words).expect_err(words);
        assert!(err("start 5").contains("1 to 4"), "{}", err("start 5"));
        assert!(err("start bug-12").contains("bug-1 to bug-11"));
        assert!(err("start bug-x").contains("no step or bug"));
        assert!(err("start").contains("which step or bug"));
        assert!(err("reset").contains("which step or bug"));
        assert!(err("hint 1 --force").contains("--force"));
        assert!(err("check 1 --yes").contains("--yes only goes with reset"));
        assert!(err("check 1 --rounds 2").contains("--rounds only goes with watch"));
        assert!(err("watch 1 --rounds 0").contains("1 or more"));
        assert!(err("watch 1 --rounds").contains("rounds"));
        assert!(err("check 1 2").contains("one step or bug at a time"));
        assert!(err("begin 1").contains("unknown"));
    }

    #[test]
    fn progress_survives_a_save_and_a_load() {
        let dir = scratch("progress");
        let file = dir.join(PROGRESS_FILE);
        fs::create_dir_all(file.parent().expect("a parent")).expect("a temporary folder");
        let mut progress = Progress::load(&dir);
        assert!(!progress.passed(step(2)));
        assert_eq!(progress.started(), None);
        progress.set(step(2), "passed", json!(true));
        progress.set(step(2), "hints", json!(2));
        progress.set(bug(2), "hints", json!(1));
        progress.set_started(bug(7));
        progress.save();
        let again = Progress::load(&dir);
        assert!(again.passed(step(2)));
        assert!(!again.passed(bug(2)), "step 2 and bug 2 are apart");
        assert_eq!(again.hints_shown(step(2)), 2);
        assert_eq!(again.hints_shown(bug(2)), 1);
        assert_eq!(again.started(), Some(bug(7)));
        let _ = fs::remove_dir_all(&dir);
    }

    /// A workspace root with just the starting point of `exercise` in it.
    fn root_with_starting_point(name: &str, exercise: Exercise) -> PathBuf {
        let root = scratch(name);
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(exercise.starting_point());
        let copy = root.join(exercise.starting_point());
        fs::create_dir_all(copy.parent().expect("a parent")).expect("a folder");
        fs::copy(source, copy).expect("the starting point copied");
        fs::create_dir_all(root.join("crates/workshop")).expect("a folder");
        root
    }

    #[test]
    fn start_copies_once_and_reset_keeps_the_old_file() {
        let exercise = bug(7);
        let root = root_with_starting_point("reset", exercise);
        let mine = root.join(student_file(exercise));
        let original = fs::read_to_string(root.join(exercise.starting_point())).expect("bug-7");
        assert_eq!(start(exercise, &root), ExitCode::SUCCESS);
        assert_eq!(fs::read_to_string(&mine).expect("my-bug-7.rs"), original);
        assert_eq!(Progress::load(&root).started(), Some(exercise));

        fs::write(&mine, "// my fix\n").expect("an edit");
        assert_eq!(start(exercise, &root), ExitCode::SUCCESS);
        assert_eq!(
            fs::read_to_string(&mine).expect("mine"),
            "// my fix\n",
            "never overwritten"
        );

        // "n", or no answer at all, changes nothing.
        for answer in ["n\n", ""] {
            let code = reset(exercise, false, &root, &mut answer.as_bytes());
            assert_eq!(code, ExitCode::SUCCESS);
            assert_eq!(fs::read_to_string(&mine).expect("mine"), "// my fix\n");
        }
        let code = reset(exercise, false, &root, &mut "y\n".as_bytes());
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(fs::read_to_string(&mine).expect("mine"), original);
        let old = root.join("crates/workshop/src/bin/my-bug-7.rs.old");
        assert_eq!(
            fs::read_to_string(&old).expect("the .rs.old"),
            "// my fix\n"
        );

        // --yes does not read an answer.
        fs::write(&mine, "// again\n").expect("an edit");
        let code = reset(exercise, true, &root, &mut "".as_bytes());
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(fs::read_to_string(&mine).expect("mine"), original);
        assert_eq!(fs::read_to_string(&old).expect("the .rs.old"), "// again\n");
        let _ = fs::remove_dir_all(&root);
    }

    /// The file a student edits, in Cargo.toml's terms: autobins makes every file in
    /// `crates/workshop/src/bin/` a bin, and git ignores them all.
    #[test]
    fn the_students_files_are_bins_that_git_ignores() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let gitignore = fs::read_to_string(root.join(".gitignore")).expect(".gitignore");
        assert!(
            gitignore
                .lines()
                .any(|line| line == "/crates/workshop/src/bin/"),
            ".gitignore no longer ignores the students' files"
        );
        let manifest =
            fs::read_to_string(root.join("crates/workshop/Cargo.toml")).expect("Cargo.toml");
        assert!(
            !manifest.contains("autobins = false"),
            "the workshop package must keep autobins, or `my-bug-N.rs` is no bin"
        );
        for bug in &workshop::BUGS {
            assert!(
                !manifest.contains(&format!("name = \"{}\"", bug.bin_name())),
                "{} would clash with a student's file",
                bug.bin_name()
            );
        }
    }

    /// `watch` itself, in a folder with a student's file and no workspace: every build fails
    /// at once, so each round is quick. It checks, waits for the save, checks again, and
    /// stops after `--rounds 2`, with the last check's verdict as its exit code.
    #[test]
    fn watch_rebuilds_after_a_save_and_stops_after_its_rounds() {
        let exercise = step(1);
        let root = root_with_starting_point("watch-rounds", exercise);
        assert_eq!(start(exercise, &root), ExitCode::SUCCESS);
        let mine = root.join(student_file(exercise));
        let before = saved_stamp(&mine);
        let saver = std::thread::spawn({
            let mine = mine.clone();
            move || {
                std::thread::sleep(Duration::from_millis(1500));
                let mut text = fs::read_to_string(&mine).expect("the student's file");
                text.push_str("// saved again\n");
                fs::write(&mine, text).expect("a save");
            }
        });
        let started = std::time::Instant::now();
        // On a thread, so that a watch that never checks again fails the test, not hangs it.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn({
            let root = root.clone();
            move || done.send(watch(exercise, Some(2), &root, Style::plain()))
        });
        let code = finished
            .recv_timeout(Duration::from_secs(60))
            .expect("watch --rounds 2 ended within a minute of the save");
        saver.join().expect("the saver");
        assert_eq!(
            code,
            ExitCode::FAILURE,
            "no workspace here, so nothing builds"
        );
        assert_ne!(saved_stamp(&mine), before);
        assert!(
            started.elapsed() >= Duration::from_millis(1400),
            "the second round waited for the save"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn the_solution_leaves_out_the_program_s_name() {
        let bug = "    let config = Config::from_args(\n        \"bug-7\",\n        \"find the \
                   bug\",\n        Flags::WithMaxConnections,\n    );\n    let x = \"kept\";\n";
        assert_eq!(
            without_program_name(bug),
            "    let config = Config::from_args(\n        Flags::WithMaxConnections,\n    \
             );\n    let x = \"kept\";\n"
        );
    }

    #[test]
    fn watch_checks_again_when_the_file_is_saved() {
        let dir = scratch("watch");
        let file = dir.join("step-1.rs");
        fs::write(&file, "fn main() {}\n").expect("a file");
        let saver = std::thread::spawn({
            let file = file.clone();
            move || {
                // After the first check, as a student would save a minute later.
                std::thread::sleep(Duration::from_millis(700));
                fs::write(&file, "fn main() { println!(\"fixed\"); }\n").expect("a save");
            }
        });
        let started = std::time::Instant::now();
        let mut seen = Vec::new();
        let mut reported = Vec::new();
        let last = watch_loop(
            &file,
            Some(2),
            Duration::from_millis(50),
            || {
                let text = fs::read_to_string(&file).expect("the file");
                let outcome = if text.contains("fixed") {
                    Outcome::Passed
                } else {
                    Outcome::NotYet
                };
                seen.push(text);
                outcome
            },
            |round, outcome| reported.push((round, outcome)),
        );
        saver.join().expect("the saver");
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[1].contains("fixed"), "the second check saw the save");
        assert_eq!(
            reported,
            [(1, Outcome::NotYet), (2, Outcome::Passed)],
            "each check's verdict"
        );
        assert_eq!(last, Some(Outcome::Passed));
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "it waited for the save instead of checking again at once"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
