//! What the demo measured: one [`ScenarioResult`] per scenario, one [`StageRun`] per binary.

use std::net::SocketAddr;

use measure::scenario::{Run, Scenario, Settings};

use measure::catalogue::Binary;
use measure::summary::Summary;

pub struct ScenarioResult {
    pub scenario: Scenario,
    pub settings: Settings,
    pub runs: Vec<StageRun>,
}

pub struct StageRun {
    pub binary: Binary,
    pub outcome: Result<Ran, Failure>,
}

/// A binary that started and was sent the scenario's requests.
pub struct Ran {
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
pub struct Failure {
    pub phase: Phase,
    /// What went wrong, in a line or a few.
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Build,
    Start,
}

impl Failure {
    /// A few words for the table.
    pub fn headline(&self) -> &'static str {
        match self.phase {
            Phase::Build => "failed to build",
            Phase::Start => "failed to start",
        }
    }

    /// The first line of the message, for the table.
    pub fn first_line(&self) -> &str {
        self.message
            .lines()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("")
    }
}
