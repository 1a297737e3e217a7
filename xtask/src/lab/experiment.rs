//! One run of the lab: a scenario of the demo against the chosen binaries, each a fresh
//! server, with the demo's build, plan, client and verdicts, streamed as it happens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use measure::catalogue::{BINARIES, Binary, WORKERS};
use measure::scenario::{self, Scenario, Settings};
use serde_json::Value;

use crate::cargo::{self, BinTarget};
use crate::demo::args::{MAX_FAST, MAX_SLOW_MS, MIN_SLOW_MS};
use crate::demo::results::{Failure, Phase, ScenarioResult, StageRun};
use crate::demo::scenario_words::describe;
use crate::lab::events::{Event, Guess, Lane, LiveMarks, Verdict, last_lines, planned};
use crate::lab::server::Lab;
use crate::stop::TrackedServer;

/// What a page asked to run.
#[derive(Debug, PartialEq)]
pub struct Experiment {
    pub scenario: Scenario,
    pub binaries: Vec<Binary>,
    pub settings: Settings,
    pub guesses: Vec<(&'static str, Guess)>,
}

/// The page's defaults: the demo's.
pub const DEFAULT_SLOW_MS: u64 = 2000;
pub const DEFAULT_FAST: usize = 10;

/// A binary by its catalogue name (`stage-4-tokio`), or a stage by its number (`4`: its
/// default binary).
pub fn binary_named(name: &str) -> Option<Binary> {
    let name = name.trim();
    if let Some(stage) = name
        .parse::<u8>()
        .ok()
        .and_then(measure::catalogue::Stage::from_number)
    {
        return Some(*stage.default_binary());
    }
    BINARIES.iter().find(|binary| binary.name == name).copied()
}

/// Reads `{"scenario": "slow", "binaries": ["stage-1", "5"], "slow_ms": 2000, "fast": 10,
/// "guesses": {"stage-1": "wait"}}`; everything but `binaries` may be left out.
pub fn parse(body: &str) -> Result<Experiment, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|err| format!("the request is not JSON: {err}"))?;
    let scenario = match value["scenario"].as_str() {
        None => Scenario::Slow,
        Some(name) => Scenario::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
            format!("unknown scenario {name:?}: one of {}", names.join(", "))
        })?,
    };
    let mut binaries = Vec::new();
    for name in value["binaries"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        let binary = binary_named(name).ok_or_else(|| {
            format!(
                "unknown binary {name:?}: a stage number (1 to 5) or a name such as stage-4-tokio"
            )
        })?;
        if !binaries.contains(&binary) {
            binaries.push(binary);
        }
    }
    if binaries.is_empty() {
        return Err("pick at least one binary".to_string());
    }
    // In the order of the progression, as the demo runs them.
    binaries.sort_by_key(|binary| BINARIES.iter().position(|b| b == binary));
    let slow_ms = value["slow_ms"].as_u64().unwrap_or(DEFAULT_SLOW_MS);
    if !(MIN_SLOW_MS..=MAX_SLOW_MS).contains(&slow_ms) {
        return Err(format!(
            "the delay takes {MIN_SLOW_MS} to {MAX_SLOW_MS} ms, not {slow_ms}"
        ));
    }
    let fast = value["fast"].as_u64().map_or(Ok(DEFAULT_FAST), |n| {
        usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_FAST).contains(n))
            .ok_or_else(|| format!("fast requests: 1 to {MAX_FAST}, not {n}"))
    })?;
    let mut guesses = Vec::new();
    if let Some(map) = value["guesses"].as_object() {
        for (name, guess) in map {
            let guess = guess.as_str().and_then(Guess::from_name);
            if let (Some(binary), Some(guess)) = (binaries.iter().find(|b| b.name == name), guess) {
                guesses.push((binary.name, guess));
            }
        }
    }
    Ok(Experiment {
        scenario,
        binaries,
        settings: Settings {
            delay: Duration::from_millis(slow_ms),
            fast,
            workers: WORKERS,
        },
        guesses,
    })
}

/// Runs `experiment` as run number `run`, streaming every step to the lab's pages, and
/// returns what the demo would have measured.
pub fn run(lab: &Arc<Lab>, run: u64, experiment: &Experiment) -> ScenarioResult {
    let Experiment {
        scenario,
        binaries,
        settings,
        guesses,
    } = experiment;
    let (scenario, settings) = (*scenario, *settings);
    let (title, lesson) = describe(scenario, &settings);
    lab.emit(&Event::RunStarted {
        run,
        scenario,
        settings,
        binaries,
        guesses,
        title,
        lesson,
    });
    // Built every run, as the demo does: a no-op unless a stage's code changed.
    let targets: Vec<BinTarget> = binaries.iter().map(BinTarget::from).collect();
    let built = cargo::build(lab.workspace(), &targets);
    let plan = scenario.plan(&settings);
    let mut runs = Vec::new();
    for binary in binaries {
        let lane = Lane::Run {
            run,
            binary: binary.name,
        };
        let outcome = match built.get(binary.name) {
            Some(Ok(executable)) => {
                let started = |server: &TrackedServer| {
                    lab.emit(&Event::BinaryStarted {
                        lane,
                        pid: server.pid,
                        addr: server.addr.to_string(),
                    });
                    for event in planned(lane, plan.requests()) {
                        lab.emit(&event);
                    }
                };
                let watch = watcher(Arc::clone(lab), lane);
                crate::demo::run_binary(
                    scenario,
                    &settings,
                    &plan,
                    (binary, executable),
                    lab.cores(),
                    started,
                    watch,
                )
            }
            Some(Err(failure)) => Err(failure.clone()),
            None => Err(Failure {
                phase: Phase::Build,
                message: "not built".to_string(),
            }),
        };
        match &outcome {
            Ok(ran) => lab.emit(&Event::Verdict(Verdict {
                lane,
                scenario,
                binary,
                ran,
                cores: lab.cores(),
                guess: guesses
                    .iter()
                    .find(|(name, _)| *name == binary.name)
                    .map(|(_, guess)| *guess),
            })),
            Err(failure) => lab.emit(&Event::BinaryFailed {
                lane,
                phase: match failure.phase {
                    Phase::Build => "build",
                    Phase::Start => "start",
                },
                message: failure.headline().to_string(),
                stderr: last_lines(&failure.message),
            }),
        }
        runs.push(StageRun {
            binary: *binary,
            outcome,
        });
    }
    let ran: Vec<_> = runs
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .collect();
    lab.emit(&Event::RunFinished {
        run,
        as_expected: ran.iter().filter(|r| r.summary.as_expected()).count(),
        of: runs.len(),
    });
    ScenarioResult {
        scenario,
        settings,
        runs,
    }
}

/// Streams a lane's requests as the demo's client sends and ends them.
fn watcher(lab: Arc<Lab>, lane: Lane) -> impl Fn(scenario::Progress<'_>) + Send + Sync + 'static {
    let marks = Mutex::new(LiveMarks::default());
    move |progress| match progress {
        scenario::Progress::Sending { index, at } => {
            lab.emit(&Event::RequestSent { lane, index, at });
        }
        scenario::Progress::Ended { index, at, sent } => {
            let letter = marks
                .lock()
                .map(|mut marks| marks.letter(sent))
                .unwrap_or(None);
            let ending = crate::lab::events::Ending::of(sent, letter);
            lab.emit(&Event::RequestEnded {
                lane,
                index,
                at,
                ending,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_names_binaries_by_name_or_stage_number() {
        let experiment = parse(
            r#"{"scenario": "blocking", "binaries": ["5", "stage-1", "stage-4-tokio", "1"],
                "slow_ms": 1000, "fast": 3, "guesses": {"stage-1": "wait", "stage-5": "no-wait",
                "stage-2": "wait"}}"#,
        )
        .expect("a good request");
        let names: Vec<&str> = experiment.binaries.iter().map(|b| b.name).collect();
        assert_eq!(names, ["stage-1", "stage-4-tokio", "stage-5"]);
        assert_eq!(experiment.scenario, Scenario::Blocking);
        assert_eq!(experiment.settings.delay, Duration::from_millis(1000));
        assert_eq!(experiment.settings.fast, 3);
        // A guess for a binary that does not run is dropped.
        assert_eq!(
            experiment.guesses,
            [("stage-1", Guess::Wait), ("stage-5", Guess::NoWait)]
        );

        let defaults = parse(r#"{"binaries": ["stage-2"]}"#).expect("defaults");
        assert_eq!(defaults.scenario, Scenario::Slow);
        assert_eq!(
            defaults.settings.delay,
            Duration::from_millis(DEFAULT_SLOW_MS)
        );
        assert_eq!(defaults.settings.fast, DEFAULT_FAST);
    }

    #[test]
    fn a_bad_request_says_what_is_wrong() {
        for (body, says) in [
            ("nope", "not JSON"),
            (r#"{"binaries": []}"#, "at least one"),
            (r#"{"binaries": ["stage-9"]}"#, "unknown binary"),
            (
                r#"{"binaries": ["1"], "scenario": "fast"}"#,
                "unknown scenario",
            ),
            (r#"{"binaries": ["1"], "slow_ms": 5}"#, "100 to 20000"),
            (r#"{"binaries": ["1"], "fast": 0}"#, "1 to 100"),
        ] {
            let err = parse(body).expect_err(body);
            assert!(err.contains(says), "{body}: {err}");
        }
    }
}
