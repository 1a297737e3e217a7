//! The workshop commands, run against a temporary copy of the exercises.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use workshop_course as workshop;

use super::check::CheckOutcome;
use super::hints::without_program_name;
use super::progress_store::PROGRESS_FILE;
use super::reset::reset;
use super::start::start;
use super::watch::{saved_stamp, watch, watch_loop};
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
    let mut progress = ProgressStore::load(&dir);
    assert!(!progress.passed(step(2)));
    assert_eq!(progress.started(), None);
    progress.set(step(2), "passed", json!(true));
    progress.set(step(2), "hints", json!(2));
    progress.set(bug(2), "hints", json!(1));
    progress.set_started(bug(7));
    progress.save();
    let again = ProgressStore::load(&dir);
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
    let source = crate::checkout::workspace_root()
        .expect("the checkout")
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
    assert_eq!(ProgressStore::load(&root).started(), Some(exercise));

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
    let root = crate::checkout::workspace_root().expect("the checkout");
    let gitignore = fs::read_to_string(root.join(".gitignore")).expect(".gitignore");
    assert!(
        gitignore
            .lines()
            .any(|line| line == "/crates/workshop/src/bin/"),
        ".gitignore no longer ignores the students' files"
    );
    let manifest = fs::read_to_string(root.join("crates/workshop/Cargo.toml")).expect("Cargo.toml");
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
                CheckOutcome::Passed
            } else {
                CheckOutcome::NotYet
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
        [(1, CheckOutcome::NotYet), (2, CheckOutcome::Passed)],
        "each check's verdict"
    );
    assert_eq!(last, Some(CheckOutcome::Passed));
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "it waited for the save instead of checking again at once"
    );
    let _ = fs::remove_dir_all(&dir);
}
