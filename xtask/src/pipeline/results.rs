//! What a scenario's runs gave: one [`ScenarioResult`] per scenario, one [`BinaryRun`] per
//! binary, which [`Measured`] the server or says why it could not ([`RunFailure`]).

use std::net::SocketAddr;

use measure::scenario::{Run, Scenario, Settings};

use measure::catalogue::Binary;
use measure::summary::Summary;

pub struct ScenarioResult {
    pub scenario: Scenario,
    pub settings: Settings,
    pub runs: Vec<BinaryRun>,
}

pub struct BinaryRun {
    pub binary: Binary,
    pub outcome: Result<Measured, RunFailure>,
}

/// A binary that started and was sent the scenario's requests.
pub struct Measured {
    pub pid: u32,
    pub addr: SocketAddr,
    pub run: Run,
    pub summary: Summary,
    /// The server's stderr: one line per request, with the thread that served it.
    pub log: String,
    /// How the server ended, if it ended before the demo stopped it.
    pub exited_early: Option<String>,
}

/// A binary that could not be run.
#[derive(Clone, Debug)]
pub struct RunFailure {
    pub failed_at: FailedAt,
    /// What went wrong, in a line or a few.
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedAt {
    Build,
    Start,
}

impl RunFailure {
    /// A few words for the table.
    pub fn headline(&self) -> &'static str {
        match self.failed_at {
            FailedAt::Build => "failed to build",
            FailedAt::Start => "failed to start",
        }
    }

    /// The first line of the message, for the table.
    pub fn first_line(&self) -> &str {
        first_line(&self.message)
    }
}

/// The first line of `message` that is not blank: a build error's or a server's, for a table.
pub fn first_line(message: &str) -> &str {
    message
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}
