//! From a scenario's run to its numbers and its outcome: what the demo's table shows, and
//! whether it is the lesson the stage should show.
//!
//! Percentiles are exact: the latencies are sorted and the p-th percentile is the value at
//! nearest rank ⌈p/100 × n⌉ (so with 10 requests, p99 is the slowest one). No average is
//! reported: one very slow request would hide in it.

use std::time::Duration;

use crate::catalogue::{Lesson, Stage};
use crate::scenario::{Role, Run, Scenario, Sent, Settings};
use crate::verdicts::{self, CpuBatch, Parallelism, Waiting};

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

/// What the run showed, judged by [`verdicts`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunOutcome {
    /// The fast requests' p50 waited ([`verdicts::WAITED`] × the delay or more).
    Waited,
    /// The fast requests' p50 did not wait, and none waited the whole delay.
    DidNotWait,
    /// Most did not wait, but at least one waited.
    SomeWaited,
    /// Neither clearly: p50 between the two thresholds.
    Partly,
    /// The CPU batch, against one `/cpu` alone: parallel, taking turns, or cannot tell (the
    /// machine had no cores to spare), by [`CpuBatch::parallelism`].
    Cpu(CpuBatch),
    /// Too many requests failed to say.
    Failed,
}

impl RunOutcome {
    /// A short name, for JSON.
    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Waited => "waited",
            RunOutcome::DidNotWait => "did-not-wait",
            RunOutcome::SomeWaited => "some-waited",
            RunOutcome::Partly => "partly-waited",
            RunOutcome::Cpu(batch) => match batch.parallelism() {
                Parallelism::Parallel(_) => "many-cores",
                Parallelism::OneThread => "one-core",
                Parallelism::CannotTell => "cannot-tell-busy",
            },
            RunOutcome::Failed => "failed",
        }
    }

    /// Whether this is what the stage should show.
    pub fn matches(self, lesson: Lesson) -> bool {
        match (self, lesson) {
            (RunOutcome::Waited, Lesson::Wait) | (RunOutcome::DidNotWait, Lesson::NoWait) => true,
            (RunOutcome::Cpu(batch), Lesson::ManyCores) => {
                matches!(batch.parallelism(), Parallelism::Parallel(_))
            }
            (RunOutcome::Cpu(batch), Lesson::OneCore) => {
                batch.parallelism() == Parallelism::OneThread
            }
            _ => false,
        }
    }
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
    /// The threads that served the fast requests (in the cpu scenario, the batch), from each
    /// response's `X-Served-By`, in the order they first answered: one for stage 4, several
    /// for stage 5 when there is work to share.
    pub fast_threads: Vec<String>,
    /// How many requests did not end as they should (a request: `200 OK`; an idle client:
    /// closed by the server), of how many, and the first one's error.
    pub failed: usize,
    pub total: usize,
    pub first_error: Option<String>,
    pub outcome: RunOutcome,
    /// What the stage should show here.
    pub lesson: Lesson,
}

impl Summary {
    pub fn as_expected(&self) -> bool {
        self.outcome.matches(self.lesson)
    }
}

/// Sums up what `stage` did in a run of `scenario`, on a machine with `machine_cores`.
pub fn summarize(
    scenario: Scenario,
    settings: &Settings,
    stage: Stage,
    run: &Run,
    machine_cores: usize,
) -> Summary {
    let with_role = |role: Role| run.requests.iter().filter(move |sent| sent.role == role);
    let latencies = |role: Role| -> Vec<Duration> {
        with_role(role)
            .map(|sent| sent.exchange.latency())
            .collect()
    };
    let errors: Vec<String> = run.requests.iter().filter_map(Sent::error).collect();
    let mut summary = Summary {
        slow: None,
        idle: with_role(Role::Idle).map(Sent::duration).max(),
        fast: None,
        batch: None,
        fast_threads: threads_that_served(with_role(if scenario == Scenario::Cpu {
            Role::Batch
        } else {
            Role::Fast
        })),
        failed: errors.len(),
        total: run.requests.len(),
        first_error: errors.first().cloned(),
        outcome: RunOutcome::Failed,
        lesson: stage.lesson(scenario, machine_cores),
    };
    if scenario == Scenario::Cpu {
        let batch: Vec<&Sent> = with_role(Role::Batch).collect();
        summary.slow = latencies(Role::Alone).into_iter().max();
        summary.fast = Percentiles::of(latencies(Role::Batch));
        summary.batch = batch_span(&batch);
        if let (Some(alone), Some(together), true) =
            (summary.slow, summary.batch, errors.is_empty())
        {
            if let Some(measured) =
                CpuBatch::measure(alone, &latencies(Role::Batch), together, machine_cores)
            {
                summary.outcome = RunOutcome::Cpu(measured.beside(run.beside_batch));
            }
        }
    } else {
        summary.slow = latencies(Role::Slow).into_iter().max();
        summary.fast = Percentiles::of(latencies(Role::Fast));
        let answered: Vec<Duration> = with_role(Role::Fast)
            .filter(|sent| sent.error().is_none())
            .map(|sent| sent.exchange.latency())
            .collect();
        if let Some(answered) = Percentiles::of(answered) {
            summary.outcome = waiting_outcome(&answered, settings.delay);
        }
    }
    summary
}

/// The distinct threads named by these requests' responses, in the order of their answers.
pub fn threads_that_served<'a>(requests: impl Iterator<Item = &'a Sent>) -> Vec<String> {
    let mut answered: Vec<&Sent> = requests
        .filter(|sent| sent.exchange.served_by().is_some())
        .collect();
    answered.sort_by_key(|sent| sent.exchange.scheduled + sent.exchange.timing.done);
    let mut threads: Vec<String> = Vec::new();
    for sent in answered {
        if let Some(thread) = sent.exchange.served_by()
            && !threads.iter().any(|seen| seen == thread)
        {
            threads.push(thread.to_string());
        }
    }
    threads
}

/// Did the fast requests wait behind a `delay`? Their p50 says; their slowest says whether
/// some did although most did not.
pub fn waiting_outcome(fast: &Percentiles, delay: Duration) -> RunOutcome {
    match (
        verdicts::waiting(fast.p50, delay),
        verdicts::waiting(fast.max, delay),
    ) {
        (Waiting::Waited, _) => RunOutcome::Waited,
        (Waiting::DidNotWait, Waiting::Waited) => RunOutcome::SomeWaited,
        (Waiting::DidNotWait, _) => RunOutcome::DidNotWait,
        (Waiting::Partly, _) => RunOutcome::Partly,
    }
}

/// From the batch's scheduled start to the end of its last request.
fn batch_span(batch: &[&Sent]) -> Option<Duration> {
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

    fn outcome(fast: &[u64]) -> RunOutcome {
        let fast = Percentiles::of(ms(fast)).expect("values");
        waiting_outcome(&fast, Duration::from_millis(2000))
    }

    #[test]
    fn waiting_outcomes() {
        assert_eq!(outcome(&[1900, 1905, 1910]), RunOutcome::Waited);
        assert_eq!(outcome(&[1, 1, 2]), RunOutcome::DidNotWait);
        assert_eq!(outcome(&[1, 1, 1900]), RunOutcome::SomeWaited);
        assert_eq!(outcome(&[900, 900, 900]), RunOutcome::Partly);
    }

    #[test]
    fn outcomes_match_lessons() {
        let with_spare = |speedup, spread, spare| {
            RunOutcome::Cpu(CpuBatch {
                size: 10,
                speedup,
                spread,
                cores: 2,
                together: Duration::from_secs(1),
                server_cpu: None,
                spare: Some(spare),
                idle: None,
            })
        };
        let batch = |speedup, spread| with_spare(speedup, spread, 1.9);
        assert!(RunOutcome::Waited.matches(Lesson::Wait));
        assert!(!RunOutcome::Partly.matches(Lesson::Wait));
        assert!(batch(1.9, 2.0).matches(Lesson::ManyCores));
        assert!(batch(1.0, 4.0).matches(Lesson::OneCore));
        assert!(!batch(1.3, 2.0).matches(Lesson::OneCore));
        // A speed-up between the edges, or none on a machine without cores to spare: neither
        // lesson is shown, and the outcome says it cannot tell.
        for cannot_tell in [batch(1.3, 7.6), with_spare(1.0, 4.0, 1.5)] {
            assert!(!cannot_tell.matches(Lesson::OneCore), "{cannot_tell:?}");
            assert!(!cannot_tell.matches(Lesson::ManyCores), "{cannot_tell:?}");
            assert_eq!(cannot_tell.name(), "cannot-tell-busy");
        }
        // Beside busy loops, a speed-up is no proof: a server on one thread has shown one.
        assert!(!with_spare(1.5, 2.0, 1.5).matches(Lesson::ManyCores));
    }
}
