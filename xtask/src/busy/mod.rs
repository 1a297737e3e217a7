//! `cargo xtask busy`: runs a command beside busy loops, so that a busy laptop (an editor
//! indexing, a browser, another build) is a condition the tools are tested in, not an excuse.
//! Each loop is a thread of this process that only computes; they stop when the command ends,
//! or after `--for` seconds whatever happens.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use measure::system::BusyLoops;

use crate::args::value_text;

pub const BUSY_HELP: &str = "\
Usage: cargo xtask busy [OPTIONS] -- COMMAND [ARGS...]

Runs COMMAND beside busy loops that each keep a core busy, as other programs do on a student's
laptop, and stops them when it ends. The tools must then say \"cannot tell: the machine was
busy\" rather than a wrong verdict, and the suite must pass:

  cargo xtask busy -- cargo test --workspace
  cargo xtask busy --loops 1 -- cargo xtask check --bin target/release/stage-5

Options:
  --loops N      how many busy loops [default: the number of cores]
  --for SECONDS  stop the loops after this long even if COMMAND runs on [default: 900]
  -h, --help     print this help

Exit status: COMMAND's.
";

#[derive(Debug, PartialEq, Eq)]
pub struct BusyOptions {
    pub loops: usize,
    pub at_most: Duration,
    pub command: Vec<OsString>,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<BusyOptions>, String> {
    use lexopt::prelude::*;

    let mut loops = measure::available_cores();
    let mut at_most = Duration::from_secs(900);
    let mut command = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("loops") => {
                let value = value_text(&mut parser)?;
                loops = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| format!("--loops takes 1 to 64, not {value:?}"))?;
            }
            Long("for") => {
                let value = value_text(&mut parser)?;
                let seconds: u64 = value
                    .parse()
                    .ok()
                    .filter(|s| (1..=3600).contains(s))
                    .ok_or_else(|| format!("--for takes 1 to 3600 seconds, not {value:?}"))?;
                at_most = Duration::from_secs(seconds);
            }
            Short('h') | Long("help") => return Ok(None),
            Value(value) => {
                command.push(value);
                command.extend(parser.raw_args().map_err(|e| e.to_string())?);
            }
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    if command.is_empty() {
        return Err("which command? e.g. cargo xtask busy -- cargo test --workspace".into());
    }
    Ok(Some(BusyOptions {
        loops,
        at_most,
        command,
    }))
}

pub fn run(options: BusyOptions) -> ExitCode {
    let busy_loops = BusyLoops::start(options.loops, options.at_most);
    eprintln!(
        "cargo xtask busy: {} busy loop{} beside `{}` (at most {} s)",
        options.loops,
        if options.loops == 1 { "" } else { "s" },
        options
            .command
            .iter()
            .map(|word| word.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        options.at_most.as_secs()
    );
    let status = std::process::Command::new(&options.command[0])
        .args(&options.command[1..])
        .status();
    drop(busy_loops);
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(1, 255) as u8)),
        Err(err) => {
            eprintln!(
                "error: cannot run {:?}: {err} (is it installed and on PATH?)",
                options.command[0]
            );
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Option<BusyOptions>, String> {
        parse(words.split_whitespace().map(OsString::from))
    }

    #[test]
    fn loops_and_the_command_after_a_double_dash() {
        let options = parse_words("--loops 2 --for 60 -- cargo test --workspace")
            .expect("valid")
            .expect("not help");
        assert_eq!(options.loops, 2);
        assert_eq!(options.at_most, Duration::from_secs(60));
        assert_eq!(options.command, ["cargo", "test", "--workspace"]);
        assert!(
            parse_words("--loops 0 -- true")
                .unwrap_err()
                .contains("1 to 64")
        );
        assert!(
            parse_words("--loops 2")
                .unwrap_err()
                .contains("which command")
        );
        assert_eq!(parse_words("--help"), Ok(None));
    }

    /// The loops stop when the command ends, and the command's failure is the exit status.
    #[cfg(unix)]
    #[test]
    fn runs_the_command_beside_the_loops_and_stops_them() {
        let started = std::time::Instant::now();
        let ran = |command: &str| {
            run(BusyOptions {
                loops: 2,
                at_most: Duration::from_secs(30),
                command: vec![command.into()],
            })
        };
        assert_eq!(ran("true"), ExitCode::SUCCESS);
        assert_eq!(ran("false"), ExitCode::FAILURE);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
