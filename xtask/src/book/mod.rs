//! `cargo xtask book`: builds the mdBook in `docs/` when mdbook is installed, and says how
//! to install it when it is not. (The chapters are plain Markdown in `docs/src`; the build
//! replaces their `{{#include}}` lines with the real code.)

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

pub const BOOK_HELP: &str = "\
Usage: cargo xtask book

Builds the book in docs/ into docs/book/ with mdbook, and says where it is.

Options:
  -h, --help  print this help
";

/// What `cargo xtask book` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct BookOptions {}

/// `Ok(None)` asks for the help.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<BookOptions>, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    match parser.next().map_err(|err| err.to_string())? {
        None => Ok(Some(BookOptions {})),
        Some(Short('h') | Long("help")) => Ok(None),
        Some(other) => Err(other.unexpected().to_string()),
    }
}

pub fn run(_options: BookOptions, root: &Path) -> ExitCode {
    let docs = root.join("docs");
    match Command::new("mdbook").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        _ => {
            eprintln!(
                "mdbook is not installed (or not on the PATH).\n\
                 Install it with `cargo install mdbook --locked` (a few minutes, once), then run \
                 `cargo xtask book` again.\n\
                 Meanwhile the chapters are plain Markdown in {}.",
                docs.join("src").display()
            );
            return ExitCode::FAILURE;
        }
    }
    match Command::new("mdbook").arg("build").arg(&docs).status() {
        Ok(status) if status.success() => {
            let index = docs.join("book").join("index.html");
            println!("The book is in {}", index.display());
            ExitCode::SUCCESS
        }
        Ok(status) => {
            eprintln!("error: `mdbook build docs` failed ({status}); see its messages above");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: cannot run mdbook: {err}");
            ExitCode::FAILURE
        }
    }
}
