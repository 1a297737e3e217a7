//! Running one scenario against a set of binaries: the demo's and the lab's one way to do it.
//! For each binary: (built by [`build`] before) start it on a free port, warm it up, send the
//! scenario's plan, stop it, and judge what it did; a binary that did not build or start is a
//! [`RunFailure`] in its row, and the next one runs. An [`Observer`] sees each step as it
//! happens: the demo draws a progress line, the lab streams events to its page.

pub mod results;

use std::path::Path;
use std::time::Duration;

use measure::catalogue::Binary;
use measure::scenario::{self, Plan, Scenario, Settings};
use measure::summary::summarize;

use crate::cargo::{self, BinTarget, Built, Workspace};
use crate::stop::{self, TrackedServer};

pub use results::{BinaryRun, FailedAt, Measured, RunFailure, ScenarioResult};

/// What sees a scenario's runs as they happen. Every method does nothing unless overridden.
pub trait Observer {
    /// A built binary is about to start: number `index` (from 0) of `of` in this scenario.
    fn starting(&mut self, _binary: &Binary, _index: usize, _of: usize) {}

    /// `binary` listens as `server`, and is about to be warmed up and sent `plan`.
    fn started(&mut self, _binary: &Binary, _server: &TrackedServer, _plan: &Plan) {}

    /// What is told each request to `binary` as it is sent and as it ends.
    fn requests(&mut self, _binary: &Binary) -> RequestWatcher {
        Box::new(|_| {})
    }

    /// `run` is over, run or failed.
    fn finished(&mut self, _run: &BinaryRun) {}
}

/// Told each request of a run as it is sent and as it ends, on the client's threads.
pub type RequestWatcher = Box<dyn Fn(scenario::RequestEvent<'_>) + Send + Sync>;

/// Builds `binaries` in release mode (a no-op for those whose code did not change).
pub fn build(workspace: &Workspace, binaries: &[Binary]) -> Built {
    let targets: Vec<BinTarget> = binaries.iter().map(BinTarget::from).collect();
    cargo::build(workspace, &targets)
}

/// Runs `scenario` against each of `binaries` in turn, the executables `built` names.
pub fn run_scenario(
    scenario: Scenario,
    settings: Settings,
    binaries: &[Binary],
    built: &Built,
    cores: usize,
    observer: &mut impl Observer,
) -> ScenarioResult {
    let plan = scenario.plan(&settings);
    let mut runs = Vec::new();
    for (index, binary) in binaries.iter().enumerate() {
        let outcome = match built.get(binary.name) {
            Some(Ok(executable)) => {
                observer.starting(binary, index, binaries.len());
                run_binary(
                    scenario,
                    &settings,
                    &plan,
                    (binary, executable),
                    cores,
                    observer,
                )
            }
            Some(Err(message)) => Err(RunFailure {
                failed_at: FailedAt::Build,
                message: message.clone(),
            }),
            None => Err(RunFailure {
                failed_at: FailedAt::Build,
                message: "not built".to_string(),
            }),
        };
        let run = BinaryRun {
            binary: *binary,
            outcome,
        };
        observer.finished(&run);
        runs.push(run);
    }
    ScenarioResult {
        scenario,
        settings,
        runs,
    }
}

/// Starts the binary on a free port, warms it up, sends the plan, and stops it.
fn run_binary(
    scenario: Scenario,
    settings: &Settings,
    plan: &Plan,
    (binary, executable): (&Binary, &Path),
    cores: usize,
    observer: &mut impl Observer,
) -> Result<Measured, RunFailure> {
    let start_failed = |message: String| RunFailure {
        failed_at: FailedAt::Start,
        message,
    };
    let as_ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let read_timeout_ms = scenario.server_read_timeout(settings).map(as_ms);
    let args = binary.args(as_ms(settings.delay), read_timeout_ms);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Registered as it starts, so Ctrl-C stops it, and refused once Ctrl-C has begun.
    let server =
        stop::start_server(executable, &args).map_err(|err| start_failed(err.to_string()))?;
    observer.started(binary, &server, plan);

    if let Err(err) = measure::process::warm_up(server.addr) {
        let log = server.with(|s| s.stderr_text()).unwrap_or_default();
        return Err(start_failed(format!(
            "it did not answer GET / ({err}){}",
            last_line(&log)
        )));
    }

    let run = scenario::run_watched(
        server.addr,
        Some(server.pid),
        plan,
        observer.requests(binary),
    );
    let exited_early = server
        .with(|s| s.exit_status())
        .flatten()
        .map(|status| format!("exited by itself ({status})"));
    let log = server.with(|s| s.stderr_text()).unwrap_or_default();
    let (pid, addr) = (server.pid, server.addr);
    // Stops the server by its PID.
    drop(server);

    let summary = summarize(scenario, settings, binary.stage, &run, cores);
    Ok(Measured {
        pid,
        addr,
        run,
        summary,
        log,
        exited_early,
    })
}

fn last_line(log: &str) -> String {
    match log.lines().rev().find(|line| !line.trim().is_empty()) {
        Some(line) => format!("; its last words: {line}"),
        None => String::new(),
    }
}
