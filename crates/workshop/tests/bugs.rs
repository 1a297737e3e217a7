//! Every find-the-bug server is its real stage with one mistake in it: the code differs from
//! the stage file by a few lines, never by none, and the difference is where the bug is. When
//! a stage changes, the bugs copied from it must change with it, or the solution diff (the
//! real stage) would show more than the fix.

mod common;

use std::path::Path;

/// One bug: its file, the stage file it is a copy of, the most code lines that may differ
/// (added plus removed), and a piece of code the difference must contain (the bug's line, on
/// either side), so that the difference stays where `bugs/README.md` says it is.
struct Bug {
    file: &'static str,
    stage: &'static str,
    most_changed: usize,
    changed_code: &'static str,
}

const BUGS: [Bug; 10] = [
    Bug {
        file: "bug-1.rs",
        stage: "crates/stage-2/src/main.rs",
        most_changed: 2,
        changed_code: "ThreadPool::with_name(\"worker\".to_string(), 4)",
    },
    Bug {
        file: "bug-2.rs",
        stage: "crates/stage-2/src/main.rs",
        most_changed: 11,
        changed_code: "worker.spawn(move || handle_connection(stream, config))",
    },
    Bug {
        file: "bug-3.rs",
        stage: "crates/stage-2/src/main.rs",
        most_changed: 1,
        changed_code: "pool.join();",
    },
    Bug {
        file: "bug-4.rs",
        stage: "crates/stage-5/src/bin/stage-5.rs",
        most_changed: 9,
        changed_code: "let mut served = SERVED.lock().await;",
    },
    Bug {
        file: "bug-5.rs",
        stage: "crates/stage-5/src/bin/stage-5.rs",
        most_changed: 1,
        changed_code: "shutdown::wait_for_room(config.max_connections).await;",
    },
    Bug {
        file: "bug-6.rs",
        stage: "crates/stage-5/src/bin/stage-5.rs",
        most_changed: 1,
        changed_code: "shutdown::all_done().await;",
    },
    Bug {
        file: "bug-7.rs",
        stage: "crates/stage-5/src/bin/stage-5-tokio.rs",
        most_changed: 6,
        changed_code: "tokio::spawn(handle_connection(stream, config)).await",
    },
    Bug {
        file: "bug-8.rs",
        stage: "crates/stage-5/src/bin/stage-5-tokio.rs",
        most_changed: 11,
        changed_code: "tokio::runtime::Builder::new_current_thread()",
    },
    Bug {
        file: "bug-9.rs",
        stage: "crates/stage-5/src/bin/stage-5-smol.rs",
        most_changed: 2,
        changed_code: "drop(EXECUTOR.spawn(handle_connection(stream, config)))",
    },
    Bug {
        file: "bug-10.rs",
        stage: "crates/stage-5/src/bin/stage-5-smol.rs",
        most_changed: 2,
        changed_code: "smol::spawn(handle_connection(stream, config)).detach()",
    },
];

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
        let bug_code = common::code(&read(&root.join("bugs").join(bug.file)));
        let stage_code = common::code(&read(&root.join("../..").join(bug.stage)));
        let (removed, added) = changed_lines(&stage_code, &bug_code);
        let changed = removed.len() + added.len();
        println!(
            "{}: {changed} code lines differ from {}",
            bug.file, bug.stage
        );
        let shown = || {
            let minus = removed.iter().map(|line| format!("  - {line}"));
            let plus = added.iter().map(|line| format!("  + {line}"));
            minus.chain(plus).collect::<Vec<_>>().join("\n")
        };
        if changed == 0 {
            problems.push(format!(
                "{} is {} unchanged: where is the bug?",
                bug.file, bug.stage
            ));
        } else if changed > bug.most_changed {
            problems.push(format!(
                "{} differs from {} by {changed} code lines, more than its {}; did the stage \
                 change? Copy the change into the bug:\n{}",
                bug.file,
                bug.stage,
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
                "{}: the difference from {} no longer touches `{}`:\n{}",
                bug.file,
                bug.stage,
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
        let name = bug.file.trim_end_matches(".rs");
        let entry = format!("name = \"{name}\"\npath = \"bugs/{}\"", bug.file);
        assert!(
            manifest.contains(&entry),
            "crates/workshop/Cargo.toml has no [[bin]] {name} at bugs/{}",
            bug.file
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
