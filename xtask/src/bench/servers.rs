//! The servers the bench measures (the stages, the reference and nginx) and how it starts
//! them.

use std::fs::File;
use std::path::PathBuf;

use measure::catalogue::{self, Expected, Stage};

use crate::cargo::BinTarget;
use crate::stop::{self, TrackedServer};
use crate::units;

use super::SLEEP;

/// A server the bench measures, by what it is: a stage's binary from the catalogue, the
/// reference (axum on tokio, `crates/reference`, built by cargo like the stages), or nginx
/// (a row of `--compare-wrk`, not built by cargo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BenchServer {
    Stage(catalogue::Binary),
    Reference,
    Nginx,
}

impl BenchServer {
    /// Its name in the tables and the JSON, and its binary target's name.
    pub(super) fn name(&self) -> &'static str {
        match self {
            BenchServer::Stage(binary) => binary.name,
            BenchServer::Reference => "reference",
            BenchServer::Nginx => "nginx",
        }
    }

    /// Its model in the table's words.
    pub(super) fn model(&self) -> &'static str {
        match self {
            BenchServer::Stage(binary) => binary.stage.model_words(),
            BenchServer::Reference => "axum (reference)",
            BenchServer::Nginx => "nginx, 2 workers",
        }
    }

    /// The stage it is a binary of; the reference and nginx are none.
    pub(super) fn stage(&self) -> Option<Stage> {
        match self {
            BenchServer::Stage(binary) => Some(binary.stage),
            BenchServer::Reference | BenchServer::Nginx => None,
        }
    }

    /// What cargo builds for it; nginx is installed, not built.
    pub(super) fn target(&self) -> Option<BinTarget> {
        match self {
            BenchServer::Stage(binary) => Some(BinTarget::from(binary)),
            BenchServer::Reference => Some(BinTarget {
                package: "reference",
                name: "reference",
            }),
            BenchServer::Nginx => None,
        }
    }

    pub(super) fn expected(&self) -> Option<Expected> {
        self.stage().map(Stage::expected)
    }
}

/// The outside tools of `--compare-wrk`, where installed.
pub(super) struct Outside {
    pub(super) wrk: Option<PathBuf>,
    pub(super) nginx: Option<PathBuf>,
    /// The directory of nginx's configuration and logs.
    pub(super) dir: PathBuf,
    /// `shared-assets`, which nginx serves.
    pub(super) assets: PathBuf,
}

/// Starts a server, its request log going to a file (truncated at each start), and waits for
/// its first answer. Reading the log into the bench's memory instead would take CPU from the
/// server under load.
pub(super) fn start(
    executable: &std::path::Path,
    args: &[String],
) -> Result<TrackedServer, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = std::env::temp_dir().join(format!("xtask-bench-{}.log", std::process::id()));
    // Registered as it starts, so Ctrl-C stops it, and refused once Ctrl-C has begun; on Linux
    // it dies with the bench.
    let server = stop::start_server_logging_to(executable, &args, File::create(&log).ok())
        .map_err(|err| err.to_string())?;
    if measure::process::warm_up(server.addr).is_err() {
        return Err(format!(
            "it did not answer GET / with 200 within {}",
            units::short(measure::process::WARM_UP_TIMEOUT)
        ));
    }
    Ok(server)
}

pub(super) fn server_args(binary: &BenchServer) -> Vec<String> {
    let mut args = vec![
        "--host".to_string(),
        "127.0.0.1".to_string(),
        "--sleep-ms".to_string(),
        SLEEP.as_millis().to_string(),
    ];
    if binary.stage().is_some_and(Stage::takes_workers) {
        // The pool of the demo's table ("thread pool of 4").
        args.extend(["--workers".to_string(), catalogue::WORKERS.to_string()]);
    }
    args
}
