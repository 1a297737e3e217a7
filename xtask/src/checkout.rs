//! Which checkout of the project xtask works on, found when it runs.
//!
//! Not `env!("CARGO_MANIFEST_DIR")`: that is the folder xtask was *compiled* in, and cargo
//! hashes a workspace member's path relative to its workspace, so two clones that share one
//! target directory (`CARGO_TARGET_DIR`, or `build.target-dir` in `~/.cargo/config.toml`)
//! share one xtask binary too. With the compile-time path, `cargo xtask book` in one clone
//! built the other clone's book, and `workshop start` wrote the student's file into it.
//!
//! `cargo run` (and so `cargo xtask`) gives the process it starts `CARGO_MANIFEST_DIR` at run
//! time as well, the folder of the package it runs in *this* checkout; a child xtask (the
//! release one `lab` and `bench` start) inherits it. Run by hand, the binary looks from the
//! current folder up.

use std::path::{Path, PathBuf};

/// The project's root folder, the workspace xtask belongs to: from the `CARGO_MANIFEST_DIR`
/// cargo gave this process, else from the current folder; each looked for upwards, so any
/// member's folder leads to the root. Every command that reads or writes the checkout's
/// files asks here.
pub fn workspace_root() -> Result<PathBuf, String> {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let current = std::env::current_dir().ok();
    root_from(from_cargo.as_deref(), current.as_deref())
}

/// [`workspace_root`] on given starting folders, so a test can try any.
fn root_from(from_cargo: Option<&Path>, current: Option<&Path>) -> Result<PathBuf, String> {
    from_cargo
        .into_iter()
        .chain(current)
        .find_map(root_above)
        .ok_or_else(|| {
            let looked = current.map_or(String::new(), |folder| {
                format!(" (looked from {} up)", folder.display())
            });
            format!(
                "cannot find the project's checkout{looked}: run `cargo xtask ...` inside the \
                 folder you cloned, or a folder in it"
            )
        })
}

/// The nearest folder from `start` up that is the project's root: it has a `Cargo.toml` and
/// xtask's own `xtask/Cargo.toml` (a member crate's folder has the first but not the second).
fn root_above(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|folder| folder.join("Cargo.toml").is_file() && is_xtask(folder))
        .map(Path::to_path_buf)
}

fn is_xtask(folder: &Path) -> bool {
    folder.join("xtask").join("Cargo.toml").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A folder shaped like a checkout: a root manifest, xtask's and one member's.
    fn fake_checkout(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("xtask-checkout-{name}-{}", std::process::id()));
        for manifest in [
            "Cargo.toml",
            "xtask/Cargo.toml",
            "crates/stage-1/Cargo.toml",
        ] {
            let path = root.join(manifest);
            fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
            fs::write(&path, "").expect("a manifest");
        }
        root
    }

    #[test]
    fn found_from_cargos_folder_first_then_the_current_one() {
        let first = fake_checkout("first");
        let second = fake_checkout("second");
        // `cargo run -p xtask` in the first: its xtask folder, whatever the current folder.
        assert_eq!(
            root_from(Some(&first.join("xtask")), Some(&second)),
            Ok(first.clone())
        );
        // A member's folder (a test of stage 1 that starts xtask) leads to the root too.
        assert_eq!(
            root_from(Some(&first.join("crates/stage-1")), None),
            Ok(first.clone())
        );
        // Run by hand, from a folder inside the second.
        assert_eq!(
            root_from(None, Some(&second.join("crates/stage-1"))),
            Ok(second.clone())
        );
        // A CARGO_MANIFEST_DIR of some other project: the current folder decides.
        let elsewhere = std::env::temp_dir();
        assert_eq!(
            root_from(Some(&elsewhere), Some(&second)),
            Ok(second.clone())
        );
        let _ = fs::remove_dir_all(&first);
        let _ = fs::remove_dir_all(&second);
    }

    #[test]
    fn outside_any_checkout_says_where_to_run_it() {
        let outside = std::env::temp_dir().join(format!("xtask-nowhere-{}", std::process::id()));
        fs::create_dir_all(&outside).expect("a folder");
        let Err(message) = root_from(None, Some(&outside)) else {
            panic!("a folder with no checkout above it has no root");
        };
        assert_eq!(
            message,
            format!(
                "cannot find the project's checkout (looked from {} up): run `cargo xtask ...` \
                 inside the folder you cloned, or a folder in it",
                outside.display()
            )
        );
        let _ = fs::remove_dir_all(&outside);
    }
}
