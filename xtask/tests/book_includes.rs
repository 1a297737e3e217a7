//! The book cannot drift from the code: every `{{#include}}` in `docs/src` must point to an
//! existing file and, where it names one, an anchor that exists in that file. Every chapter
//! in SUMMARY.md must exist. And every Rust listing fits the page.

use std::fs;
use std::path::{Path, PathBuf};

/// The longest line a Rust listing may have once the book's builder has moved it to column 0
/// (`xtask/book/src/listings.rs`): about what a 1280-pixel page shows without scrolling.
const LISTING_WIDTH: usize = 90;

/// The lines of `source` that mdBook shows for `selector` (an anchor's lines, without the
/// lines of any anchor marker; the whole file without a selector).
fn listing_lines<'a>(source: &'a str, selector: Option<&str>) -> Vec<&'a str> {
    let names = |line: &str, marker: &str| {
        line.split_once(marker)
            .is_some_and(|(_, name)| Some(name.trim()) == selector)
    };
    let mut inside = selector.is_none();
    let mut lines = Vec::new();
    for line in source.lines() {
        if names(line, "ANCHOR:") {
            inside = true;
        } else if names(line, "ANCHOR_END:") {
            inside = false;
        } else if inside && !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            lines.push(line);
        }
    }
    lines
}

/// The lines of a Rust listing longer than [`LISTING_WIDTH`] once moved to column 0.
fn too_wide(lines: &[&str]) -> Vec<String> {
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
        .filter(|line| line.chars().count() > LISTING_WIDTH)
        .map(|line| format!("{} characters: {line}", line.chars().count()))
        .collect()
}

fn docs_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src")
}

/// Every problem with the includes of one Markdown file.
fn include_problems(markdown_path: &Path, markdown: &str) -> Vec<String> {
    let dir = markdown_path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for (line_number, line) in markdown.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let directive = after[..end].trim();
            rest = &after[end + 2..];
            let Some(target) = directive
                .strip_prefix("include ")
                .or_else(|| directive.strip_prefix("rustdoc_include "))
            else {
                continue;
            };
            let place = format!("{}:{}", markdown_path.display(), line_number + 1);
            let mut parts = target.trim().splitn(2, ':');
            let file = dir.join(parts.next().unwrap_or_default());
            let Ok(source) = fs::read_to_string(&file) else {
                problems.push(format!(
                    "{place}: includes {}, which does not exist",
                    file.display()
                ));
                continue;
            };
            let selector = parts.next();
            let is_rust = file.extension().is_some_and(|ext| ext == "rs");
            let is_line_range = selector.is_some_and(|selector| {
                selector
                    .split(':')
                    .all(|part| part.chars().all(|c| c.is_ascii_digit()))
            });
            if is_rust && !is_line_range {
                for wide in too_wide(&listing_lines(&source, selector)) {
                    problems.push(format!(
                        "{place}: a listing from {} is wider than {LISTING_WIDTH}: {wide}",
                        file.display()
                    ));
                }
            }
            let Some(selector) = selector else {
                continue;
            };
            if is_line_range {
                continue;
            }
            let has_line = |marker: &str| {
                source.lines().any(|line| {
                    line.split_once(marker)
                        .is_some_and(|(_, name)| name.trim() == selector)
                })
            };
            if !has_line("ANCHOR:") || !has_line("ANCHOR_END:") {
                problems.push(format!(
                    "{place}: {} has no `ANCHOR: {selector}` ... `ANCHOR_END: {selector}` pair",
                    file.display()
                ));
            }
        }
    }
    problems
}

/// Every `.md` file under `dir`, in subfolders too (the workshop's pages are in one).
fn chapters_under(dir: &Path) -> Vec<PathBuf> {
    let mut chapters = Vec::new();
    for entry in fs::read_dir(dir).expect("a readable folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            chapters.extend(chapters_under(&path));
        } else if path.extension().is_some_and(|ext| ext == "md") {
            chapters.push(path);
        }
    }
    chapters
}

#[test]
fn every_include_points_to_an_existing_file_and_anchor() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in chapters_under(&docs_src()) {
        let markdown = fs::read_to_string(&path).expect("a readable chapter");
        checked += markdown.matches("{{#include").count();
        problems.extend(include_problems(&path, &markdown));
    }
    assert!(
        checked >= 10,
        "only {checked} includes found: is docs/src where it should be?"
    );
    assert!(
        problems.is_empty(),
        "the book has drifted from the code:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_chapter_in_the_summary_exists() {
    let summary = fs::read_to_string(docs_src().join("SUMMARY.md")).expect("SUMMARY.md");
    let mut chapters = 0;
    for link in summary.split("](").skip(1) {
        let file = link.split(')').next().unwrap_or_default();
        assert!(
            docs_src().join(file).is_file(),
            "SUMMARY.md lists {file}, which does not exist"
        );
        chapters += 1;
    }
    assert!(chapters >= 8, "SUMMARY.md lists only {chapters} chapters");
}

#[test]
fn the_check_fails_when_an_anchor_is_removed() {
    let dir = std::env::temp_dir().join(format!("book-includes-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temporary folder");
    let source = dir.join("server.rs");
    fs::write(&source, "// ANCHOR: loop\nloop {}\n// ANCHOR_END: loop\n").expect("write");
    let chapter = dir.join("chapter.md");
    let with_anchor = "```rust\n{{#include server.rs:loop}}\n```\n";
    assert!(include_problems(&chapter, with_anchor).is_empty());
    let missing_anchor = "{{#include server.rs:accept}}";
    assert_eq!(include_problems(&chapter, missing_anchor).len(), 1);
    let missing_file = "{{#include nowhere.rs}}";
    assert_eq!(include_problems(&chapter, missing_file).len(), 1);
    fs::write(&source, "loop {}\n// ANCHOR_END: loop\n").expect("write");
    assert_eq!(
        include_problems(&chapter, with_anchor).len(),
        1,
        "a half-removed anchor"
    );
    let _ = fs::remove_dir_all(&dir);
}
