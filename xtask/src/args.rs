//! The command line of `cargo xtask demo`, read with `lexopt` like the servers' own.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use measure::scenario::Scenario;

use measure::catalogue::{Runtime, Stage};

pub const DEMO_HELP: &str = "\
cargo xtask demo: send the same slow request to every stage, and show which
stages made the fast requests wait. It builds the stage binaries in release
mode, starts each one on a free port of 127.0.0.1, sends it the scenario's
requests, stops it, and prints a timeline and a table.

Usage: cargo xtask demo [OPTIONS]

Options:
  --scenario NAME  slow, busy-pool, blocking, cpu, idle, or all [default: slow]
  --stage LIST     which stages, such as 1,4 or 2-5        [default: 1,2,3,4,5]
  --runtime LIST   binaries of stages 3 to 5: async-std    [default: async-std]
                   (the default binary, stage-N), tokio, smol, or all
                   (all: 11 binaries)
  --slow-ms MS     how long /sleep and /block take              [default: 2000]
                   (100 to 20000); in idle, the servers' --read-timeout-ms
  --fast N         fast requests after the slow one(s), 1 to 100  [default: 10]
                   (in the cpu scenario: the size of the batch). Each request
                   is a row of the timeline: --fast 4 fits a projector better
  --json FILE      also write every request's timings to FILE as JSON
  --html FILE      also write a page with the timeline as an SVG chart to FILE
  -h, --help       print this help

Scenarios:
  slow       one /sleep, then the fast GET / requests a moment later.
             Stages 1 and 3 make them wait; 2, 4 and 5 do not.
  busy-pool  5 × /sleep, one more than stage 2 has workers, then the fast
             requests. Stage 2's pool is full, so they wait; 4 and 5 do not.
  blocking   one /block, which blocks its thread even in an async stage (the
             mistake), then the fast requests. Stage 4 stalls them all; stage
             5 keeps serving on its other threads.
  cpu        one /cpu alone, then a batch of /cpu at once: how many cores the
             server kept busy. Stage 5 uses them all, stage 4 one.
  idle       one connection that sends nothing (an idle client, like a
             browser's spare connection), then the fast requests. Stages 1
             and 3 wait for it until --read-timeout-ms; 2, 4 and 5 do not.
  all        every scenario in turn.

Every latency counts from the moment the request was scheduled to be sent, so
a late client cannot hide a slow server. Percentiles are exact: nearest rank
over a sort. The servers are stopped when the demo ends, and on Ctrl-C.
Set NO_COLOR=1 for output without colour.

Examples:
  cargo xtask demo
  cargo xtask demo --scenario blocking --stage 4,5 --runtime all
  cargo xtask demo --slow-ms 1000 --json demo.json --html demo.html
";

/// What `cargo xtask demo` was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    pub scenarios: Vec<Scenario>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Which binaries of the async stages; stages 1 and 2 have one binary each.
    pub runtimes: Vec<Runtime>,
    pub slow: Duration,
    pub fast: usize,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            scenarios: vec![Scenario::Slow],
            stages: Stage::ALL.to_vec(),
            runtimes: vec![Runtime::AsyncStd],
            slow: Duration::from_millis(2000),
            fast: 10,
            json: None,
            html: None,
        }
    }
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Demo(DemoOptions),
    Help,
}

/// A command line that cannot be run, with what to do instead.
#[derive(Debug, PartialEq, Eq)]
pub struct ArgsError(pub String);

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (see cargo xtask demo --help)", self.0)
    }
}

const MIN_SLOW_MS: u64 = 100;
const MAX_SLOW_MS: u64 = 20_000;
const MAX_FAST: usize = 100;

/// Parses the arguments after `demo`.
pub fn parse_demo(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, ArgsError> {
    use lexopt::prelude::*;

    let mut options = DemoOptions::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(to_error)? {
        match arg {
            Long("scenario") => {
                let name = text(&mut parser, "--scenario")?;
                options.scenarios = parse_scenarios(&name)?;
            }
            Long("stage" | "stages") => {
                let list = text(&mut parser, "--stage")?;
                options.stages = parse_stages(&list)?;
            }
            Long("runtime" | "runtimes") => {
                let list = text(&mut parser, "--runtime")?;
                options.runtimes = parse_runtimes(&list)?;
            }
            Long("slow-ms") => {
                let ms: u64 = number(&mut parser, "--slow-ms")?;
                if !(MIN_SLOW_MS..=MAX_SLOW_MS).contains(&ms) {
                    return Err(ArgsError(format!(
                        "--slow-ms must be from {MIN_SLOW_MS} to {MAX_SLOW_MS}, not {ms}: \
                         shorter is too close to the noise of a busy machine, longer is a long wait"
                    )));
                }
                options.slow = Duration::from_millis(ms);
            }
            Long("fast") => {
                let count: usize = number(&mut parser, "--fast")?;
                if !(1..=MAX_FAST).contains(&count) {
                    return Err(ArgsError(format!(
                        "--fast must be from 1 to {MAX_FAST}, not {count}"
                    )));
                }
                options.fast = count;
            }
            Long("json") => options.json = Some(parser.value().map_err(to_error)?.into()),
            Long("html") => options.html = Some(parser.value().map_err(to_error)?.into()),
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Value(value) => {
                return Err(ArgsError(format!(
                    "unexpected argument {:?}; options start with --, such as --stage 1,4",
                    value.to_string_lossy()
                )));
            }
            other => return Err(to_error(other.unexpected())),
        }
    }
    Ok(Parsed::Demo(options))
}

fn parse_scenarios(name: &str) -> Result<Vec<Scenario>, ArgsError> {
    if name == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    Scenario::from_name(name).map(|s| vec![s]).ok_or_else(|| {
        ArgsError(format!(
            "--scenario must be slow, busy-pool, blocking, cpu, idle or all, not {name:?}"
        ))
    })
}

/// `1,4`, `2-5`, `all`, or a mix such as `1,3-5`; the result is sorted, without repeats.
pub fn parse_stages(list: &str) -> Result<Vec<Stage>, ArgsError> {
    let bad = |part: &str| {
        ArgsError(format!(
            "--stage takes stage numbers from 1 to 5, such as 1,4 or 2-5, not {part:?}"
        ))
    };
    if list.trim() == "all" {
        return Ok(Stage::ALL.to_vec());
    }
    let mut stages = Vec::new();
    for part in list.split(',').map(str::trim) {
        let stage = |text: &str| -> Result<u8, ArgsError> {
            let text = text.trim().trim_start_matches("stage-");
            match text.parse::<u8>().ok().and_then(Stage::from_number) {
                Some(stage) => Ok(stage.number()),
                None => Err(bad(part)),
            }
        };
        match part.split_once('-').filter(|(from, _)| !from.is_empty()) {
            Some((from, to)) if !from.starts_with("stage") => {
                let (from, to) = (stage(from)?, stage(to)?);
                if from > to {
                    return Err(bad(part));
                }
                stages.extend(from..=to);
            }
            _ => stages.push(stage(part)?),
        }
    }
    stages.sort_unstable();
    stages.dedup();
    Ok(stages.into_iter().filter_map(Stage::from_number).collect())
}

/// `tokio`, `async-std,smol`, `all`.
pub fn parse_runtimes(list: &str) -> Result<Vec<Runtime>, ArgsError> {
    if list.trim() == "all" {
        return Ok(Runtime::ASYNC.to_vec());
    }
    let mut runtimes = Vec::new();
    for part in list.split(',').map(str::trim) {
        let runtime = Runtime::from_name(part).ok_or_else(|| {
            ArgsError(format!(
                "--runtime must be async-std, tokio, smol or all (or a list such as tokio,smol), \
                 not {part:?}"
            ))
        })?;
        if !runtimes.contains(&runtime) {
            runtimes.push(runtime);
        }
    }
    runtimes.sort_unstable();
    Ok(runtimes)
}

/// The next option's value, as text (`bench` and `check` use it).
pub fn value_text(parser: &mut lexopt::Parser) -> Result<String, String> {
    parser
        .value()
        .map_err(|e| e.to_string())?
        .into_string()
        .map_err(|_| "arguments must be UTF-8 text".to_string())
}

fn text(parser: &mut lexopt::Parser, flag: &str) -> Result<String, ArgsError> {
    parser
        .value()
        .map_err(to_error)?
        .into_string()
        .map_err(|_| ArgsError(format!("{flag} needs plain text")))
}

fn number<T: std::str::FromStr>(parser: &mut lexopt::Parser, flag: &str) -> Result<T, ArgsError> {
    let value = text(parser, flag)?;
    value
        .trim()
        .parse()
        .map_err(|_| ArgsError(format!("{flag} needs a whole number, not {value:?}")))
}

fn to_error(err: lexopt::Error) -> ArgsError {
    ArgsError(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(numbers: &[u8]) -> Vec<Stage> {
        numbers
            .iter()
            .filter_map(|&n| Stage::from_number(n))
            .collect()
    }

    fn parse(args: &[&str]) -> Result<Parsed, ArgsError> {
        parse_demo(args.iter().map(OsString::from))
    }

    fn options(args: &[&str]) -> DemoOptions {
        match parse(args) {
            Ok(Parsed::Demo(options)) => options,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let options = options(&[]);
        assert_eq!(options.scenarios, vec![Scenario::Slow]);
        assert_eq!(options.stages, stages(&[1, 2, 3, 4, 5]));
        assert_eq!(options.runtimes, vec![Runtime::AsyncStd]);
        assert_eq!(options.slow, Duration::from_millis(2000));
        assert_eq!(options.fast, 10);
    }

    #[test]
    fn every_option_is_read() {
        let options = options(&[
            "--scenario",
            "all",
            "--stage",
            "4,1",
            "--runtime=all",
            "--slow-ms",
            "600",
            "--fast",
            "3",
            "--json",
            "out.json",
            "--html",
            "out.html",
        ]);
        assert_eq!(options.scenarios.len(), 5);
        assert_eq!(options.scenarios.last(), Some(&Scenario::Idle));
        assert_eq!(options.stages, stages(&[1, 4]));
        assert_eq!(options.runtimes.len(), 3);
        assert_eq!(options.slow, Duration::from_millis(600));
        assert_eq!(options.fast, 3);
        assert_eq!(options.json, Some(PathBuf::from("out.json")));
        assert_eq!(options.html, Some(PathBuf::from("out.html")));
    }

    #[test]
    fn stage_lists() {
        assert_eq!(parse_stages("2-5"), Ok(stages(&[2, 3, 4, 5])));
        assert_eq!(parse_stages("5,1,3-4,1"), Ok(stages(&[1, 3, 4, 5])));
        assert_eq!(parse_stages("stage-3"), Ok(stages(&[3])));
        assert_eq!(parse_stages("all"), Ok(stages(&[1, 2, 3, 4, 5])));
        for bad in ["0", "6", "1,,2", "x", "4-2", "-1", ""] {
            assert!(parse_stages(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn runtime_lists() {
        assert_eq!(parse_runtimes("tokio"), Ok(vec![Runtime::Tokio]));
        assert_eq!(
            parse_runtimes("smol,async-std"),
            Ok(vec![Runtime::AsyncStd, Runtime::Smol])
        );
        assert!(parse_runtimes("glommio").is_err());
    }

    #[test]
    fn mistakes_say_what_to_do() {
        let err = parse(&["--slow-ms", "5"]).unwrap_err();
        assert!(err.to_string().contains("from 100 to 20000"), "{err}");
        let err = parse(&["--scenario", "fast"]).unwrap_err();
        assert!(err.to_string().contains("busy-pool"), "{err}");
        assert!(err.to_string().contains("idle"), "{err}");
        let err = parse(&["--fast", "many"]).unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
        let err = parse(&["--bogus"]).unwrap_err();
        assert!(err.to_string().contains("--bogus"), "{err}");
        assert!(err.to_string().contains("--help"), "{err}");
        assert_eq!(parse(&["-h"]), Ok(Parsed::Help));
    }
}
