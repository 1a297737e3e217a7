//! Every find-the-bug server is its real stage with one mistake in it: the code differs from
//! the stage file by a few lines, never by none, and the difference is where the course's
//! table (`workshop_course::BUGS`) says the bug is. When a stage changes, the bugs copied
//! from it must change with it, or the solution diff (the real stage) would show more than
//! the fix. And every bug, untouched, fails its grading with the diagnosis the table gives
//! it. (Each stage's `tests/check.rs` shows that the real stage, the fix, passes.)

mod common;

use std::path::Path;

use workshop_course::{BUGS, Bug, Diagnosis, FoundBy, Mark, grade_bug};

/// The lines of `old` and of `new` outside their longest common subsequence: what a diff
/// would show as removed and as added.
fn changed_lines(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j == new.len() || (i < old.len() && common[i + 1][j] >= common[i][j + 1]) {
            removed.push(old[i].clone());
            i += 1;
        } else {
            added.push(new[j].clone());
            j += 1;
        }
    }
    (removed, added)
}

#[test]
fn every_bug_is_its_stage_with_one_small_change() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for bug in &BUGS {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
        };
        let file = format!("{}.rs", bug.name());
        let stage = bug.solution();
        let bug_code = common::code(&read(&root.join("../..").join(bug.source())));
        let stage_code = common::code(&read(&root.join("../..").join(stage)));
        let (removed, added) = changed_lines(&stage_code, &bug_code);
        let changed = removed.len() + added.len();
        println!("{file}: {changed} code lines differ from {stage}");
        let shown = || {
            let minus = removed.iter().map(|line| format!("  - {line}"));
            let plus = added.iter().map(|line| format!("  + {line}"));
            minus.chain(plus).collect::<Vec<_>>().join("\n")
        };
        if changed == 0 {
            problems.push(format!("{file} is {stage} unchanged: where is the bug?"));
        } else if changed > bug.most_changed {
            problems.push(format!(
                "{file} differs from {stage} by {changed} code lines, more than its {}; did \
                 the stage change? Copy the change into the bug:\n{}",
                bug.most_changed,
                shown()
            ));
        }
        if !removed
            .iter()
            .chain(&added)
            .any(|line| line.contains(bug.changed_code))
        {
            problems.push(format!(
                "{file}: the difference from {stage} no longer touches `{}`:\n{}",
                bug.changed_code,
                shown()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Each bug file is a `[[bin]]` of this package, so `cargo build -p workshop` builds it.
#[test]
fn every_bug_is_a_bin_of_the_workshop_package() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    for bug in &BUGS {
        let name = bug.name();
        let entry = format!("name = \"{name}\"\npath = \"bugs/{name}.rs\"");
        assert!(
            manifest.contains(&entry),
            "crates/workshop/Cargo.toml has no [[bin]] {name} at bugs/{name}.rs"
        );
    }
    let files = std::fs::read_dir(root.join("bugs")).expect("the bugs folder");
    let on_disk = files
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "rs"))
        .count();
    assert_eq!(
        on_disk,
        BUGS.len(),
        "a bug file that the drift test does not know"
    );
}

#[test]
fn the_diff_counts_added_and_removed_lines() {
    let lines = |text: &str| text.split(' ').map(String::from).collect::<Vec<_>>();
    let (removed, added) = changed_lines(&lines("a b c d"), &lines("a x c d e"));
    assert_eq!(removed, ["b"]);
    assert_eq!(added, ["x", "e"]);
    let (removed, added) = changed_lines(&lines("a b"), &lines("a b"));
    assert!(removed.is_empty() && added.is_empty());
}

/// The book's page of each bug and the answer key give the same hints as `workshop hint`.
#[test]
fn the_book_and_the_answer_key_give_the_table_s_hints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let read = |file: &str| {
        let path = root.join(file);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
    };
    let key = words(&read("crates/workshop/bugs/README.md"));
    let mut missing = Vec::new();
    for bug in &BUGS {
        let page_file = format!("docs/src/find-the-bug/{}.md", bug.name());
        let page = words(&read(&page_file));
        assert!(
            page.starts_with(&format!("# Bug {}: {}", bug.number, bug.title)),
            "{page_file} is not titled \"Bug {}: {}\"",
            bug.number,
            bug.title
        );
        for (index, hint) in bug.hints.iter().enumerate() {
            let hint = words(hint);
            if !page.contains(&hint) {
                missing.push(format!("{page_file}: hint {} of {}", index + 1, bug.name()));
            }
            if !key.contains(&hint) {
                missing.push(format!(
                    "bugs/README.md: hint {} of {}",
                    index + 1,
                    bug.name()
                ));
            }
        }
        if !page.contains(&words(bug.symptom)) {
            missing.push(format!("{page_file}: the symptom of {}", bug.name()));
        }
    }
    assert!(
        missing.is_empty(),
        "these no longer say what workshop_course::BUGS says:\n{}",
        missing.join("\n")
    );
}

/// The README, the answer key and the book count the bugs as the table does, and list each.
#[test]
fn the_readme_the_answer_key_and_the_book_count_every_bug() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let read = |file: &str| {
        let path = root.join(file);
        words(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display())),
        )
    };
    let count = BUGS.len();
    let word = "one two three four five six seven eight nine ten eleven twelve thirteen \
                fourteen fifteen sixteen seventeen eighteen nineteen twenty"
        .split(' ')
        .nth(count - 1)
        .expect("at most twenty bugs: name the next number here");
    let capital = format!("{}{}", word[..1].to_uppercase(), &word[1..]);
    let (readme, key) = (read("README.md"), read("crates/workshop/bugs/README.md"));
    let (index, summary) = (
        read("docs/src/find-the-bug/index.md"),
        read("docs/src/SUMMARY.md"),
    );
    let mut missing = Vec::new();
    let mut expect = |file: &str, text: &str, wanted: String| {
        if !text.contains(&wanted) {
            missing.push(format!("{file}: \"{wanted}\""));
        }
    };
    expect(
        "README.md",
        &readme,
        format!("{capital} more servers, `bug-1` to `bug-{count}`"),
    );
    expect(
        "bugs/README.md",
        &key,
        format!("{capital} servers that look right"),
    );
    expect(
        "find-the-bug/index.md",
        &index,
        format!("This part is {word} such servers"),
    );
    for bug in &BUGS {
        let (number, name) = (bug.number, bug.name());
        expect("bugs/README.md", &key, format!("| `{name}` |"));
        expect(
            "find-the-bug/index.md",
            &index,
            format!("| [{number}]({name}.md) |"),
        );
        expect("SUMMARY.md", &summary, format!("(find-the-bug/{name}.md)"));
    }
    assert!(
        missing.is_empty(),
        "the bugs are counted or listed wrong:\n{}",
        missing.join("\n")
    );
}

/// Grades the untouched bug `number` and asserts its diagnosis: the table's, except where
/// this machine cannot show the symptom (one core; no Unix signals; no /proc).
fn assert_untouched_fails(number: u8, bin: &str) {
    let bug: &Bug = workshop_course::bug(number).expect("bugs 1 to 11 exist");
    // Not `measure::check::alone`: these grades run beside each other. Other measurements
    // beside a grade can only make a server look slower or less parallel than it is, and
    // an untouched starting point or bug is graded for what it lacks, so it fails anyway.
    let grade = grade_bug(bug, Path::new(bin));
    println!("{grade:#?}");
    let expected = match bug.diagnosis {
        Diagnosis::NotParallel if measure::available_cores() < 2 => Diagnosis::OneCore,
        Diagnosis::ShutdownDropsRequests if cfg!(not(unix)) => {
            println!("skipped: Ctrl-C cannot be sent to another process on this OS");
            return;
        }
        diagnosis => diagnosis,
    };
    let (diagnosis, symptom) = grade
        .diagnosis
        .unwrap_or_else(|| panic!("the untouched {} passed its check", bug.name()));
    if diagnosis == Diagnosis::MachineBusy && expected == Diagnosis::NotParallel {
        // Not passed, as it must not be; but that it takes turns on one thread could not be
        // shown on a machine this busy (two blocking requests could not tell either).
        println!("NOT MEASURED: {} on one thread: {symptom}", bug.name());
        return;
    }
    assert_eq!(diagnosis, expected, "symptom: {symptom}");
    // Bug 2's model says "no limit"; its thread count says why, where it can be counted.
    if bug.found_by == FoundBy::Threads && cfg!(target_os = "linux") {
        let threads = grade
            .findings
            .iter()
            .find(|finding| finding.what.starts_with("the thread count"))
            .expect("a thread-count finding");
        assert_eq!(threads.mark, Mark::Fail, "{threads:#?}");
    }
}

macro_rules! untouched_bugs_fail {
    ($($test:ident: $number:literal, $bin:literal;)*) => {$(
        #[test]
        fn $test() {
            assert_untouched_fails($number, env!(concat!("CARGO_BIN_EXE_", $bin)));
        }
    )*};
}

untouched_bugs_fail! {
    untouched_bug_1_is_a_pool_of_the_wrong_size: 1, "bug-1";
    untouched_bug_2_has_no_limit: 2, "bug-2";
    untouched_bug_3_drops_a_request_at_ctrl_c: 3, "bug-3";
    untouched_bug_4_is_one_at_a_time: 4, "bug-4";
    untouched_bug_5_has_no_limit: 5, "bug-5";
    untouched_bug_6_drops_a_request_at_ctrl_c: 6, "bug-6";
    untouched_bug_7_is_one_at_a_time: 7, "bug-7";
    untouched_bug_8_is_not_parallel: 8, "bug-8";
    untouched_bug_9_does_not_answer: 9, "bug-9";
    untouched_bug_10_is_not_parallel: 10, "bug-10";
    untouched_bug_11_never_answers: 11, "bug-11";
}
