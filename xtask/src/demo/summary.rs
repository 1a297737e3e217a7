//! From a run's timings to the numbers in the table and a verdict in plain words.
//!
//! Percentiles are exact: the latencies are sorted and the p-th percentile is the value at
//! nearest rank ⌈p/100 × n⌉ (so with 10 requests, p99 is the slowest one). No average is
//! reported: one very slow request would hide in it.

use std::time::Duration;

use measure::scenario::{Role, Run, Scenario, Sent, Settings};

use crate::units::short;
use measure::catalogue::{Binary, Lesson, lesson};

/// "waited" means at least this share of the delay (a wide margin for noisy machines).
pub const WAITED: f64 = 0.8;
/// "did not wait" means under this share of the delay.
pub const DID_NOT_WAIT: f64 = 0.3;
/// A CPU batch kept "several cores" busy at this many cores' worth of work or more...
const MANY_CORES: f64 = 1.4;
/// ...and "one core" under this.
const ONE_CORE: f64 = 1.25;

/// p50, p99 and max of a set of latencies, by nearest rank over an exact sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Percentiles {
    pub fn of(mut values: Vec<Duration>) -> Option<Percentiles> {
        values.sort_unstable();
        let max = *values.last()?;
        Some(Percentiles {
            count: values.len(),
            p50: nearest_rank(&values, 50.0),
            p99: nearest_rank(&values, 99.0),
            max,
        })
    }
}

/// The `percent`-th percentile of sorted values: the value at rank ⌈percent/100 × n⌉.
pub fn nearest_rank(sorted: &[Duration], percent: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let n = sorted.len();
    // Ranks are small whole numbers, so the float arithmetic is exact enough.
    let rank = ((percent / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// What the run showed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The fast requests' p50 was at least 0.8 × the delay.
    Waited,
    /// The fast requests' p50 was under 0.3 × the delay, and none waited the whole delay.
    DidNotWait,
    /// Most did not wait, but at least one waited the whole delay.
    SomeWaited,
    /// Neither clearly: p50 between 0.3 and 0.8 × the delay.
    Partly,
    /// The CPU batch kept this many cores busy on average.
    Cores(f64),
    /// Too many requests failed to say.
    Failed,
}

impl Outcome {
    /// A short name for JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Waited => "waited",
            Outcome::DidNotWait => "did-not-wait",
            Outcome::SomeWaited => "some-waited",
            Outcome::Partly => "partly-waited",
            Outcome::Cores(cores) if cores >= MANY_CORES => "many-cores",
            Outcome::Cores(cores) if cores < ONE_CORE => "one-core",
            Outcome::Cores(_) => "between",
            Outcome::Failed => "failed",
        }
    }

    /// Whether this is what the stage should show.
    pub fn matches(self, lesson: Lesson) -> bool {
        match (self, lesson) {
            (Outcome::Waited, Lesson::Wait) | (Outcome::DidNotWait, Lesson::NoWait) => true,
            (Outcome::Cores(cores), Lesson::ManyCores) => cores >= MANY_CORES,
            (Outcome::Cores(cores), Lesson::OneCore) => cores < ONE_CORE,
            _ => false,
        }
    }

    /// Good news (green), the lesson's bad news (yellow), or broken (red).
    pub fn tone(self) -> Tone {
        match self {
            Outcome::DidNotWait => Tone::Good,
            Outcome::Cores(cores) if cores >= MANY_CORES => Tone::Good,
            Outcome::Failed => Tone::Broken,
            _ => Tone::Bad,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Broken,
}

/// The numbers of one binary in one scenario, and what they mean.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The slowest slow request, or in the cpu scenario the `/cpu` sent alone.
    pub slow: Option<Duration>,
    /// In the idle scenario: how long the server kept the idle client's connection open
    /// before it closed it (its `--read-timeout-ms`, if it works).
    pub idle: Option<Duration>,
    /// The fast requests, or in the cpu scenario the batch's requests.
    pub fast: Option<Percentiles>,
    /// The cpu batch: from its scheduled start to the end of its last request.
    pub batch: Option<Duration>,
    /// How many requests did not end as they should (a request: `200 OK`; an idle client:
    /// closed by the server), of how many.
    pub failed: usize,
    pub total: usize,
    pub outcome: Outcome,
    pub verdict: String,
    pub lesson: Lesson,
}

impl Summary {
    pub fn as_expected(&self) -> bool {
        self.outcome.matches(self.lesson)
    }
}

/// What a request came to: `None` for `200 OK`, else why not. (For a request of a scenario,
/// whose role says what it should come to, see [`measure::scenario::Sent::error`].)
pub fn request_error(exchange: &measure::Exchange) -> Option<String> {
    match &exchange.response {
        Ok(response) if response.status == 200 => None,
        Ok(response) => Some(format!("status {}", response.status)),
        Err(err) => Some(err.to_string()),
    }
}

pub fn summarize(
    scenario: Scenario,
    settings: &Settings,
    binary: &Binary,
    run: &Run,
    machine_cores: usize,
) -> Summary {
    let latencies = |role: Role| -> Vec<Duration> {
        run.requests
            .iter()
            .filter(|sent| sent.role == role)
            .map(|sent| sent.exchange.latency())
            .collect()
    };
    let errors: Vec<String> = run.requests.iter().filter_map(Sent::error).collect();
    let total = run.requests.len();
    let lesson = lesson(binary.stage, scenario, machine_cores);

    let (slow, fast, batch, outcome, mut verdict) = if scenario == Scenario::Cpu {
        let alone = latencies(Role::Alone).into_iter().max();
        let batch_requests: Vec<_> = run
            .requests
            .iter()
            .filter(|sent| sent.role == Role::Batch)
            .collect();
        let batch = batch_span(&batch_requests);
        let fast = Percentiles::of(latencies(Role::Batch));
        let all_ok = errors.is_empty();
        match (alone, batch) {
            (Some(alone), Some(batch)) if all_ok && !batch.is_zero() => {
                let count = batch_requests.len();
                // An estimate: noise can push it past the machine's cores, which it cannot use.
                let cores = (count as f64 * alone.as_secs_f64() / batch.as_secs_f64())
                    .min(machine_cores.max(1) as f64);
                let outcome = Outcome::Cores(cores);
                let how = match outcome.name() {
                    "many-cores" => "at once",
                    "one-core" => "one after another",
                    _ => "partly at once",
                };
                let plural = if cores >= 1.05 { "s" } else { "" };
                let verdict = format!(
                    "{count} × /cpu took {}: ≈{cores:.1} core{plural} busy, {how}",
                    short(batch),
                );
                (Some(alone), fast, Some(batch), outcome, verdict)
            }
            _ => (
                alone,
                fast,
                batch,
                Outcome::Failed,
                "the batch could not be measured".to_string(),
            ),
        }
    } else {
        let slow = latencies(Role::Slow).into_iter().max();
        let fast_ok: Vec<Duration> = run
            .requests
            .iter()
            .filter(|sent| sent.role == Role::Fast)
            .filter(|sent| sent.error().is_none())
            .map(|sent| sent.exchange.latency())
            .collect();
        let fast = Percentiles::of(latencies(Role::Fast));
        match Percentiles::of(fast_ok) {
            None => (
                slow,
                fast,
                None,
                Outcome::Failed,
                "no fast request was answered".to_string(),
            ),
            Some(ok) => {
                let (outcome, verdict) = wait_verdict(scenario, binary, settings.delay, &ok);
                (slow, fast, None, outcome, verdict)
            }
        }
    };

    if let Some(first) = errors.first() {
        verdict = format!(
            "{verdict}; {} of {total} requests failed: {first}",
            errors.len()
        );
    }
    let idle = run
        .requests
        .iter()
        .filter(|sent| sent.role == Role::Idle)
        .map(Sent::duration)
        .max();
    Summary {
        slow,
        idle,
        fast,
        batch,
        failed: errors.len(),
        total,
        outcome,
        verdict,
        lesson,
    }
}

/// Did the fast requests wait, and for what?
fn wait_verdict(
    scenario: Scenario,
    binary: &Binary,
    delay: Duration,
    fast: &Percentiles,
) -> (Outcome, String) {
    let waited = delay.mul_f64(WAITED);
    let did_not_wait = delay.mul_f64(DID_NOT_WAIT);
    let (p50, max) = (short(fast.p50), short(fast.max));
    if fast.p50 >= waited {
        let what = match (scenario, binary.stage) {
            (Scenario::BusyPool, 2) => "for a free worker",
            (Scenario::BusyPool, _) => "for the slow ones",
            (Scenario::Blocking, _) => "for the blocked thread",
            (Scenario::Idle, _) => "for an idle client (until --read-timeout-ms)",
            _ => "for the slow one",
        };
        (
            Outcome::Waited,
            format!("fast requests waited {p50} {what}"),
        )
    } else if fast.p50 < did_not_wait && fast.max >= waited {
        (
            Outcome::SomeWaited,
            format!("most fast requests did not wait (p50 {p50}), but the slowest waited {max}"),
        )
    } else if fast.p50 < did_not_wait {
        (
            Outcome::DidNotWait,
            format!("fast requests did not wait (p50 {p50})"),
        )
    } else {
        (
            Outcome::Partly,
            format!(
                "fast requests waited part of the {} delay (p50 {p50})",
                short(delay)
            ),
        )
    }
}

/// For the cpu scenario: how much faster stage 5 did the batch than stage 4, per runtime.
pub fn cpu_comparisons(result: &crate::demo::results::ScenarioResult, cores: usize) -> Vec<String> {
    let batch_of = |stage: u8, runtime: &str| {
        result.runs.iter().find_map(|run| {
            let ran = run.outcome.as_ref().ok()?;
            (run.binary.stage == stage && run.binary.runtime == runtime)
                .then_some((run.binary.name.as_str(), ran.summary.batch?))
        })
    };
    let mut lines = Vec::new();
    for run in result.runs.iter().filter(|run| run.binary.stage == 5) {
        let runtime = run.binary.runtime;
        let (Some((five, b5)), Some((four, b4))) = (batch_of(5, runtime), batch_of(4, runtime))
        else {
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

/// From the batch's scheduled start to the end of its last request.
fn batch_span(batch: &[&measure::scenario::Sent]) -> Option<Duration> {
    let start = batch.iter().map(|sent| sent.exchange.scheduled).min()?;
    batch
        .iter()
        .map(|sent| {
            (sent.exchange.scheduled + sent.exchange.timing.done).saturating_duration_since(start)
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(nearest_rank(&values, 50.0), Duration::from_millis(5));
        assert_eq!(nearest_rank(&values, 99.0), Duration::from_millis(10));
        assert_eq!(nearest_rank(&values, 0.0), Duration::from_millis(1));
        let hundred: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(nearest_rank(&hundred, 99.0), Duration::from_millis(99));
        assert_eq!(nearest_rank(&[], 50.0), Duration::ZERO);
        let p = Percentiles::of(ms(&[30, 10, 20])).expect("three values");
        assert_eq!(
            (p.count, p.p50, p.p99, p.max),
            (3, ms(&[20])[0], ms(&[30])[0], ms(&[30])[0])
        );
        assert_eq!(Percentiles::of(Vec::new()), None);
    }

    fn verdict(fast: &[u64]) -> (Outcome, String) {
        verdict_in(Scenario::Slow, fast)
    }

    fn verdict_in(scenario: Scenario, fast: &[u64]) -> (Outcome, String) {
        let binary = measure::catalogue::select(&[1], &[])[0].clone();
        let fast = Percentiles::of(ms(fast)).expect("values");
        wait_verdict(scenario, &binary, Duration::from_millis(2000), &fast)
    }

    #[test]
    fn verdicts_in_plain_words() {
        let (outcome, text) = verdict(&[1900, 1905, 1910]);
        assert_eq!(outcome, Outcome::Waited);
        assert_eq!(text, "fast requests waited 1.9 s for the slow one");
        let (outcome, text) = verdict(&[1, 1, 2]);
        assert_eq!(outcome, Outcome::DidNotWait);
        assert_eq!(text, "fast requests did not wait (p50 1.0 ms)");
        assert_eq!(verdict(&[1, 1, 1900]).0, Outcome::SomeWaited);
        assert_eq!(verdict(&[900, 900, 900]).0, Outcome::Partly);
        let (outcome, text) = verdict_in(Scenario::Idle, &[1900, 1905, 1910]);
        assert_eq!(outcome, Outcome::Waited);
        assert_eq!(
            text,
            "fast requests waited 1.9 s for an idle client (until --read-timeout-ms)"
        );
    }

    #[test]
    fn outcomes_match_lessons() {
        assert!(Outcome::Waited.matches(Lesson::Wait));
        assert!(!Outcome::Partly.matches(Lesson::Wait));
        assert!(Outcome::Cores(1.9).matches(Lesson::ManyCores));
        assert!(Outcome::Cores(1.0).matches(Lesson::OneCore));
        assert!(!Outcome::Cores(1.3).matches(Lesson::OneCore));
    }
}
