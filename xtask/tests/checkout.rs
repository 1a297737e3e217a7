//! One xtask binary, run in two checkouts, works on each one's own files: what happens when
//! two clones share a target directory (`CARGO_TARGET_DIR`), where cargo builds xtask once
//! for both. `--version` names the checkout a run works on.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder shaped like a checkout, as far as finding it goes: the root's manifest and
/// xtask's. Removed when dropped.
struct FakeCheckout(PathBuf);

impl FakeCheckout {
    fn new(name: &str) -> FakeCheckout {
        let root =
            std::env::temp_dir().join(format!("xtask-two-checkouts-{name}-{}", std::process::id()));
        std::fs::create_dir_all(root.join("xtask")).expect("a folder");
        std::fs::write(root.join("Cargo.toml"), "").expect("a manifest");
        std::fs::write(root.join("xtask/Cargo.toml"), "").expect("a manifest");
        FakeCheckout(root)
    }
}

impl Drop for FakeCheckout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `xtask --version` run in `current`, with `CARGO_MANIFEST_DIR` as `cargo run` would set it
/// (or without, as when the binary is run by hand): its one line.
fn version_line(current: &Path, manifest_dir: Option<&Path>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("--version").current_dir(current);
    // The test's own CARGO_MANIFEST_DIR (this checkout's xtask) must not leak in.
    command.env_remove("CARGO_MANIFEST_DIR");
    if let Some(folder) = manifest_dir {
        command.env("CARGO_MANIFEST_DIR", folder);
    }
    let output = command.output().expect("run xtask");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim_end()
        .to_string()
}

fn reports(root: &Path) -> String {
    format!(
        "cargo xtask {} ({})",
        env!("CARGO_PKG_VERSION"),
        root.display()
    )
}

#[test]
fn one_binary_run_in_two_checkouts_works_on_each_ones_own() {
    let first = FakeCheckout::new("first");
    let second = FakeCheckout::new("second");
    // As `cargo xtask` runs it: cargo names the xtask folder of the checkout it runs in.
    assert_eq!(
        version_line(&first.0, Some(&first.0.join("xtask"))),
        reports(&first.0)
    );
    assert_eq!(
        version_line(&second.0, Some(&second.0.join("xtask"))),
        reports(&second.0)
    );
    // `cargo run --manifest-path` of the first, from inside the second: cargo's folder wins.
    assert_eq!(
        version_line(&second.0, Some(&first.0.join("xtask"))),
        reports(&first.0)
    );
    // Run by hand: found from the current folder up.
    assert_eq!(
        version_line(&second.0.join("xtask"), None),
        reports(&second.0)
    );
}

#[test]
fn outside_any_checkout_a_command_stops_and_says_where_to_run_it() {
    let outside = std::env::temp_dir().join(format!("xtask-no-checkout-{}", std::process::id()));
    std::fs::create_dir_all(&outside).expect("a folder");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["diff", "1", "2"])
        .current_dir(&outside)
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("run xtask");
    let _ = std::fs::remove_dir_all(&outside);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: cannot find the project's checkout (looked from {} up): run `cargo xtask \
             ...` inside the folder you cloned, or a folder in it\n",
            outside.display()
        )
    );
}
