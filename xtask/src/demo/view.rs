//! What the demo shows of a scenario's results, computed once for every renderer (the table,
//! the HTML page, the JSON, and the lab's verdicts): each row's numbers in column order, its
//! verdict in plain words and its tone (the colour), the scenario's title and lesson, and the
//! cpu scenario's comparison of stage 5 with stage 4. The numbers and the judgement come
//! from `measure::summary`; the timeline draws the requests themselves.

use std::time::Duration;

use measure::catalogue::{Binary, Stage};
use measure::scenario::Scenario;
use measure::summary::{RunOutcome, Summary};
use measure::verdicts::Parallelism;

use crate::demo::scenario_words::describe;
use crate::pipeline::{BinaryRun, ScenarioResult};
use crate::units::short;

/// A scenario's results with what every renderer shows of them.
pub struct ScenarioView {
    pub result: ScenarioResult,
    /// The scenario's title and its lesson, in words.
    pub title: String,
    pub lesson: String,
    /// One per run, in the result's order.
    pub rows: Vec<RowView>,
    /// In the cpu scenario: how much faster stage 5 did the batch than stage 4, per runtime.
    pub cpu_comparisons: Vec<String>,
}

impl ScenarioView {
    pub fn of(result: ScenarioResult, cores: usize) -> ScenarioView {
        let (title, lesson) = describe(result.scenario, &result.settings);
        let rows = result
            .runs
            .iter()
            .map(|run| RowView::of_run(run, result.scenario, cores))
            .collect();
        let cpu_comparisons = cpu_comparisons(&result, cores);
        ScenarioView {
            result,
            title,
            lesson,
            rows,
            cpu_comparisons,
        }
    }
}

/// What a binary's row shows: its numbers and verdict, or, for a binary that could not run,
/// no numbers and the first line of why.
#[derive(Clone, Debug, PartialEq)]
pub struct RowView {
    /// The four numbers, in the columns' order (see [`row_numbers`]).
    pub numbers: [Option<Duration>; 4],
    pub tone: Tone,
    /// The verdict in plain words, such as "fast requests waited 1.9 s for the slow one".
    pub verdict: String,
    /// In the cpu scenario: how many cores the batch kept busy.
    pub cores_busy: Option<f64>,
}

impl RowView {
    pub fn of_run(run: &BinaryRun, scenario: Scenario, cores: usize) -> RowView {
        match &run.outcome {
            Ok(measured) => RowView::of(&measured.summary, scenario, run.binary.stage, cores),
            Err(failure) => RowView {
                numbers: [None; 4],
                tone: Tone::Broken,
                verdict: failure.first_line().to_string(),
                cores_busy: None,
            },
        }
    }

    /// The row of a binary that ran, from its summary.
    pub fn of(summary: &Summary, scenario: Scenario, stage: Stage, cores: usize) -> RowView {
        RowView {
            numbers: row_numbers(summary, scenario),
            tone: tone(summary.outcome),
            verdict: verdict_in_words(summary, scenario, stage, cores),
            cores_busy: match summary.outcome {
                RunOutcome::Cpu(batch) => Some(cores_busy(batch.speedup, cores)),
                _ => None,
            },
        }
    }
}

/// Good news (green), the lesson's bad news (yellow), or broken (red).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Broken,
}

fn tone(outcome: RunOutcome) -> Tone {
    match outcome {
        RunOutcome::DidNotWait => Tone::Good,
        RunOutcome::Cpu(batch) if matches!(batch.parallelism(), Parallelism::Parallel(_)) => {
            Tone::Good
        }
        RunOutcome::Failed => Tone::Broken,
        _ => Tone::Bad,
    }
}

/// How many cores a CPU batch kept busy, for the reader: its speed-up, which noise can push
/// past the machine's cores, which it cannot use.
fn cores_busy(speedup: f64, machine_cores: usize) -> f64 {
    speedup.min(machine_cores.max(1) as f64)
}

/// The verdict in plain words, such as "fast requests waited 1.9 s for the slow one".
fn verdict_in_words(
    summary: &Summary,
    scenario: Scenario,
    stage: Stage,
    machine_cores: usize,
) -> String {
    let fast = summary.fast;
    let (p50, max) = fast.map_or((String::new(), String::new()), |fast| {
        (short(fast.p50), short(fast.max))
    });
    let mut verdict = match summary.outcome {
        RunOutcome::Waited => {
            let what = match (scenario, stage) {
                (Scenario::BusyPool, Stage::Two) => "for a free worker",
                (Scenario::BusyPool, _) => "for the slow ones",
                (Scenario::Blocking, _) => "for the blocked thread",
                (Scenario::Idle, _) => "for an idle client (until --read-timeout-ms)",
                _ => "for the slow one",
            };
            format!("fast requests waited {p50} {what}")
        }
        RunOutcome::SomeWaited => {
            format!("most fast requests did not wait (p50 {p50}), but the slowest waited {max}")
        }
        RunOutcome::DidNotWait => format!("fast requests did not wait (p50 {p50})"),
        RunOutcome::Partly => format!("fast requests waited part of the delay (p50 {p50})"),
        RunOutcome::Cpu(batch) => {
            let cores = cores_busy(batch.speedup, machine_cores);
            let how = match batch.parallelism() {
                Parallelism::Parallel(_) => "at once".to_string(),
                Parallelism::OneThread => "one after another".to_string(),
                Parallelism::CannotTell => format!(
                    "at once or not: cannot tell, the machine was busy (a calibration beside \
                     it got only {:.1}× from {} cores): close other programs and run again",
                    batch.spare.unwrap_or_default(),
                    batch.cores
                ),
            };
            let plural = if cores >= 1.05 { "s" } else { "" };
            let took = summary.batch.map(short).unwrap_or_default();
            format!(
                "{} × /cpu took {took}: ≈{cores:.1} core{plural} busy, {how}",
                batch.size
            )
        }
        RunOutcome::Failed if scenario == Scenario::Cpu => "the batch could not be measured".into(),
        RunOutcome::Failed => "no fast request was answered".into(),
    };
    if let Some(first) = &summary.first_error {
        verdict = format!(
            "{verdict}; {} of {} requests failed: {first}",
            summary.failed, summary.total
        );
    }
    verdict
}

/// The four numbers of a summary's row, in the table's and the page's column order: in the
/// cpu scenario the request alone, the batch, and the batch's p50 and max; else the slowest
/// slow request (in the idle scenario, how long the idle client was open) and the fast
/// requests' p50, p99 and max.
fn row_numbers(summary: &Summary, scenario: Scenario) -> [Option<Duration>; 4] {
    let fast = summary.fast;
    match scenario {
        Scenario::Cpu => [
            summary.slow,
            summary.batch,
            fast.map(|p| p.p50),
            fast.map(|p| p.max),
        ],
        Scenario::Idle => [
            summary.idle,
            fast.map(|p| p.p50),
            fast.map(|p| p.p99),
            fast.map(|p| p.max),
        ],
        Scenario::Slow | Scenario::BusyPool | Scenario::Blocking => [
            summary.slow,
            fast.map(|p| p.p50),
            fast.map(|p| p.p99),
            fast.map(|p| p.max),
        ],
    }
}

/// For the cpu scenario: how much faster stage 5 did the batch than stage 4, per runtime.
fn cpu_comparisons(result: &ScenarioResult, cores: usize) -> Vec<String> {
    let batch_of = |stage: Stage, binary: &Binary| {
        let twin = Binary::of(stage, binary.runtime)?;
        result.runs.iter().find_map(|run| {
            let ran = run.outcome.as_ref().ok()?;
            (run.binary == *twin).then_some((twin.name, ran.summary.batch?))
        })
    };
    let mut lines = Vec::new();
    for run in result
        .runs
        .iter()
        .filter(|run| run.binary.stage == Stage::Five)
    {
        let (Some((five, b5)), Some((four, b4))) = (
            batch_of(Stage::Five, &run.binary),
            batch_of(Stage::Four, &run.binary),
        ) else {
            continue;
        };
        if b5.is_zero() {
            continue;
        }
        let ratio = b4.as_secs_f64() / b5.as_secs_f64();
        let cores = match cores {
            1 => "1 core".to_string(),
            n => format!("{n} cores"),
        };
        lines.push(format!(
            "{five} finished the batch {ratio:.1}× as fast as {four} ({} vs {}; this machine has {cores})",
            short(b5),
            short(b4)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::catalogue::Lesson;
    use measure::summary::{Percentiles, waiting_outcome};

    fn summary_of(fast: &[u64]) -> Summary {
        let fast = Percentiles::of(fast.iter().map(|&v| Duration::from_millis(v)).collect());
        let outcome = fast.map_or(RunOutcome::Failed, |fast| {
            waiting_outcome(&fast, Duration::from_millis(2000))
        });
        Summary {
            slow: None,
            idle: None,
            fast,
            batch: None,
            fast_threads: Vec::new(),
            failed: 0,
            total: 11,
            first_error: None,
            outcome,
            lesson: Lesson::Wait,
        }
    }

    #[test]
    fn verdicts_in_plain_words() {
        let words =
            |fast: &[u64], scenario| verdict_in_words(&summary_of(fast), scenario, Stage::One, 2);
        assert_eq!(
            words(&[1900, 1905, 1910], Scenario::Slow),
            "fast requests waited 1.9 s for the slow one"
        );
        assert_eq!(
            words(&[1, 1, 2], Scenario::Slow),
            "fast requests did not wait (p50 1.0 ms)"
        );
        assert_eq!(
            words(&[1900, 1905, 1910], Scenario::Idle),
            "fast requests waited 1.9 s for an idle client (until --read-timeout-ms)"
        );
        let mut failed = summary_of(&[1, 1, 2]);
        failed.failed = 1;
        failed.first_error = Some("status 500".into());
        assert_eq!(
            verdict_in_words(&failed, Scenario::Slow, Stage::One, 2),
            "fast requests did not wait (p50 1.0 ms); 1 of 11 requests failed: status 500"
        );
    }
}
