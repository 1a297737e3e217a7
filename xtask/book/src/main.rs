//! The book's builder: mdBook as a library, pinned by the workspace's Cargo.lock, so the book
//! builds with nothing installed but cargo, and offline once `cargo xtask doctor` has fetched
//! the crates. `cargo xtask book` runs it; it is not a default member, so a plain
//! `cargo build` never compiles mdBook.
//!
//! ```text
//! book build DOCS                   the book in DOCS/book.toml, built into its build-dir
//! book serve DOCS [--host H] [--port N]
//!                                   builds it, then serves the built pages on loopback,
//!                                   rebuilding when a source changed before a page is sent
//! ```

mod serve;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

const USAGE: &str = "\
Usage: book build DOCS
       book serve DOCS [--host HOST] [--port PORT]

Run it through `cargo xtask book` (see cargo xtask book --help).
";

/// The address `serve` listens on unless told otherwise (mdBook's own default port).
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 3000;

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Build {
        docs: PathBuf,
    },
    Serve {
        docs: PathBuf,
        host: String,
        port: u16,
    },
    Help,
}

fn main() -> ExitCode {
    log::set_logger(&LOGGER)
        .map(|()| log::set_max_level(log::LevelFilter::Warn))
        .expect("no other logger is installed before main's first line");
    match parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Build { docs }) => match build(&docs) {
            Ok(out) => {
                println!("The book is in {}", out.join("index.html").display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Serve { docs, host, port }) => serve::run(&docs, &host, port),
        Err(err) => {
            eprintln!("error: {err}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let mut command: Option<String> = None;
    let mut docs: Option<PathBuf> = None;
    let mut host = DEFAULT_HOST.to_string();
    let mut port = DEFAULT_PORT;
    while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Long("host") if command.as_deref() == Some("serve") => {
                host = parser
                    .value()
                    .map_err(|err| err.to_string())?
                    .into_string()
                    .map_err(|_| "--host needs plain text".to_string())?;
            }
            Long("port") if command.as_deref() == Some("serve") => {
                let value = parser.value().map_err(|err| err.to_string())?;
                port = value
                    .to_str()
                    .and_then(|text| text.parse().ok())
                    .ok_or_else(|| {
                        format!(
                            "--port takes a port number from 0 to 65535, not {:?}",
                            value.to_string_lossy()
                        )
                    })?;
            }
            Value(value) if command.is_none() => {
                let name = value.to_string_lossy().into_owned();
                if name != "build" && name != "serve" {
                    return Err(format!("unknown command {name:?}: build or serve"));
                }
                command = Some(name);
            }
            Value(value) if docs.is_none() => docs = Some(PathBuf::from(value)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let docs = docs.ok_or("which book? give the folder that holds book.toml")?;
    match command.as_deref() {
        Some("build") => Ok(Command::Build { docs }),
        Some("serve") => Ok(Command::Serve { docs, host, port }),
        _ => Err("build or serve?".into()),
    }
}

/// Builds the book in `docs` and returns the folder it was written to. An error that mdBook
/// only logs (an `{{#include}}` of a missing file, for one) fails the build too, so a broken
/// include is never published silently.
pub fn build(docs: &Path) -> Result<PathBuf, String> {
    let book = mdbook::MDBook::load(docs)
        .map_err(|err| format!("cannot load the book in {}: {err:#}", docs.display()))?;
    let errors_before = LOGGER.errors.load(Ordering::Relaxed);
    book.build()
        .map_err(|err| format!("mdBook could not build {}: {err:#}", docs.display()))?;
    let errors = LOGGER.errors.load(Ordering::Relaxed) - errors_before;
    if errors > 0 {
        return Err(format!(
            "mdBook reported {errors} error(s) above while building {}",
            docs.display()
        ));
    }
    Ok(book.build_dir_for("html"))
}

/// mdBook reports problems through the `log` crate: they go to stderr, and errors are counted.
struct Logger {
    errors: AtomicUsize,
}

static LOGGER: Logger = Logger {
    errors: AtomicUsize::new(0),
};

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                "error"
            }
            _ => "warning",
        };
        eprintln!("{level}: {}", record.args());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn reads_both_commands() {
        assert_eq!(
            parse_strs(&["build", "docs"]),
            Ok(Command::Build {
                docs: PathBuf::from("docs")
            })
        );
        assert_eq!(
            parse_strs(&["serve", "docs", "--port", "0", "--host", "::1"]),
            Ok(Command::Serve {
                docs: PathBuf::from("docs"),
                host: "::1".into(),
                port: 0
            })
        );
        assert_eq!(parse_strs(&["serve", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert!(parse_strs(&["build"]).is_err());
        assert!(parse_strs(&["publish", "docs"]).is_err());
        assert!(parse_strs(&["build", "docs", "--port", "1"]).is_err());
        assert!(parse_strs(&["serve", "docs", "--port", "70000"]).is_err());
    }
}
