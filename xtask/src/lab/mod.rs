//! `cargo xtask lab`: the demo live in a browser. One page, served on loopback, runs the
//! demo's scenarios against fresh servers and streams every request as it happens: a bar
//! grows while a fast request waits behind a slow one, and takes the letter of the thread
//! that answered it. Also a hands-on mode (send one `/sleep`, `/block`, `/cpu`, `GET /` or
//! an idle connection to a running server), predictions checked after the run, experiments
//! named by the URL, and the run exported as the JSON of `demo --json`.
//!
//! The lab is built on demand: its HTTP server (axum) is behind xtask's `lab` feature, so
//! `cargo xtask demo` and `cargo test` never compile it. Without the feature, `cargo xtask lab`
//! builds `xtask --features lab` in release mode (the first time, a minute or two) and runs it
//! with the same arguments. The lab runs the demo's code: the same release build of the
//! stages, the same server processes and Ctrl-C tracking, plans, client, verdicts and JSON.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use crate::args::value_text;

#[cfg(feature = "lab")]
mod events;
#[cfg(feature = "lab")]
mod experiment;
#[cfg(feature = "lab")]
mod guard;
#[cfg(feature = "lab")]
mod hands_on;
#[cfg(feature = "lab")]
mod limits;
#[cfg(feature = "lab")]
mod server;
#[cfg(feature = "lab")]
mod state;

pub const LAB_HELP: &str = "\
cargo xtask lab: the demo live in a browser. It builds the stage binaries in
release mode (as the demo does), serves one page on this machine, and opens it.
On the page: pick binaries and a scenario, predict which will make the fast
requests wait, and run; every request's bar grows while it waits and shows the
thread that answered it. A hands-on mode sends single requests to running
servers. Nothing on the page needs the network: it works with the Wi-Fi off.

The first `cargo xtask lab` builds the lab itself (its web server, axum) in
release mode: a minute or two, once. `cargo xtask demo` never builds it.

Usage: cargo xtask lab [OPTIONS]

Options:
  --host HOST       the address to serve the page on            [default: 127.0.0.1]
                    (loopback only, unless --allow-remote)
  --port PORT       the port; 0 picks a free one                [default: 7880]
  --no-open         do not open a browser; open the printed URL yourself
  --allow-remote    allow a --host that is not loopback, and answer to that name
                    (anyone who can reach it can start servers and runs on this
                    machine)
  -h, --help        print this help

The first line printed is `Lab at http://HOST:PORT/`. A URL can name an
experiment, which then runs when the page loads, for bookmarks:
  http://127.0.0.1:7880/?run=slow&stages=1,5
  http://127.0.0.1:7880/?run=blocking&binaries=stage-4-tokio,stage-5-tokio&slow=1000
`stages` takes stage numbers (each stage's default binary) or binary names;
`slow` is the delay in ms, `fast` the number of fast requests, `guess` the
class's guesses (guess=1:wait,5:no-wait). `once=1` closes the page's live
connection after that run, for a headless browser's --dump-dom or --screenshot.
When a link on another web site opened the URL, the page fills in the experiment
and waits for a click on Run instead.

The lab answers only requests addressed to it (http://127.0.0.1:PORT/,
localhost:PORT, [::1]:PORT, or the --host given with --allow-remote), refuses
POSTs from other sites' pages, and caps what requests can start: see the
README's Security section.

Ctrl-C stops every server the lab started, and none starts after it; on Linux
they also die if the lab is killed outright (kill -9). When no page has been
open for 60 s, the lab stops the hands-on servers it is running, and waits for
a page.
";

/// The lab's default port: beside the servers' 7878, and not it.
pub const DEFAULT_PORT: u16 = 7880;

#[derive(Debug, PartialEq, Eq)]
pub struct LabOptions {
    pub addr: SocketAddr,
    /// `--host` as given: with `--allow-remote`, a name the lab answers to besides loopback.
    pub host: String,
    pub allow_remote: bool,
    pub open: bool,
    /// The arguments as given, for the on-demand build to pass on.
    pub raw: Vec<OsString>,
}

/// Parses the command line; `Ok(None)` means `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<LabOptions>, String> {
    use lexopt::prelude::*;

    let raw: Vec<OsString> = args.into_iter().collect();
    let mut host = "127.0.0.1".to_string();
    let mut port = DEFAULT_PORT;
    let mut open = true;
    let mut allow_remote = false;
    let mut parser = lexopt::Parser::from_args(raw.clone());
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("host") => host = value_text(&mut parser)?,
            Long("port") => {
                let value = value_text(&mut parser)?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port takes a port from 0 to 65535, not {value:?}"))?;
            }
            Long("no-open") => open = false,
            Long("allow-remote") => allow_remote = true,
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    let addr = resolve(&host, port, allow_remote)?;
    Ok(Some(LabOptions {
        addr,
        host,
        allow_remote,
        open,
        raw,
    }))
}

/// The address to serve on, refusing one that is not loopback unless allowed: whoever
/// reaches the page can start servers and send requests on this machine.
fn resolve(host: &str, port: u16, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr = match host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|err| format!("cannot resolve --host {host:?}: {err}"))?
            .next()
            .ok_or_else(|| format!("--host {host:?} resolves to no address"))?,
    };
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "--host {host} is not loopback: whoever reaches the page can start servers on this \
             machine, so the lab serves only 127.0.0.1 or ::1 unless you add --allow-remote"
        ));
    }
    Ok(addr)
}

pub fn run(options: LabOptions) -> ExitCode {
    #[cfg(feature = "lab")]
    {
        server::run(options)
    }
    #[cfg(not(feature = "lab"))]
    {
        launch(&options.raw)
    }
}

/// Builds the lab (`xtask --features lab`, release) and runs it with `args`.
#[cfg(not(feature = "lab"))]
fn launch(args: &[OsString]) -> ExitCode {
    crate::cargo::exec_release_xtask("the lab", Some("lab"), "lab", args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Option<LabOptions>, String> {
        parse(words.split_whitespace().map(OsString::from))
    }

    #[test]
    fn defaults_flags_and_mistakes() {
        let options = parse_words("").expect("no flags").expect("not help");
        assert_eq!(
            options.addr,
            SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))
        );
        assert!(options.open);
        let options = parse_words("--port 0 --no-open --host ::1")
            .expect("flags")
            .expect("not help");
        assert_eq!(options.addr, "[::1]:0".parse().expect("an address"));
        assert!(!options.open);
        assert_eq!(options.raw.len(), 5);
        assert_eq!(parse_words("--help"), Ok(None));
        let err = parse_words("--port 70000").expect_err("out of range");
        assert!(err.contains("--port"), "{err}");
        let err = parse_words("--bogus").expect_err("not a flag");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn only_loopback_without_allow_remote() {
        let err = parse_words("--host 192.0.2.1").expect_err("not loopback");
        assert!(err.contains("--allow-remote"), "{err}");
        let options = parse_words("--host 192.0.2.1 --allow-remote")
            .expect("allowed")
            .expect("not help");
        assert_eq!(options.addr.port(), DEFAULT_PORT);
    }
}
