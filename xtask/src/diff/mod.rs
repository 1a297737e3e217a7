//! `cargo xtask diff A B`: the lesson in code. Prints the difference between two stages'
//! server files, on one runtime, as a coloured unified diff.
//!
//! Comment lines are left out by default: each file's comments explain its own stage, so
//! they differ everywhere, while the code differs only in the concurrency mechanism.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use measure::catalogue::{Binary, Runtime, Stage};
use similar::{ChangeTag, TextDiff};

use crate::style::{Color, Style};

pub const DIFF_HELP: &str = "\
Usage: cargo xtask diff <A> <B> [--runtime async-std|tokio|smol|mini] [--with-comments]

Prints what changes in the server's code from stage A to stage B (1 to 5).

Options:
  --runtime NAME    which binary of stages 3 to 5: async-std (default), tokio, smol or mini
                    (stages 1 and 2 have one binary each, on std)
  --with-comments   keep comment lines (left out by default: they differ everywhere)
  -h, --help        print this help

Examples:
  cargo xtask diff 3 4                   async, and one line makes it concurrent
  cargo xtask diff 4 5 --runtime smol    spawning, and smol's own executor
  cargo xtask diff 4 5 --runtime mini    spawning, on the runtime of our own
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct DiffOptions {
    pub from: Stage,
    pub to: Stage,
    /// Which binary of the async stages; stages 1 and 2 have one each.
    pub runtime: Runtime,
    pub with_comments: bool,
}

/// Parses `A B [--runtime R] [--with-comments]`; `Ok(None)` means `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<DiffOptions>, String> {
    use lexopt::prelude::*;

    let mut stages = Vec::new();
    let mut runtime = Runtime::AsyncStd;
    let mut with_comments = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("runtime") => {
                let value = parser.value().map_err(|err| err.to_string())?;
                runtime = match value.to_str().and_then(Runtime::from_name) {
                    Some(runtime) => runtime,
                    None => {
                        return Err(format!(
                            "--runtime takes async-std, tokio, smol or mini, not {value:?}"
                        ));
                    }
                };
            }
            Long("with-comments") => with_comments = true,
            Short('h') | Long("help") => return Ok(None),
            Value(value) => {
                let text = value.to_string_lossy().into_owned();
                match text.parse::<u8>().ok().and_then(Stage::from_number) {
                    Some(stage) => stages.push(stage),
                    None => return Err(format!("stages are numbers from 1 to 5, not {text:?}")),
                }
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    let [from, to] = stages[..] else {
        return Err("give two stages, such as `cargo xtask diff 3 4` (see --help)".to_string());
    };
    Ok(Some(DiffOptions {
        from,
        to,
        runtime,
        with_comments,
    }))
}

/// The server file of a stage on a runtime, relative to the workspace root, from the
/// catalogue: stages 1 and 2 have one binary each, whatever the runtime asked for.
pub fn server_file(stage: Stage, runtime: Runtime) -> PathBuf {
    let binary = Binary::of(stage, runtime).unwrap_or_else(|| stage.default_binary());
    PathBuf::from(binary.source)
}

/// The code of a file as the diff sees it: without comment lines and mdBook anchors unless
/// asked for.
pub fn code_lines(text: &str, with_comments: bool) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        if with_comments || !line.trim_start().starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code.trim_start_matches('\n').to_string()
}

/// The unified diff of two texts, coloured if `style` says so. Empty when they are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str, style: Style) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for (index, group) in diff.grouped_ops(3).iter().enumerate() {
        if index == 0 {
            out += &style.paint(Color::Bold, &format!("--- {old_name}\n+++ {new_name}\n"));
        }
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let hunk = format!(
            "@@ -{},{} +{},{} @@\n",
            old_range.start + 1,
            old_range.len(),
            new_range.start + 1,
            new_range.len()
        );
        out += &style.paint(Color::Blue, &hunk);
        for op in group {
            for change in diff.iter_changes(op) {
                let (sign, color) = match change.tag() {
                    ChangeTag::Delete => ("-", Some(Color::Red)),
                    ChangeTag::Insert => ("+", Some(Color::Green)),
                    ChangeTag::Equal => (" ", None),
                };
                let line = format!("{sign}{}", change.value());
                let line = if line.ends_with('\n') {
                    line
                } else {
                    line + "\n"
                };
                out += &match color {
                    Some(color) => style.paint(color, line.trim_end_matches('\n')) + "\n",
                    None => line,
                };
            }
        }
    }
    out
}

pub fn run(options: DiffOptions, root: &Path) -> ExitCode {
    let names = [options.from, options.to].map(|stage| server_file(stage, options.runtime));
    let mut texts = Vec::new();
    for name in &names {
        match fs::read_to_string(root.join(name)) {
            Ok(text) => texts.push(code_lines(&text, options.with_comments)),
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", name.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let [old_name, new_name] = names.map(|name| name.display().to_string());
    let diff = unified(
        &texts[0],
        &texts[1],
        &old_name,
        &new_name,
        Style::for_stdout(),
    );
    if diff.is_empty() {
        println!("{old_name} and {new_name} have the same code.");
    } else {
        crate::output::stdout(&diff);
        if !options.with_comments {
            crate::output::stdout("(comment lines left out; add --with-comments to see them)\n");
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        crate::checkout::workspace_root().expect("the checkout")
    }

    fn code_diff(from: u8, to: u8, runtime: &str) -> String {
        let runtime = Runtime::from_name(runtime).expect("a runtime of the async stages");
        let stage = |number| Stage::from_number(number).expect("a stage from 1 to 5");
        let (from, to) = (stage(from), stage(to));
        let read = |stage| {
            let text = fs::read_to_string(root().join(server_file(stage, runtime)))
                .expect("a stage's server file");
            code_lines(&text, false)
        };
        unified(&read(from), &read(to), "a", "b", Style { color: false })
    }

    /// The changed lines only, without the +/- signs and surrounding space.
    fn changed_lines(diff: &str) -> Vec<String> {
        diff.lines()
            .filter(|line| !line.starts_with("---") && !line.starts_with("+++"))
            .filter(|line| line.starts_with('-') || line.starts_with('+'))
            .map(|line| line[1..].trim().to_string())
            .collect()
    }

    #[test]
    fn stage_3_to_4_changes_only_the_loop_and_its_flags() {
        for runtime in ["async-std", "tokio", "smol", "mini"] {
            let changed = changed_lines(&code_diff(3, 4, runtime));
            assert!(
                changed
                    .contains(&".for_each(|stream| handle_connection(stream, config))".to_string()),
                "{changed:?}"
            );
            assert!(
                changed.contains(
                    &".for_each_concurrent(config.max_connections, |stream| {".to_string()
                ),
                "{runtime}: {changed:?}"
            );
            // Besides the loop: the program's name and summary, and its extra flag.
            for line in &changed {
                let expected = line.contains("for_each")
                    || line == "handle_connection(stream, config)"
                    || line == "})"
                    || line.contains("stage-3")
                    || line.contains("stage-4")
                    || line.contains("Flags::")
                    || line.starts_with('"')
                    || line.starts_with("let config")
                    || line.starts_with("use stage_3")
                    || line.is_empty();
                assert!(expected, "{runtime}: unexpected change 3 → 4: {line:?}");
            }
        }
    }

    #[test]
    fn stage_4_to_5_spawns() {
        for (runtime, spawn) in [
            ("async-std", "task::spawn"),
            ("tokio", "tokio::spawn"),
            ("smol", ".detach()"),
            ("mini", "mini_runtime::spawn"),
        ] {
            let diff = code_diff(4, 5, runtime);
            assert!(diff.contains(spawn), "{runtime}: {diff}");
            assert!(
                diff.contains("+        shutdown::all_done().await;"),
                "{runtime}: {diff}"
            );
        }
    }

    #[test]
    fn our_own_runtime_differs_from_async_std_only_in_the_runtime() {
        for stage in [Stage::Three, Stage::Four, Stage::Five] {
            let read = |runtime| {
                let text = fs::read_to_string(root().join(server_file(stage, runtime)))
                    .expect("a stage's server file");
                code_lines(&text, false)
            };
            let diff = unified(
                &read(Runtime::AsyncStd),
                &read(Runtime::Mini),
                "a",
                "b",
                Style { color: false },
            );
            let changed = changed_lines(&diff);
            assert!(!changed.is_empty(), "stage {stage}");
            for line in &changed {
                let runtime_line = ["async_std", "async-std", "task::", "mini"]
                    .iter()
                    .any(|word| line.contains(word))
                    || line.contains(&format!("\"stage-{stage}\","));
                assert!(runtime_line, "stage {stage}: not a runtime line: {line:?}");
            }
        }
    }

    #[test]
    fn equal_files_have_an_empty_diff() {
        assert_eq!(unified("a\n", "a\n", "x", "y", Style { color: false }), "");
    }

    #[test]
    fn arguments_are_checked() {
        let parse = |args: &[&str]| parse(args.iter().map(OsString::from));
        let options = parse(&["3", "4", "--runtime", "smol"])
            .expect("valid")
            .expect("not help");
        assert_eq!(
            (options.from, options.to, options.runtime),
            (Stage::Three, Stage::Four, Runtime::Smol)
        );
        assert!(parse(&["3"]).is_err());
        assert!(parse(&["3", "9"]).is_err());
        assert!(parse(&["3", "4", "--runtime", "go"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(None));
    }
}
