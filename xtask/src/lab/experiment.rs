//! One run of the lab: a scenario of the demo against the chosen binaries, each a fresh
//! server, with the demo's build, plan, client and verdicts, streamed as it happens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use measure::catalogue::{BINARIES, Binary, WORKERS};
use measure::scenario::{self, Plan, Scenario, Settings};
use serde_json::Value;

use crate::demo::args::{MAX_FAST, MAX_SLOW_MS, MIN_SLOW_MS};

use crate::demo::scenario_words::describe;
use crate::lab::events::{BinaryVerdict, Event, Guess, Lane, LiveMarks, last_lines, planned};
use crate::lab::state::Lab;
use crate::pipeline::{self, BinaryRun, FailedAt, Observer, RequestWatcher, ScenarioResult};
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
/// "guesses": {"stage-1": "wait"}}`; everything but `binaries` may be left out. A field of
/// the wrong type or out of its range is refused with its name and range, never replaced by
/// its default: a run of other settings than asked for would teach the wrong thing.
pub fn parse(body: &str) -> Result<Experiment, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|err| format!("the request is not JSON: {err}"))?;
    if !value.is_object() {
        return Err(format!(
            "the request is a JSON object such as {{\"binaries\": [\"1\", \"5\"]}}, not {value}"
        ));
    }
    let scenario_names = || {
        Scenario::ALL
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let scenario = match value.get("scenario") {
        None => Scenario::Slow,
        Some(Value::String(name)) => Scenario::from_name(name)
            .ok_or_else(|| format!("unknown scenario {name:?}: one of {}", scenario_names()))?,
        Some(other) => {
            return Err(format!(
                "scenario: a name, one of {}, not {other}",
                scenario_names()
            ));
        }
    };
    let names = match value.get("binaries") {
        Some(Value::Array(names)) => names,
        None => return Err("pick at least one binary".to_string()),
        Some(other) => {
            return Err(format!(
                "binaries: a list of stage numbers or names such as [\"1\", \"stage-4-tokio\"], \
                 not {other}"
            ));
        }
    };
    let mut binaries = Vec::new();
    for name in names {
        let binary = name.as_str().and_then(binary_named).ok_or_else(|| {
            format!(
                "unknown binary {name}: a stage number (1 to 5) or a name such as stage-4-tokio"
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
    let slow_ms = whole_number(
        &value,
        "slow_ms",
        "the delay of /sleep and /block, in ms,",
        MIN_SLOW_MS..=MAX_SLOW_MS,
    )?
    .unwrap_or(DEFAULT_SLOW_MS);
    let fast = whole_number(
        &value,
        "fast",
        "the number of fast requests",
        1..=MAX_FAST as u64,
    )?
    .map_or(DEFAULT_FAST, |fast| {
        usize::try_from(fast).unwrap_or(MAX_FAST)
    });
    let mut guesses = Vec::new();
    match value.get("guesses") {
        None => {}
        Some(Value::Object(map)) => {
            for (name, guess) in map {
                let guess = guess.as_str().and_then(Guess::from_name).ok_or_else(|| {
                    format!(
                        "guesses: \"wait\" or \"no-wait\" for each binary, not {guess} for {name}"
                    )
                })?;
                // A guess for a binary that does not run is dropped.
                if let Some(binary) = binaries.iter().find(|b| b.name == name) {
                    guesses.push((binary.name, guess));
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "guesses: an object such as {{\"stage-1\": \"wait\"}}, not {other}"
            ));
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

/// The whole number in `field` of `value`, if there is one, within `range`: `None` when it is
/// left out. A string, a fraction, a negative number or one out of range is refused with
/// the field's name and range (`1.5e6` and `2000.0` are numbers too; the first is out of range).
fn whole_number(
    value: &Value,
    field: &str,
    what: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, String> {
    let Some(given) = value.get(field) else {
        return Ok(None);
    };
    let refused = || {
        format!(
            "{field}: {what} is a whole number from {} to {}, not {given}",
            range.start(),
            range.end()
        )
    };
    let number = match given {
        Value::Number(number) => number,
        _ => return Err(refused()),
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|float| float.fract() == 0.0 && *float >= 0.0 && *float <= u64::MAX as f64)
            // Exact: a whole float of at most 2^64 converts without rounding.
            .map(|float| float as u64)
    });
    match whole {
        Some(whole) if range.contains(&whole) => Ok(Some(whole)),
        _ => Err(refused()),
    }
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
    let built = pipeline::build(lab.workspace(), binaries);
    let mut live = LiveRun {
        lab,
        run,
        scenario,
        guesses,
    };
    let result =
        pipeline::run_scenario(scenario, settings, binaries, &built, lab.cores(), &mut live);
    let ran: Vec<_> = result
        .runs
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .collect();
    lab.emit(&Event::RunFinished {
        run,
        as_expected: ran.iter().filter(|r| r.summary.as_expected()).count(),
        of: result.runs.len(),
    });
    result
}

/// The lab's view of a run under way: every step, streamed to the pages as an event.
struct LiveRun<'a> {
    lab: &'a Arc<Lab>,
    run: u64,
    scenario: Scenario,
    guesses: &'a [(&'static str, Guess)],
}

impl LiveRun<'_> {
    fn lane(&self, binary: &Binary) -> Lane {
        Lane::Run {
            run: self.run,
            binary: binary.name,
        }
    }
}

impl Observer for LiveRun<'_> {
    fn started(&mut self, binary: &Binary, server: &TrackedServer, plan: &Plan) {
        let lane = self.lane(binary);
        self.lab.emit(&Event::BinaryStarted {
            lane,
            pid: server.pid,
            addr: server.addr.to_string(),
        });
        for event in planned(lane, plan.requests()) {
            self.lab.emit(&event);
        }
    }

    fn requests(&mut self, binary: &Binary) -> RequestWatcher {
        Box::new(watcher(Arc::clone(self.lab), self.lane(binary)))
    }

    fn finished(&mut self, binary_run: &BinaryRun) {
        let binary = &binary_run.binary;
        let lane = self.lane(binary);
        match &binary_run.outcome {
            Ok(measured) => self.lab.emit(&Event::Verdict(BinaryVerdict {
                lane,
                scenario: self.scenario,
                binary,
                ran: measured,
                cores: self.lab.cores(),
                guess: self
                    .guesses
                    .iter()
                    .find(|(name, _)| *name == binary.name)
                    .map(|(_, guess)| *guess),
            })),
            Err(failure) => self.lab.emit(&Event::BinaryFailed {
                lane,
                phase: match failure.failed_at {
                    FailedAt::Build => "build",
                    FailedAt::Start => "start",
                },
                message: failure.headline().to_string(),
                stderr: last_lines(&failure.message),
            }),
        }
    }
}

/// Streams a lane's requests as the demo's client sends and ends them.
fn watcher(
    lab: Arc<Lab>,
    lane: Lane,
) -> impl Fn(scenario::RequestEvent<'_>) + Send + Sync + 'static {
    let marks = Mutex::new(LiveMarks::default());
    move |progress| match progress {
        scenario::RequestEvent::Sending { index, at } => {
            lab.emit(&Event::RequestSent { lane, index, at });
        }
        scenario::RequestEvent::Ended { index, at, sent } => {
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

        // A whole number written as a float is the number.
        let float =
            parse(r#"{"binaries": ["1"], "slow_ms": 1000.0, "fast": 3e0}"#).expect("whole floats");
        assert_eq!(float.settings.delay, Duration::from_millis(1000));
        assert_eq!(float.settings.fast, 3);
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
            // Wrong types and numbers out of range, once replaced by the defaults.
            (r#"{"binaries": ["1"], "slow_ms": 1e12}"#, "slow_ms:"),
            (
                r#"{"binaries": ["1"], "slow_ms": "1000000000000"}"#,
                "100 to 20000",
            ),
            (r#"{"binaries": ["1"], "slow_ms": 1500.5}"#, "whole number"),
            (r#"{"binaries": ["1"], "slow_ms": null}"#, "not null"),
            (
                r#"{"binaries": ["1"], "fast": -5}"#,
                "fast: the number of fast",
            ),
            (
                r#"{"binaries": ["1"], "fast": 1.5e6}"#,
                "1 to 100, not 1500000.0",
            ),
            (r#"{"binaries": ["1"], "fast": "3"}"#, "not \"3\""),
            (r#"{"binaries": "1"}"#, "binaries: a list"),
            (r#"{"binaries": [1]}"#, "unknown binary 1"),
            (r#"{"binaries": ["1"], "scenario": 3}"#, "scenario: a name"),
            (
                r#"{"binaries": ["1"], "guesses": ["wait"]}"#,
                "guesses: an object",
            ),
            (
                r#"{"binaries": ["1"], "guesses": {"stage-1": "maybe"}}"#,
                "\"wait\" or \"no-wait\"",
            ),
            ("[1]", "a JSON object"),
        ] {
            let err = parse(body).expect_err(body);
            assert!(err.contains(says), "{body}: {err}");
        }
    }
}
