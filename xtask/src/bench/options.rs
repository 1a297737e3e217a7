//! The bench's options: its help text, what each flag sets, and `--quick`'s short run.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use measure::catalogue::{Runtime, Stage};

use crate::args::value_text;

pub const BENCH_HELP: &str = "\
cargo xtask bench: throughput, tail latency and memory per waiting connection of
the stage servers, beside a production server (axum on tokio, crates/reference).
It builds the binaries in release mode, starts each on a free port of 127.0.0.1,
loads it with its own client, and stops it.

Usage: cargo xtask bench [OPTIONS]

Options:
  --only PART        throughput or c10k                        [default: both]
  --stage LIST       which stages, such as 1,5 or 2-5         [default: 1,2,3,4,5]
  --runtime LIST     binaries of stages 3 to 5: async-std, tokio, smol, mini, or all
                     (all: 14 binaries)                    [default: async-std]
  --clients C        throughput: concurrent clients                 [default: 16]
  --rate R           throughput: open loop, R requests a second on a fixed
                     schedule, each timed from when it was due  [default: closed loop]
  --seconds T        throughput: seconds per run                     [default: 5]
  --rounds R         throughput: interleaved rounds                  [default: 3]
  --connections N    c10k: concurrent GET /sleep                 [default: 10000]
  --compare-wrk      throughput: measure every server with wrk too, in the same
                     rounds, and add nginx (2 workers, access log to a file)
                     beside axum; skipped, saying so, where they are not installed
  --quick            a smoke test of a few seconds: 1 round of 1 s, N = 500
  --json FILE        also write the results to FILE as JSON
  -h, --help         print this help

throughput: GET / on a new connection each, for T seconds. Each round runs every
binary once, with a fresh server, in turn; requests/s is the median of the rounds
(and the min-max), latencies are exact percentiles over every request of every
round, with a histogram. Closed loop (the default): each client sends its next
request as soon as the answer is complete, so it measures the most a server
serves, but its p99 understates the tail: while the server stalls, no requests
are sent, and the stall is counted once, not in every request that would have
been sent meanwhile. Open loop (--rate R): requests are due on a fixed schedule
whatever the server does, and each latency counts from when it was due. The
servers' request logs go to a file, as nginx's access log does.

c10k: N clients send GET /sleep (the server's --sleep-ms 1000), their connects
spread over one second, and wait for the answer. It runs on the servers that
serve connections concurrently (stages 4 and 5, the reference) and on stage 2
with --workers N (a thread per waiting connection; N lowered to what the
system allows a process, as on macOS, and said so). Memory is the server's
resident set: from /proc on Linux, from ps on macOS (its peak is the most seen
while polling every 20 ms), from PowerShell's Get-Process on Windows (working
set and its peak, which Windows keeps; one PowerShell reads it every 200 ms);
elsewhere \"not measured\". Per connection is (peak - idle) / N.

The client runs on the same machine and competes with the server for its cores.
Closed loop, its C connections are driven by 2 threads without blocking, as wrk
-t2 drives its own; open loop, by C blocking threads (for a precise schedule).
";

pub(super) const QUICK_SECONDS: u64 = 1;
pub(super) const QUICK_CONNECTIONS: usize = 500;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    Throughput,
    C10k,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    pub(super) stages: Vec<Stage>,
    pub(super) runtimes: Vec<Runtime>,
    pub(super) parts: Vec<Part>,
    pub(super) clients: usize,
    pub(super) seconds: Duration,
    pub(super) rounds: usize,
    pub(super) connections: usize,
    /// Open loop at this many requests a second; closed loop if none.
    pub(super) rate: Option<u64>,
    pub(super) compare_wrk: bool,
    pub(super) quick: bool,
    pub(super) json: Option<PathBuf>,
    /// The arguments as given, for the release build to be run with.
    pub(super) raw: Vec<OsString>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            stages: Stage::ALL.to_vec(),
            runtimes: vec![Runtime::AsyncStd],
            parts: vec![Part::Throughput, Part::C10k],
            clients: 16,
            seconds: Duration::from_secs(5),
            rounds: 3,
            connections: 10_000,
            rate: None,
            compare_wrk: false,
            quick: false,
            json: None,
            raw: Vec::new(),
        }
    }
}

/// Parses the arguments after `bench`; `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<BenchOptions>, String> {
    use lexopt::prelude::*;
    let raw: Vec<OsString> = args.into_iter().collect();
    let mut options = BenchOptions {
        raw: raw.clone(),
        ..BenchOptions::default()
    };
    let (mut seconds, mut rounds, mut connections) = (None, None, None);
    let mut parser = lexopt::Parser::from_args(raw);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("only") => {
                options.parts = match value_text(&mut parser)?.as_str() {
                    "throughput" => vec![Part::Throughput],
                    "c10k" => vec![Part::C10k],
                    other => {
                        return Err(format!("--only takes throughput or c10k, not {other:?}"));
                    }
                }
            }
            Long("stage") => options.stages = crate::args::parse_stages(&value_text(&mut parser)?)?,
            Long("runtime") => {
                options.runtimes = crate::args::parse_runtimes(&value_text(&mut parser)?)?
            }
            Long("clients") => options.clients = number(&mut parser, "--clients", 1, 1024)?,
            Long("seconds") => seconds = Some(number(&mut parser, "--seconds", 1, 600)?),
            Long("rounds") => rounds = Some(number(&mut parser, "--rounds", 1, 20)?),
            Long("connections") => {
                connections = Some(number(&mut parser, "--connections", 1, 100_000)?)
            }
            Long("rate") => {
                options.rate = Some(number(&mut parser, "--rate", 1, 1_000_000)? as u64)
            }
            Long("compare-wrk") => options.compare_wrk = true,
            Long("quick") => options.quick = true,
            Long("json") => {
                options.json = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?))
            }
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if options.quick {
        options.seconds = Duration::from_secs(QUICK_SECONDS);
        options.rounds = 1;
        options.connections = QUICK_CONNECTIONS;
    }
    // Explicit numbers win over --quick's.
    if let Some(seconds) = seconds {
        options.seconds = Duration::from_secs(seconds as u64);
    }
    options.rounds = rounds.unwrap_or(options.rounds);
    options.connections = connections.unwrap_or(options.connections);
    Ok(Some(options))
}

pub(super) fn number(
    parser: &mut lexopt::Parser,
    flag: &str,
    min: usize,
    max: usize,
) -> Result<usize, String> {
    let value = value_text(parser)?;
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{flag} takes a whole number from {min} to {max}, not {value:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Option<BenchOptions>, String> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn quick_is_short_and_explicit_numbers_win() {
        let Ok(Some(quick)) = parse_words(&["--quick"]) else {
            panic!("--quick parses");
        };
        assert_eq!(quick.seconds, Duration::from_secs(1));
        assert_eq!((quick.rounds, quick.connections), (1, 500));
        let Ok(Some(mixed)) = parse_words(&["--quick", "--connections", "2000", "--only", "c10k"])
        else {
            panic!("valid options parse");
        };
        assert_eq!(mixed.connections, 2000);
        assert_eq!(mixed.parts, vec![Part::C10k]);
        assert!(parse_words(&["--only", "speed"]).is_err());
        assert!(parse_words(&["--clients", "0"]).is_err());
        assert_eq!(parse_words(&["--help"]), Ok(None));
        let Ok(Some(open)) = parse_words(&["--rate", "5000", "--stage", "5", "--compare-wrk"])
        else {
            panic!("--rate parses");
        };
        assert_eq!(
            (open.rate, open.stages.clone()),
            (Some(5000), vec![Stage::Five])
        );
        assert!(open.compare_wrk);
        assert!(parse_words(&["--rate", "0"]).is_err());
    }
}
