//! The book's builder: mdBook as a library, pinned by the workspace's Cargo.lock, so the book
//! builds with nothing installed but cargo, and offline once `cargo xtask doctor` has fetched
//! the crates. `cargo xtask book` runs it; it is not a default member, so a plain
//! `cargo build` never compiles mdBook.
//!
//! ```text
//! book build DOCS                   the book in DOCS/book.toml, built into its build-dir
//! book serve DOCS [--host H] [--port N] [--allow-remote]
//!                                   builds it, then serves the built pages on loopback,
//!                                   rebuilding when a source changed before a page is sent;
//!                                   a --host that is not loopback needs --allow-remote
//! ```

mod listings;
mod serve;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

const USAGE: &str = "\
Usage: book build DOCS
       book serve DOCS [--host HOST] [--port PORT] [--allow-remote]

--host is loopback only (127.0.0.1, ::1, localhost) unless --allow-remote:
then anyone who can reach HOST can read the book.

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
        allow_remote: bool,
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
        Ok(Command::Serve {
            docs,
            host,
            port,
            allow_remote,
        }) => serve::run(&docs, &host, port, allow_remote),
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
    let mut allow_remote = false;
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
            Long("allow-remote") if command.as_deref() == Some("serve") => allow_remote = true,
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
        Some("serve") => Ok(Command::Serve {
            docs,
            host,
            port,
            allow_remote,
        }),
        _ => Err("build or serve?".into()),
    }
}

/// Builds the book in `docs` and returns the folder it was written to. An error that mdBook
/// only logs (an `{{#include}}` of a missing file, for one) fails the build too, so a broken
/// include is never published silently.
pub fn build(docs: &Path) -> Result<PathBuf, String> {
    refuse_links_out(docs, Path::new("src"))?;
    let mut book = mdbook::MDBook::load(docs)
        .map_err(|err| format!("cannot load the book in {}: {err:#}", docs.display()))?;
    book.with_preprocessor(listings::ListingsAtColumnZero);
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

/// The most entries [`refuse_links_out`] looks at: the book has about a hundred files; a
/// folder this big is not a book's sources, and the check stops rather than take minutes.
const MAX_SOURCE_ENTRIES: usize = 100_000;

/// Refuses a symbolic link under `docs/src_dir` that leads outside that folder (or nowhere):
/// mdBook would copy what it points to into the built pages, and serve it, such as a fork's
/// committed link to a file of the reader's home. The error names the link by its path
/// under `docs`. Links that stay inside the folder are fine.
fn refuse_links_out(docs: &Path, src_dir: &Path) -> Result<(), String> {
    let src = docs.join(src_dir);
    let Ok(real_src) = std::fs::canonicalize(&src) else {
        // No sources folder: mdBook says so, in its own words.
        return Ok(());
    };
    let mut folders = vec![src_dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(docs.join(&folder))
            .map_err(|err| format!("cannot read {}: {err}", folder.display()))?;
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_SOURCE_ENTRIES {
                return Err(format!(
                    "{} holds more than {MAX_SOURCE_ENTRIES} files and folders: not a book's \
                     sources; move what is not the book out of it",
                    src_dir.display()
                ));
            }
            let relative = folder.join(entry.file_name());
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                match std::fs::canonicalize(entry.path()) {
                    Ok(target) if target.starts_with(&real_src) => {}
                    Ok(_) => {
                        return Err(format!(
                            "{} is a symbolic link that leads out of {}: the book would copy \
                             what it points to into its pages, so it is refused. Replace it \
                             with the file itself, or remove it",
                            relative.display(),
                            src_dir.display()
                        ));
                    }
                    Err(_) => {
                        return Err(format!(
                            "{} is a symbolic link that leads nowhere; remove it",
                            relative.display()
                        ));
                    }
                }
            } else if kind.is_dir() {
                folders.push(relative);
            }
        }
    }
    Ok(())
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
                port: 0,
                allow_remote: false,
            })
        );
        assert!(matches!(
            parse_strs(&["serve", "docs", "--host", "192.0.2.1", "--allow-remote"]),
            Ok(Command::Serve {
                allow_remote: true,
                ..
            })
        ));
        assert_eq!(parse_strs(&["serve", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert!(parse_strs(&["build"]).is_err());
        assert!(parse_strs(&["publish", "docs"]).is_err());
        assert!(parse_strs(&["build", "docs", "--port", "1"]).is_err());
        assert!(parse_strs(&["serve", "docs", "--port", "70000"]).is_err());
        assert!(parse_strs(&["build", "docs", "--allow-remote"]).is_err());
    }

    #[test]
    fn serve_refuses_a_host_that_is_not_loopback_without_allow_remote() {
        let err = serve::listen_address("192.0.2.1", 3000, false).expect_err("not loopback");
        assert!(
            err.contains("--allow-remote") && !err.contains('\n'),
            "{err}"
        );
        let err = serve::listen_address("0.0.0.0", 3000, false).expect_err("every address");
        assert!(err.contains("--allow-remote"), "{err}");
        assert!(serve::listen_address("192.0.2.1", 3000, true).is_ok());
        assert!(serve::listen_address("::1", 0, false).is_ok());
        assert!(serve::listen_address("localhost", 0, false).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_sources_is_refused_by_its_path() {
        use std::os::unix::fs::symlink;
        let docs = std::env::temp_dir().join(format!("book-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&docs);
        std::fs::create_dir_all(docs.join("src/chapter")).expect("a temporary folder");
        std::fs::write(docs.join("src/intro.md"), "# Intro").expect("write a chapter");
        std::fs::write(docs.join("secret.txt"), "outside").expect("write a file");
        // A link that stays inside the sources is fine.
        symlink(docs.join("src/intro.md"), docs.join("src/chapter/again.md")).expect("a link");
        assert_eq!(refuse_links_out(&docs, Path::new("src")), Ok(()));

        symlink(docs.join("secret.txt"), docs.join("src/chapter/leak.md")).expect("a link");
        let err = refuse_links_out(&docs, Path::new("src")).expect_err("a link out");
        assert!(
            err.starts_with("src/chapter/leak.md is a symbolic link that leads out of src"),
            "{err}"
        );
        assert!(
            !err.contains(&*docs.to_string_lossy()),
            "no absolute path: {err}"
        );
        // The build refuses it before mdBook copies anything.
        let err = build(&docs).expect_err("refused");
        assert!(err.contains("src/chapter/leak.md"), "{err}");
        std::fs::remove_file(docs.join("src/chapter/leak.md")).expect("remove the link");

        symlink(docs.join("nothing-here"), docs.join("src/dangling.md")).expect("a link");
        let err = refuse_links_out(&docs, Path::new("src")).expect_err("a link to nothing");
        assert!(
            err.contains("src/dangling.md") && err.contains("nowhere"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&docs);
    }
}
