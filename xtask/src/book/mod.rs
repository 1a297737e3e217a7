//! `cargo xtask book`: builds (or serves) the mdBook in `docs/` with the project's own
//! builder, `xtask/book`: mdBook as a library, pinned by Cargo.lock, so nothing needs to be
//! installed and it works offline once `cargo xtask doctor` has fetched the crates. The
//! builder is built the first time it is needed (about a minute), never by a plain
//! `cargo build` or the demo.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub const BOOK_HELP: &str = "\
cargo xtask book: build the book in docs/ (chapters in docs/src, code included
from the real sources) into docs/book, with mdBook as a library from Cargo.lock:
nothing to install, and no network needed once `cargo xtask doctor` has run.
The first run builds the book's builder (about a minute); later runs take a second.

Usage: cargo xtask book [--serve] [--port N]

Options:
  --serve      build, then serve the book on http://127.0.0.1:PORT/ until Ctrl-C;
               a page asked for after a chapter changed is rebuilt first
  --port N     the port to serve on; 0 picks a free one               [3000]
  -h, --help   print this help

Exit status: 0 when the book was built (and, with --serve, when stopped), 1 when
it could not be built or served, 2 on a bad option.
";

/// The port `--serve` uses unless told otherwise (mdBook's own default).
pub const DEFAULT_PORT: u16 = 3000;
/// The builder's package and binary, a workspace member outside the default members.
pub const BUILDER: &str = "book";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct BookOptions {
    /// `Some(port)` to serve after building.
    pub serve: Option<u16>,
}

/// Parses the arguments after `book`; `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<BookOptions>, String> {
    use lexopt::prelude::*;

    let mut serve = false;
    let mut port = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Long("serve") => serve = true,
            Long("port") => {
                let value = parser.value().map_err(|err| err.to_string())?;
                let parsed = value.to_str().and_then(|text| text.parse::<u16>().ok());
                port = Some(parsed.ok_or_else(|| {
                    format!(
                        "--port takes a port number from 0 to 65535, not {:?}",
                        value.to_string_lossy()
                    )
                })?);
            }
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    match (serve, port) {
        (false, Some(_)) => {
            Err("--port is for --serve: `cargo xtask book --serve --port N`".into())
        }
        (true, port) => Ok(Some(BookOptions {
            serve: Some(port.unwrap_or(DEFAULT_PORT)),
        })),
        (false, None) => Ok(Some(BookOptions { serve: None })),
    }
}

pub fn run(options: BookOptions, root: &Path) -> ExitCode {
    let cargo = crate::cargo::cargo();
    let builder = match build_builder(&cargo, root, false) {
        Ok(builder) => builder,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut command = Command::new(&builder);
    match options.serve {
        None => command.arg("build").arg(root.join("docs")),
        Some(port) => command
            .arg("serve")
            .arg(root.join("docs"))
            .args(["--port", &port.to_string()]),
    };
    // In this process's place, so that the PID of `cargo xtask book --serve` is the server's
    // and Ctrl-C or a kill stops it.
    crate::stop::run_in_place(command, &builder)
}

/// Builds the builder with cargo (its progress on stderr) and returns its executable.
/// `offline` is for the doctor, which proves that no network is needed.
pub fn build_builder(cargo: &OsStr, root: &Path, offline: bool) -> Result<PathBuf, String> {
    let mut command = Command::new(cargo);
    command
        .args(["build", "--locked", "--package", BUILDER, "--bin", BUILDER])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if offline {
        command.arg("--offline");
    }
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot run {}: {err}", cargo.to_string_lossy()))?;
    let executable = crate::cargo::executable_named(&mut child, BUILDER);
    let status = child
        .wait()
        .map_err(|err| format!("cannot wait for cargo: {err}"))?;
    match executable {
        Some(executable) if status.success() => Ok(executable),
        _ => Err(format!(
            "the book's builder (`cargo build -p {BUILDER}`) did not build ({status}); \
             cargo's first error above says why (if it asks for a network, run \
             `cargo xtask doctor` once on one)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Option<BookOptions>, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn builds_by_default_and_serves_when_asked() {
        assert_eq!(parse_strs(&[]), Ok(Some(BookOptions { serve: None })));
        assert_eq!(
            parse_strs(&["--serve"]),
            Ok(Some(BookOptions {
                serve: Some(DEFAULT_PORT)
            }))
        );
        assert_eq!(
            parse_strs(&["--serve", "--port", "0"]),
            Ok(Some(BookOptions { serve: Some(0) }))
        );
        assert_eq!(parse_strs(&["--help"]), Ok(None));
        assert_eq!(parse_strs(&["-h", "--serve"]), Ok(None));
    }

    #[test]
    fn bad_options_say_what_to_do() {
        assert!(
            parse_strs(&["--port", "1"])
                .unwrap_err()
                .contains("--serve")
        );
        assert!(parse_strs(&["--serve", "--port", "x"]).is_err());
        assert!(parse_strs(&["build"]).is_err());
        assert!(BOOK_HELP.contains("--serve") && BOOK_HELP.contains("--port N"));
    }
}
