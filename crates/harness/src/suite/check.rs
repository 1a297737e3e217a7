//! `cargo xtask check` against the real stages: its probes must find each stage's model, and a
//! busy machine may make it say "cannot tell", never the wrong model.

use std::time::Duration;

use measure::ServerProcess;
use measure::catalogue::Expected;
use measure::check::{Cpu, Model};

use super::{SUITE_SLEEP_MS, Target, delay};

/// What `cargo xtask check` must find for a stage's expectation: the same judgement the
/// workshop and `cargo xtask check` make, [`measure::check::Report::matches`].
fn assert_check_finds(report: &measure::check::Report, expectation: Expected) {
    println!("{report:#?}");
    assert!(
        report.contract_kept(),
        "the contract was not kept: {report:#?}"
    );
    if report.machine_was_busy_for(expectation) {
        // The model is right; only parallelism could not be shown either way. Never a pass
        // by default: a one-thread server where several were expected (or the reverse) gets
        // a verdict from the blocking requests, which load cannot fake, and fails above.
        println!(
            "NOT MEASURED: whether {expectation:?} holds on CPU-bound requests: the machine was \
             too busy to tell (numbers above), and two blocking requests could not tell either"
        );
        return;
    }
    assert!(
        report.matches(expectation),
        "expected {expectation:?}, found {:?} and {:?}",
        report.model,
        report.cpu
    );
}

/// The check's probes find the stage's model: one at a time, a pool of exactly `--workers`,
/// concurrent on one thread, or concurrent and parallel (where there are cores to show it).
pub fn the_check_finds_the_stage_model(target: &Target) {
    measure::check::alone(|| the_check_finds_the_stage_model_alone(target));
}

fn the_check_finds_the_stage_model_alone(target: &Target) {
    let mut server = target.start();
    let options = measure::check::Options {
        slow: Some(delay()),
        ..Default::default()
    };
    let report = measure::check::check_process(&mut server, &options);
    assert_check_finds(&report, target.expectation);
}

/// Beside two busy loops (as on a laptop that is building something), the check's verdict on
/// parallelism may be "cannot tell", never the wrong one: a parallel server is never called
/// one thread, a one-thread server never parallel. The model itself (concurrent) holds.
pub fn the_check_beside_busy_loops_never_misjudges(target: &Target) {
    measure::check::alone(|| {
        let mut server = target.start();
        let options = measure::check::Options {
            slow: Some(delay()),
            ..Default::default()
        };
        let busy = measure::system::BusyLoops::start(2, Duration::from_secs(60));
        let report = measure::check::check_process(&mut server, &options);
        drop(busy);
        println!("{report:#?}");
        assert!(
            matches!(report.model, Model::Concurrent { .. }),
            "{:?}",
            report.model
        );
        let wrong = match target.expectation {
            Expected::Parallel => matches!(report.cpu, Cpu::OneThread(_)),
            Expected::ConcurrentOnOneThread => matches!(report.cpu, Cpu::Parallel(_)),
            other => panic!("{other:?} has no CPU verdict to misjudge"),
        };
        assert!(
            !wrong,
            "beside busy loops, {:?} was judged {:?}",
            target.expectation, report.cpu
        );
        if matches!(report.cpu, Cpu::Busy(_)) {
            println!("beside busy loops: cannot tell, as it should say when it cannot");
        }
    });
}

/// A limit on requests at once is measured as a pool of that size: `--workers 3` in stage 2,
/// `--max-connections 3` in stages 4 and 5.
/// (Not measured alone: it takes no CPU probe, and the ramp judges by the order of answers,
/// which other tests' light load cannot change.)
pub fn the_check_measures_a_limit_of_3_as_a_pool_of_3(target: &Target) {
    let limit = match target.expectation {
        Expected::OneAtATime => return,
        Expected::Pool { .. } => "--workers",
        Expected::ConcurrentOnOneThread | Expected::Parallel => "--max-connections",
    };
    let mut server = ServerProcess::start(
        target.bin,
        &["--sleep-ms", &SUITE_SLEEP_MS.to_string(), limit, "3"],
    )
    .unwrap_or_else(|err| panic!("could not start {}: {err}", target.bin));
    let options = measure::check::Options {
        slow: Some(delay()),
        measure_cpu: false, // The limit is the point here, not parallelism.
        ..Default::default()
    };
    let report = measure::check::check_process(&mut server, &options);
    assert_check_finds(&report, Expected::Pool { workers: 3 });
}
