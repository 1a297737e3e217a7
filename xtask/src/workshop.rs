//! `cargo xtask workshop`: guided exercises, one per step from stage to stage.
//!
//! `start N` copies the starting point (`crates/workshop/exercises/step-N.rs`, the previous
//! stage with the step left as TODOs) to the student's own file,
//! `crates/workshop/src/bin/step-N.rs`, which cargo builds as the binary `step-N`. `check N`
//! builds that binary and grades it by measurement (`harness::workshop`), `hint N` gives the
//! next hint, and `solution N` shows the diff to the real stage once `check` has passed.
//! Which steps passed and how many hints were shown is kept in
//! `crates/workshop/progress.json`, which git ignores.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use harness::workshop::{self, Step};
use serde_json::{Map, Value, json};

use crate::style::{Color, Style};

pub const WORKSHOP_HELP: &str = "\
Usage: cargo xtask workshop <list | start N | check N | hint N | solution N [--force]>

Guided exercises: you write each next stage yourself. N is the step:
  1  stage 1 -> 2  a pool of worker threads
  2  stage 2 -> 3  async, and still one at a time
  3  stage 3 -> 4  concurrent connections on one task
  4  stage 4 -> 5  a task per connection, on many threads

Commands:
  list            the steps, and which you started and passed
  start N         copy step N's starting point to crates/workshop/src/bin/step-N.rs, your
                  file (never overwritten); run it with `cargo run -p workshop --bin step-N`
  check N         build your file and measure it: passes when it behaves like the next stage
  hint N          the next hint for step N
  solution N      the diff from your file to the real stage; after check N passed, or with
                  --force
";

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    List,
    Start(&'static Step),
    Check(&'static Step),
    Hint(&'static Step),
    Solution { step: &'static Step, force: bool },
}

/// Parses the command line; `Ok(None)` means `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Action>, String> {
    use lexopt::prelude::*;

    let mut words = Vec::new();
    let mut force = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("force") => force = true,
            Short('h') | Long("help") => return Ok(None),
            Value(value) => words.push(value.to_string_lossy().into_owned()),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    let step_number = |word: Option<&String>| -> Result<&'static Step, String> {
        let word = word.ok_or("which step? give its number, 1 to 4")?;
        word.parse::<u8>()
            .ok()
            .and_then(workshop::step)
            .ok_or_else(|| format!("there is no step {word:?}: the steps are 1 to 4"))
    };
    let action = match words.first().map(String::as_str) {
        None => return Ok(None),
        Some("list") => Action::List,
        Some("start") => Action::Start(step_number(words.get(1))?),
        Some("check") => Action::Check(step_number(words.get(1))?),
        Some("hint") => Action::Hint(step_number(words.get(1))?),
        Some("solution") => Action::Solution {
            step: step_number(words.get(1))?,
            force,
        },
        Some(other) => {
            return Err(format!(
                "unknown workshop command {other:?}: list, start, check, hint or solution"
            ));
        }
    };
    if force && !matches!(action, Action::Solution { .. }) {
        return Err("--force only goes with solution".into());
    }
    Ok(Some(action))
}

/// The student's file for a step, relative to the workspace root.
pub fn student_file(step: &Step) -> PathBuf {
    PathBuf::from(format!("crates/workshop/src/bin/step-{}.rs", step.number))
}

const PROGRESS_FILE: &str = "crates/workshop/progress.json";

/// What is remembered between commands: per step, `passed` and `hints` shown.
struct Progress {
    path: PathBuf,
    steps: Map<String, Value>,
}

impl Progress {
    fn load(root: &Path) -> Progress {
        let path = root.join(PROGRESS_FILE);
        let steps = fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|value| value.get("steps").and_then(Value::as_object).cloned())
            .unwrap_or_default();
        Progress { path, steps }
    }

    fn passed(&self, step: &Step) -> bool {
        self.entry(step, "passed").as_bool().unwrap_or(false)
    }

    fn hints_shown(&self, step: &Step) -> usize {
        self.entry(step, "hints").as_u64().unwrap_or(0) as usize
    }

    fn entry(&self, step: &Step, key: &str) -> &Value {
        self.steps
            .get(&step.number.to_string())
            .and_then(|entry| entry.get(key))
            .unwrap_or(&Value::Null)
    }

    fn set(&mut self, step: &Step, key: &str, value: Value) {
        let entry = self
            .steps
            .entry(step.number.to_string())
            .or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(key.to_string(), value);
        }
    }

    /// Saves; a failure only costs the memory of progress, so it is reported, not fatal.
    fn save(&self) {
        let text = json!({ "steps": self.steps }).to_string() + "\n";
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
    match action {
        Action::List => list(root, style),
        Action::Start(step) => start(step, root),
        Action::Check(step) => check(step, root, style),
        Action::Hint(step) => hint(step, root),
        Action::Solution { step, force } => solution(step, force, root, style),
    }
}

fn list(root: &Path, style: Style) -> ExitCode {
    let progress = Progress::load(root);
    println!("step  stages  what                                    status");
    for step in &workshop::STEPS {
        let status = if progress.passed(step) {
            style.paint(Color::Green, "passed")
        } else if root.join(student_file(step)).exists() {
            style.paint(Color::Yellow, "started")
        } else {
            "not started".to_string()
        };
        let hints = match progress.hints_shown(step) {
            0 => String::new(),
            1 => ", 1 hint".to_string(),
            n => format!(", {n} hints"),
        };
        println!(
            "{:<5} {} -> {}  {:<40}{status}{hints}",
            step.number, step.from, step.to, step.title
        );
    }
    let next = workshop::STEPS.iter().find(|step| !progress.passed(step));
    match next {
        Some(step) if root.join(student_file(step)).exists() => println!(
            "\nNext: finish step {n} in {}, then `cargo xtask workshop check {n}`.",
            student_file(step).display(),
            n = step.number
        ),
        Some(step) => println!("\nNext: `cargo xtask workshop start {}`.", step.number),
        None => println!("\nEvery step passed: you wrote stages 2 to 5 yourself."),
    }
    ExitCode::SUCCESS
}

fn start(step: &Step, root: &Path) -> ExitCode {
    let mine = student_file(step);
    let target = root.join(&mine);
    let n = step.number;
    if target.exists() {
        println!(
            "Step {n} is already started: your file is {} (left as it is).\n\
             To start over, delete it and run `cargo xtask workshop start {n}` again.",
            mine.display()
        );
        return ExitCode::SUCCESS;
    }
    let copied = target
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::copy(root.join(step.exercise), &target));
    if let Err(err) = copied {
        eprintln!(
            "error: could not copy {} to {}: {err}",
            step.exercise,
            mine.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "Step {n}: stage {} -> stage {}, {}.\n\n\
         Your file: {}\n\
         It is stage {} with the step left as TODOs; it runs as it is.\n\n\
         Run it:    cargo run -p workshop --bin step-{n}\n\
         Check it:  cargo xtask workshop check {n}\n\
         Stuck:     cargo xtask workshop hint {n}",
        step.from,
        step.to,
        step.title,
        mine.display(),
        step.from
    );
    ExitCode::SUCCESS
}

fn hint(step: &Step, root: &Path) -> ExitCode {
    let mut progress = Progress::load(root);
    let shown = progress.hints_shown(step);
    let total = step.hints.len();
    let next = shown.min(total - 1);
    println!("Hint {} of {total} for step {}:", next + 1, step.number);
    println!("  {}", step.hints[next]);
    if next + 1 < total {
        println!(
            "(`cargo xtask workshop hint {}` again for the next one)",
            step.number
        );
    } else {
        println!(
            "(that was the last; `cargo xtask workshop solution {} --force` shows the answer)",
            step.number
        );
    }
    progress.set(step, "hints", json!(next + 1));
    progress.save();
    ExitCode::SUCCESS
}

fn check(step: &Step, root: &Path, style: Style) -> ExitCode {
    let mine = student_file(step);
    let n = step.number;
    if !root.join(&mine).exists() {
        eprintln!(
            "error: step {n} is not started: there is no {}. Run `cargo xtask workshop start \
             {n}` first.",
            mine.display()
        );
        return ExitCode::FAILURE;
    }
    println!("Building {} (release) ...", mine.display());
    let bin = match build_step(root, step) {
        Ok(bin) => bin,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Measuring it as stage {} should behave (this takes some seconds) ...\n",
        step.to
    );
    let grade = workshop::grade(step, &bin);
    for finding in &grade.findings {
        let (mark, seen) = match &finding.outcome {
            Ok(seen) if finding.not_checked => (style.paint(Color::Yellow, "skip"), seen),
            Ok(seen) => (style.paint(Color::Green, "pass"), seen),
            Err(seen) => (style.paint(Color::Red, "FAIL"), seen),
        };
        println!("{mark}  {}", finding.what);
        // What was measured: the model first, then each piece of evidence.
        for part in seen.split("; ") {
            println!("      {part}");
        }
    }
    let mut progress = Progress::load(root);
    match &grade.diagnosis {
        None => {
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
                    None => " That was the last step.".to_string(),
                }
            );
            progress.set(step, "passed", json!(true));
            progress.save();
            ExitCode::SUCCESS
        }
        Some((_, hint)) => {
            let hint = hint.replace("step-N", &format!("step-{n}"));
            println!(
                "\n{} Hint: {hint}",
                style.paint(Color::Red, &format!("Step {n} not passed yet."))
            );
            println!(
                "More hints: `cargo xtask workshop hint {n}`. The full measurements: \
                 `cargo xtask check --bin {}`.",
                bin.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// Builds the student's binary in release mode, showing cargo's own messages (compiler
/// errors included, in full), and returns the executable cargo names.
fn build_step(root: &Path, step: &Step) -> Result<PathBuf, String> {
    let cargo = crate::cargo_build::cargo();
    let bin = format!("step-{}", step.number);
    let mut child = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "workshop",
            "--bin",
            &bin,
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("error: cannot run {}: {err}", cargo.to_string_lossy()))?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some((name, path)) = crate::cargo_build::built_binary(&message) {
                if name == bin {
                    executable = Some(path);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|err| format!("error: cargo did not finish: {err}"))?;
    match executable {
        Some(path) if status.success() => Ok(path),
        _ => Err(format!(
            "\nYour file does not build yet (cargo's messages are above; the first error is \
             the one to fix). Nothing was measured.\n\
             Try it yourself: cargo build -p workshop --bin {bin}"
        )),
    }
}

fn solution(step: &Step, force: bool, root: &Path, style: Style) -> ExitCode {
    let n = step.number;
    let progress = Progress::load(root);
    if !progress.passed(step) && !force {
        eprintln!(
            "Step {n} has not passed its check yet, so the solution stays hidden: try \
             `cargo xtask workshop check {n}` and `cargo xtask workshop hint {n}` first.\n\
             To see it anyway: `cargo xtask workshop solution {n} --force`."
        );
        return ExitCode::FAILURE;
    }
    let mine = student_file(step);
    let (from_name, from_text) = match fs::read_to_string(root.join(&mine)) {
        Ok(text) => (mine.display().to_string(), text),
        // Not started: compare the starting point instead.
        Err(_) => match fs::read_to_string(root.join(step.exercise)) {
            Ok(text) => (step.exercise.to_string(), text),
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", step.exercise);
                return ExitCode::FAILURE;
            }
        },
    };
    let solution_text = match fs::read_to_string(root.join(step.solution)) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", step.solution);
            return ExitCode::FAILURE;
        }
    };
    // The code only, as `cargo xtask diff` shows it: the comments of a starting point and
    // of a stage explain different things, and would bury the few lines that matter.
    let code = |text: &str| crate::diff::code_lines(text, false).replace("\n\n\n", "\n\n");
    let diff = crate::diff::unified(
        &code(&from_text),
        &code(&solution_text),
        &from_name,
        step.solution,
        style,
    );
    if diff.is_empty() {
        println!(
            "Your code is the real stage {}'s, line for line (comments aside).",
            step.to
        );
    } else {
        print!("{diff}");
        println!(
            "\n(- your file, + the real stage {}, comments left out. Different code that \
             passes the check is a right answer too.)",
            step.to
        );
    }
    println!(
        "The real stage's comments say why each line is there: {}",
        step.solution
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Option<Action>, String> {
        parse(words.split_whitespace().map(OsString::from))
    }

    fn step(number: u8) -> &'static Step {
        workshop::step(number).expect("steps 1 to 4 exist")
    }

    #[test]
    fn commands_and_steps() {
        assert_eq!(parse_words("list"), Ok(Some(Action::List)));
        assert_eq!(parse_words("start 1"), Ok(Some(Action::Start(step(1)))));
        assert_eq!(parse_words("check 4"), Ok(Some(Action::Check(step(4)))));
        assert_eq!(
            parse_words("solution 2 --force"),
            Ok(Some(Action::Solution {
                step: step(2),
                force: true
            }))
        );
        assert_eq!(parse_words(""), Ok(None));
    }

    #[test]
    fn bad_steps_are_explained() {
        assert!(parse_words("start 5").unwrap_err().contains("1 to 4"));
        assert!(parse_words("check").unwrap_err().contains("which step"));
        assert!(
            parse_words("hint 1 --force")
                .unwrap_err()
                .contains("--force")
        );
        assert!(parse_words("begin 1").unwrap_err().contains("unknown"));
    }

    #[test]
    fn progress_survives_a_save_and_a_load() {
        let dir = std::env::temp_dir().join(format!("workshop-progress-{}", std::process::id()));
        let file = dir.join(PROGRESS_FILE);
        fs::create_dir_all(file.parent().expect("a parent")).expect("a temporary folder");
        let step = workshop::step(2).expect("step 2");
        let mut progress = Progress::load(&dir);
        assert!(!progress.passed(step));
        progress.set(step, "passed", json!(true));
        progress.set(step, "hints", json!(2));
        progress.save();
        let again = Progress::load(&dir);
        assert!(again.passed(step));
        assert_eq!(again.hints_shown(step), 2);
        let _ = fs::remove_dir_all(&dir);
    }
}
