//! The command line of `cargo xtask demo`, read with `lexopt` like the servers' own.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use measure::scenario::Scenario;

use measure::catalogue::{Binary, Runtime, Stage};

use crate::args::{parse_runtimes, parse_stages};

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
                   (the default binary, stage-N), tokio, smol, mini
                   (our own runtime), or all (all: 14 binaries)
  --slow-ms MS     how long /sleep and /block take              [default: 2000]
                   (100 to 20000); in idle, the servers' --read-timeout-ms
  --fast N         fast requests after the slow one(s), 1 to 100  [default: 10]
                   (in the cpu scenario: the size of the batch). Each request
                   is a row of the timeline: --fast 4 fits a projector better
  --json FILE      also write every request's timings to FILE as JSON (- for
                   stdout; the tables then go to stderr)
  --html FILE      also write a page with the timeline as an SVG chart to FILE
  --narrate        instead: send one GET /sleep to a stage on our own runtime
                   (stage-N-mini, --stage 3, 4 or 5 [default: 4]) with
                   MINI_RUNTIME_TRACE=1, and print what the runtime says it
                   does for it (takes only --stage and --slow-ms)
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

Exit status: 0 when every verdict is the stage's lesson; 3 when one is marked
(unexpected) (a busy machine can do that: run it again); 1 when a binary did
not build or start, or a file could not be written; 2 for bad usage.

Every latency counts from the moment the request was scheduled to be sent, so
a late client cannot hide a slow server. Percentiles are exact: nearest rank
over a sort. The servers are stopped when the demo ends, and on Ctrl-C.
Set NO_COLOR=1 for output without colour.

Examples:
  cargo xtask demo
  cargo xtask demo --scenario blocking --stage 4,5 --runtime all
  cargo xtask demo --slow-ms 1000 --json demo.json --html demo.html
  cargo xtask demo --narrate --stage 5 --slow-ms 500
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
    /// `--narrate`: the one stage whose `-mini` binary tells one request, instead of the
    /// scenarios.
    pub narrate: Option<Stage>,
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
            narrate: None,
        }
    }
}

pub const MIN_SLOW_MS: u64 = 100;
pub const MAX_SLOW_MS: u64 = 20_000;
pub const MAX_FAST: usize = 100;

/// Parses the arguments after `demo`.
/// `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<DemoOptions>, String> {
    use lexopt::prelude::*;

    let mut options = DemoOptions::default();
    let mut parser = lexopt::Parser::from_args(args);
    let mut narrate = false;
    let mut stage_given = false;
    // The options that mean nothing to `--narrate`, as given, to refuse them by name.
    let mut scenario_options = Vec::new();
    while let Some(arg) = parser.next().map_err(to_error)? {
        if let Long(name @ ("scenario" | "runtime" | "runtimes" | "fast" | "json" | "html")) = arg {
            scenario_options.push(format!("--{name}"));
        }
        match arg {
            Long("narrate") => narrate = true,
            Long("scenario") => {
                let name = text(&mut parser, "--scenario")?;
                options.scenarios = parse_scenarios(&name)?;
            }
            Long("stage" | "stages") => {
                let list = text(&mut parser, "--stage")?;
                options.stages = parse_stages(&list)?;
                stage_given = true;
            }
            Long("runtime" | "runtimes") => {
                let list = text(&mut parser, "--runtime")?;
                options.runtimes = parse_runtimes(&list)?;
            }
            Long("slow-ms") => {
                let ms: u64 = number(&mut parser, "--slow-ms")?;
                if !(MIN_SLOW_MS..=MAX_SLOW_MS).contains(&ms) {
                    return Err(format!(
                        "--slow-ms must be from {MIN_SLOW_MS} to {MAX_SLOW_MS}, not {ms}: \
                         shorter is too close to the noise of a busy machine, longer is a long wait"
                    ));
                }
                options.slow = Duration::from_millis(ms);
            }
            Long("fast") => {
                let count: usize = number(&mut parser, "--fast")?;
                if !(1..=MAX_FAST).contains(&count) {
                    return Err(format!("--fast must be from 1 to {MAX_FAST}, not {count}"));
                }
                options.fast = count;
            }
            Long("json") => options.json = Some(parser.value().map_err(to_error)?.into()),
            Long("html") => options.html = Some(parser.value().map_err(to_error)?.into()),
            Short('h') | Long("help") => return Ok(None),
            Value(value) => {
                return Err(format!(
                    "unexpected argument {:?}; options start with --, such as --stage 1,4",
                    value.to_string_lossy()
                ));
            }
            other => return Err(to_error(other.unexpected())),
        }
    }
    if narrate {
        if let Some(option) = scenario_options.first() {
            return Err(format!(
                "--narrate takes only --stage and --slow-ms, not {option}: \
                 run the scenarios without --narrate"
            ));
        }
        options.narrate = Some(narrated_stage(&options.stages, stage_given)?);
    }
    Ok(Some(options))
}

/// The stage `--narrate` tells: one of those with a binary on our runtime, stage 4 unless
/// `--stage` chose.
fn narrated_stage(stages: &[Stage], stage_given: bool) -> Result<Stage, String> {
    if !stage_given {
        return Ok(Stage::Four);
    }
    match stages {
        [stage] if Binary::of(*stage, Runtime::Mini).is_some() => Ok(*stage),
        _ => {
            let chosen: Vec<String> = stages.iter().map(|s| s.number().to_string()).collect();
            Err(format!(
                "--narrate tells one request to one stage on our runtime: --stage 3, 4 or 5, \
                 not {}",
                chosen.join(",")
            ))
        }
    }
}

fn parse_scenarios(name: &str) -> Result<Vec<Scenario>, String> {
    if name == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    Scenario::from_name(name).map(|s| vec![s]).ok_or_else(|| {
        format!("--scenario must be slow, busy-pool, blocking, cpu, idle or all, not {name:?}")
    })
}

fn text(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(to_error)?
        .into_string()
        .map_err(|_| format!("{flag} needs plain text"))
}

fn number<T: std::str::FromStr>(parser: &mut lexopt::Parser, flag: &str) -> Result<T, String> {
    let value = text(parser, flag)?;
    value
        .trim()
        .parse()
        .map_err(|_| format!("{flag} needs a whole number, not {value:?}"))
}

fn to_error(err: lexopt::Error) -> String {
    err.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<DemoOptions>, String> {
        super::parse(args.iter().map(OsString::from))
    }

    fn options(args: &[&str]) -> DemoOptions {
        match parse(args) {
            Ok(Some(options)) => options,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let options = options(&[]);
        assert_eq!(options.scenarios, vec![Scenario::Slow]);
        assert_eq!(options.stages, Stage::ALL);
        assert_eq!(options.runtimes, vec![Runtime::AsyncStd]);
        assert_eq!(options.slow, Duration::from_millis(2000));
        assert_eq!(options.fast, 10);
        assert_eq!(options.narrate, None);
    }

    #[test]
    fn narrate_tells_one_stage_on_our_runtime() {
        assert_eq!(options(&["--narrate"]).narrate, Some(Stage::Four));
        let options = options(&["--narrate", "--stage", "5", "--slow-ms", "300"]);
        assert_eq!(options.narrate, Some(Stage::Five));
        assert_eq!(options.slow, Duration::from_millis(300));
        for stages in ["2", "3,4", "all"] {
            let err = parse(&["--narrate", "--stage", stages]).unwrap_err();
            assert!(err.contains("--stage 3, 4 or 5"), "{err}");
        }
        let err = parse(&["--narrate", "--json", "out.json"]).unwrap_err();
        assert!(err.contains("not --json"), "{err}");
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
        assert_eq!(options.stages, [Stage::One, Stage::Four]);
        assert_eq!(options.runtimes, Runtime::ASYNC);
        assert_eq!(options.slow, Duration::from_millis(600));
        assert_eq!(options.fast, 3);
        assert_eq!(options.json, Some(PathBuf::from("out.json")));
        assert_eq!(options.html, Some(PathBuf::from("out.html")));
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
        assert_eq!(parse(&["-h"]), Ok(None));
    }
}
