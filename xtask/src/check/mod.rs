//! `cargo xtask check`: which concurrency model a server behaves like, measured from outside,
//! and which points of the contract it keeps. The probes are `measure::check`'s; this is
//! the command line and the colours.

pub mod report;

use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use measure::ServerProcess;
use measure::check::{self, Model, Report};

use crate::args::value_text;
use crate::style::{Color, Style};

pub const CHECK_HELP: &str = "\
Usage: cargo xtask check --addr HOST:PORT [OPTIONS]
       cargo xtask check --bin PATH [OPTIONS] [-- SERVER-ARGS]

Measures, from outside, which model a server behaves like (one at a time, a pool of N,
concurrent, parallel), with the evidence, and checks the points of the contract it keeps.
The server may be written in any language.

  --addr HOST:PORT  a server that is already running (loopback only, see --allow-remote)
  --bin PATH        start this server the way the tests do: `--port 0 --sleep-ms MS`, then
                    SERVER-ARGS; it must print `Listening on http://HOST:PORT` first

Options:
  --slow-path PATH  a route that answers after a delay without using a core [default: /sleep]
  --fast-path PATH  a route that answers at once [default: /]
  --cpu-path PATH   a route that computes for a while (tens of milliseconds) on one core, to
                    tell parallel from one thread [default: /cpu]
  --block-path PATH a route that blocks its thread for the slow delay, used when the machine
                    is too busy for the CPU route to tell [default: /block]
  --slow-ms MS      the slow route's delay: given to --bin as --sleep-ms [default: 1000];
                    with --addr, measured by one request when not given
  --allow-remote    allow an address that is not loopback (a student's laptop in the room)
  -h, --help        print this help

Exit status: 0 classified and the contract kept; 1 the server crashed or broke the
contract; 3 nothing could be classified; 2 bad usage.

Examples:
  cargo xtask check --bin target/release/stage-2                 a pool of 4
  cargo xtask check --bin target/release/stage-2 -- --workers 8  a pool of 8
  cargo xtask check --addr 127.0.0.1:7878                        a server you started
";

/// Where the server is.
#[derive(Debug, PartialEq, Eq)]
pub enum Server {
    Addr(String),
    Bin { path: PathBuf, args: Vec<OsString> },
}

#[derive(Debug, PartialEq, Eq)]
pub struct CheckOptions {
    pub server: Server,
    pub slow_path: String,
    pub fast_path: String,
    pub cpu_path: String,
    pub block_path: String,
    pub slow_ms: Option<u64>,
    pub allow_remote: bool,
}

/// The delay `--bin` servers get when `--slow-ms` is not given.
const DEFAULT_BIN_SLOW_MS: u64 = 1000;

/// Parses the command line; `Ok(None)` means `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<CheckOptions>, String> {
    use lexopt::prelude::*;

    let mut addr = None;
    let mut bin = None;
    let mut bin_args = Vec::new();
    let mut slow_path = "/sleep".to_string();
    let mut fast_path = "/".to_string();
    let defaults = check::Options::default();
    let mut cpu_path = defaults.cpu_path;
    let mut block_path = defaults.block_path;
    let mut slow_ms = None;
    let mut allow_remote = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("addr") => addr = Some(value_text(&mut parser)?),
            Long("bin") => bin = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?)),
            Long("slow-path") => slow_path = path(value_text(&mut parser)?)?,
            Long("fast-path") => fast_path = path(value_text(&mut parser)?)?,
            Long("cpu-path") => cpu_path = path(value_text(&mut parser)?)?,
            Long("block-path") => block_path = path(value_text(&mut parser)?)?,
            Long("slow-ms") => {
                let value = value_text(&mut parser)?;
                let ms = value
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| (200..=30_000).contains(ms))
                    .ok_or_else(|| {
                        format!("--slow-ms takes milliseconds from 200 to 30000, not {value:?}")
                    })?;
                slow_ms = Some(ms);
            }
            Long("allow-remote") => allow_remote = true,
            Short('h') | Long("help") => return Ok(None),
            // After `--` (which ends our options), the rest goes to the server.
            Value(value) if bin.is_some() => bin_args.push(value),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    let server = match (addr, bin) {
        (Some(addr), None) => Server::Addr(addr),
        (None, Some(path)) => Server::Bin {
            path,
            args: bin_args,
        },
        (Some(_), Some(_)) => return Err("give --addr or --bin, not both".into()),
        (None, None) => {
            return Err("which server? give --addr HOST:PORT or --bin PATH".into());
        }
    };
    Ok(Some(CheckOptions {
        server,
        slow_path,
        fast_path,
        cpu_path,
        block_path,
        slow_ms,
        allow_remote,
    }))
}

fn path(value: String) -> Result<String, String> {
    if value.starts_with('/') && !value.contains(char::is_whitespace) {
        Ok(value)
    } else {
        Err(format!("a path starts with / and has no spaces: {value:?}"))
    }
}

/// Resolves HOST:PORT, refusing an address that is not loopback unless allowed: the check
/// sends bursts of requests, which are only polite to a machine you may test.
pub fn resolve(addr: &str, allow_remote: bool) -> Result<SocketAddr, String> {
    let resolved = addr
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve {addr:?} (expected HOST:PORT): {err}"))?
        .next()
        .ok_or_else(|| format!("{addr:?} resolves to no address"))?;
    if !resolved.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "{resolved} is not this machine: the check sends bursts of requests, so it only \
             probes loopback (127.0.0.1, ::1) unless you add --allow-remote for a machine you \
             may test, such as a student's laptop in the room"
        ));
    }
    Ok(resolved)
}

pub fn run(options: CheckOptions) -> ExitCode {
    let mut probe = check::Options {
        slow_path: options.slow_path.clone(),
        fast_path: options.fast_path.clone(),
        cpu_path: options.cpu_path.clone(),
        block_path: options.block_path.clone(),
        slow: options.slow_ms.map(Duration::from_millis),
        ..Default::default()
    };
    let style = Style::for_stdout();
    let report = match &options.server {
        Server::Addr(addr) => {
            let addr = match resolve(addr, options.allow_remote) {
                Ok(addr) => addr,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::from(2);
                }
            };
            println!(
                "{}",
                style.paint(Color::Bold, &format!("cargo xtask check: {addr}"))
            );
            if probe.slow.is_none() {
                println!("(measuring GET {} alone first)", probe.slow_path);
            }
            check::check(addr, &probe)
        }
        Server::Bin { path, args } => {
            let slow_ms = options.slow_ms.unwrap_or(DEFAULT_BIN_SLOW_MS);
            probe.slow = Some(Duration::from_millis(slow_ms));
            let mut server_args = vec!["--sleep-ms".to_string(), slow_ms.to_string()];
            server_args.extend(args.iter().map(|arg| arg.to_string_lossy().into_owned()));
            let arg_refs: Vec<&str> = server_args.iter().map(String::as_str).collect();
            let mut server = match ServerProcess::start(path, &arg_refs) {
                Ok(server) => server,
                Err(err) => {
                    eprintln!(
                        "error: {err}\n(the server is started with --port 0 {}; build it first, \
                         e.g. `cargo build --release`, and check that it takes these flags)",
                        server_args.join(" ")
                    );
                    return ExitCode::FAILURE;
                }
            };
            println!(
                "{}",
                style.paint(
                    Color::Bold,
                    &format!(
                        "cargo xtask check: {} (started with --port 0 {}), {}",
                        path.display(),
                        server_args.join(" "),
                        server.addr()
                    )
                )
            );
            check::check_process(&mut server, &probe)
        }
    };
    print!("{}", report::render(&report, style));
    exit_code(&report)
}

/// 0 when classified and the contract held, 1 when the server crashed or broke the
/// contract, 3 when nothing could be classified.
pub fn exit_code(report: &Report) -> ExitCode {
    if !report.contract_kept() {
        ExitCode::FAILURE
    } else if matches!(report.model, Model::Unknown(_)) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Option<CheckOptions>, String> {
        parse(words.split_whitespace().map(OsString::from))
    }

    #[test]
    fn bin_with_server_args_after_a_double_dash() {
        let options = parse_words("--bin target/release/stage-2 --slow-ms 500 -- --workers 8")
            .expect("valid")
            .expect("not help");
        assert_eq!(
            options.server,
            Server::Bin {
                path: "target/release/stage-2".into(),
                args: vec!["--workers".into(), "8".into()],
            }
        );
        assert_eq!(options.slow_ms, Some(500));
    }

    #[test]
    fn addr_with_foreign_paths() {
        let options = parse_words(
            "--addr localhost:8000 --slow-path /slow --fast-path /health --cpu-path /fib/30 \
             --block-path /busy",
        )
        .expect("valid")
        .expect("not help");
        assert_eq!(options.server, Server::Addr("localhost:8000".into()));
        assert_eq!(options.slow_path, "/slow");
        assert_eq!(options.fast_path, "/health");
        assert_eq!(options.cpu_path, "/fib/30");
        assert_eq!(options.block_path, "/busy");
        assert_eq!(options.slow_ms, None);
    }

    #[test]
    fn bad_usage_is_explained() {
        assert!(
            parse_words("")
                .unwrap_err()
                .contains("--addr HOST:PORT or --bin PATH")
        );
        assert!(
            parse_words("--addr a:1 --bin b")
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            parse_words("--addr a:1 --slow-ms 5")
                .unwrap_err()
                .contains("200 to 30000")
        );
        assert!(
            parse_words("--addr a:1 --slow-path sleep")
                .unwrap_err()
                .contains("starts with /")
        );
        assert_eq!(parse_words("--help"), Ok(None));
    }

    #[test]
    fn only_loopback_without_allow_remote() {
        assert!(resolve("127.0.0.1:7878", false).is_ok());
        assert!(resolve("[::1]:7878", false).is_ok());
        let refused = resolve("192.0.2.10:7878", false).unwrap_err();
        assert!(refused.contains("--allow-remote"), "{refused}");
        assert!(resolve("192.0.2.10:7878", true).is_ok());
        assert!(resolve("no-port-here", true).is_err());
    }
}
