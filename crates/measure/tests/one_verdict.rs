//! The demo and `cargo xtask check` judge by the same thresholds: fed the same measured
//! numbers, at and around the edge of each threshold, they give the same verdict.

use std::io;
use std::time::{Duration, Instant};

use measure::catalogue::Stage;
use measure::check;
use measure::client::{Exchange, Response, Timing};
use measure::scenario::{Role, Run, Scenario, Sent, Settings};
use measure::summary::{RunOutcome, summarize};
use measure::verdicts;

fn ok(scheduled: Instant, latency: Duration) -> Exchange {
    Exchange {
        scheduled,
        timing: Timing {
            connect: Some(Duration::ZERO),
            first_byte: Some(latency),
            done: latency,
        },
        response: Ok(Response {
            reset_after: false,
            status: 200,
            headers: Vec::new(),
            body: b"hello".to_vec(),
        }),
    }
}

fn sent(role: Role, path: &'static str, exchange: Exchange) -> Sent {
    Sent {
        role,
        path,
        exchange,
    }
}

fn settings(delay: Duration) -> Settings {
    Settings {
        delay,
        fast: 4,
        workers: 4,
    }
}

/// The demo's outcome for a slow request and four fast ones that each took `fast`.
fn demo_waiting(delay: Duration, fast: Duration) -> RunOutcome {
    let start = Instant::now();
    let mut requests = vec![sent(Role::Slow, "/sleep", ok(start, delay))];
    requests.extend((0..4).map(|_| sent(Role::Fast, "/", ok(start, fast))));
    let run = Run {
        start,
        requests,
        beside_batch: Default::default(),
    };
    summarize(Scenario::Slow, &settings(delay), Stage::Five, &run, 2).outcome
}

/// The demo's outcome for a cpu batch: one `/cpu` alone, then the batch's latencies, all sent
/// at the same moment (so the batch took as long as its slowest).
fn demo_cpu(alone: Duration, batch: &[Duration]) -> RunOutcome {
    let start = Instant::now();
    let mut requests = vec![sent(Role::Alone, "/cpu", ok(start, alone))];
    let later = start + Duration::from_secs(1);
    requests.extend(
        batch
            .iter()
            .map(|&latency| sent(Role::Batch, "/cpu", ok(later, latency))),
    );
    let run = Run {
        start,
        requests,
        beside_batch: Default::default(),
    };
    summarize(Scenario::Cpu, &settings(alone), Stage::Five, &run, 2).outcome
}

#[test]
fn waiting_has_one_edge() {
    let delay = Duration::from_millis(1000);
    let edge = verdicts::did_not_wait_ceiling(delay);
    let micro = Duration::from_micros(1);
    for fast in [edge - micro, edge, edge + micro] {
        let demo = demo_waiting(delay, fast);
        let check = check::answered_at_once(fast, delay);
        assert_eq!(
            demo == RunOutcome::DidNotWait,
            check,
            "{fast:?}: the demo says {demo:?}, the check's ramp says at once: {check}"
        );
    }
    let floor = verdicts::waited_floor(delay);
    for fast in [floor - micro, floor] {
        assert!(!check::answered_at_once(fast, delay));
        let demo = demo_waiting(delay, fast);
        assert_eq!(
            demo == RunOutcome::Waited,
            fast >= floor,
            "{fast:?}: {demo:?}"
        );
    }
}

#[test]
fn parallel_has_one_edge() {
    let ms = Duration::from_millis;
    let alone = ms(100);
    // A batch of 4 whose slowest took `together`, so the speed-up is 400 ms ÷ `together`;
    // the spread is the slowest ÷ the fastest.
    let speedup_edge = alone.mul_f64(4.0 / verdicts::PARALLEL_SPEEDUP);
    let cases = [
        // Around the speed-up's edge, with answers close together.
        vec![
            ms(200),
            ms(210),
            ms(220),
            speedup_edge - Duration::from_micros(10),
        ],
        vec![
            ms(200),
            ms(210),
            ms(220),
            speedup_edge + Duration::from_micros(10),
        ],
        // Fast enough, but answers one after another: around the spread's edge (3 × 100 ms).
        vec![ms(100), ms(150), ms(200), ms(300)],
        vec![ms(99), ms(150), ms(200), ms(300)],
    ];
    let mut verdicts_seen = Vec::new();
    for batch in cases {
        let together = batch.iter().max().copied().unwrap_or_default();
        let check = check::cpu_attempt(alone, &batch, together).expect("a batch");
        let demo = demo_cpu(alone, &batch);
        let RunOutcome::Cpu(measured) = demo else {
            panic!("the demo measured no batch: {demo:?}");
        };
        assert_eq!(measured, check, "{batch:?}: the same numbers");
        assert_eq!(
            demo.name() == "many-cores",
            check.is_parallel(),
            "{batch:?}: the demo says {}, the check's attempt parallel: {}",
            demo.name(),
            check.is_parallel()
        );
        verdicts_seen.push(check.is_parallel());
    }
    // The cases straddle both edges: each pair gives one verdict of each kind.
    assert_eq!(verdicts_seen, [true, false, true, false]);
}

#[test]
fn a_failed_fast_request_is_no_verdict() {
    let start = Instant::now();
    let failed = Exchange {
        scheduled: start,
        timing: Timing::default(),
        response: Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
    };
    let run = Run {
        start,
        requests: vec![sent(Role::Fast, "/", failed)],
        beside_batch: Default::default(),
    };
    let summary = summarize(
        Scenario::Slow,
        &settings(Duration::from_secs(1)),
        Stage::One,
        &run,
        2,
    );
    assert_eq!(summary.outcome, RunOutcome::Failed);
    assert_eq!(summary.failed, 1);
}
