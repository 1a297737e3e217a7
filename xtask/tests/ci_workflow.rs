//! CI tests the toolchain the project declares: the workflows' "1.85" must be Cargo.toml's
//! rust-version, so raising one without the other fails here.

use std::fs;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// `rust-version = "1.85"` of the workspace's Cargo.toml.
fn declared_rust_version() -> String {
    read("Cargo.toml")
        .lines()
        .find_map(|line| {
            let value = line.trim().strip_prefix("rust-version")?.trim();
            Some(
                value
                    .strip_prefix('=')?
                    .trim()
                    .trim_matches('"')
                    .to_string(),
            )
        })
        .expect("Cargo.toml declares a rust-version")
}

#[test]
fn ci_runs_the_declared_rust_version_on_three_systems() {
    let version = declared_rust_version();
    let ci = read(".github/workflows/ci.yml");
    assert!(
        ci.contains(&format!("rust: [\"{version}\", stable]")),
        "ci.yml's matrix must test rust-version {version} and stable"
    );
    for os in ["ubuntu-latest", "macos-latest", "windows-latest"] {
        assert!(ci.contains(os), "ci.yml runs on {os}");
    }
    assert!(ci.contains("run: bash .ci/run"), "ci.yml runs .ci/run");
}

#[test]
fn the_book_is_published_with_the_declared_rust_version() {
    let version = declared_rust_version();
    let book = read(".github/workflows/book.yml");
    assert!(
        book.contains(&format!("toolchain: \"{version}\"")),
        "book.yml builds the book on rust-version {version}"
    );
    assert!(book.contains("run: cargo xtask book"));
}
