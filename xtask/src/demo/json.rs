//! `--json FILE`: every request's timings, and each binary's summary, for your own analysis.
//!
//! - `runs`: one record per scenario and binary, with its summary and verdict (or why it could
//!   not run).
//! - `requests`: one record per request. `scheduled_ms` counts from the start of that binary's
//!   run; `connect_ms`, `first_byte_ms` and `done_ms` count from the request's own scheduled
//!   moment, so `done_ms` is its latency. A missing time is `null`. `status` is 0 when no
//!   response came, and `error` is why the request did not end as it should (else `null`).
//! - The idle scenario's idle client (`role: "idle"`, `path: null`) sends nothing: it has no
//!   response, `first_byte_ms` is `null`, `done_ms` is when the server closed it, and
//!   `closed_by_server: true` is its expected end (`error` stays `null`). The run's `idle_ms`
//!   is how long the server kept it open, and `read_timeout_ms` the `--read-timeout-ms` the
//!   demo gave the servers (`null` in the other scenarios: the servers' default).
//! - Each request's `served_by` is the thread that wrote its response, from the response's
//!   `X-Served-By` header (`null` without a response). Each run's `fast_threads` lists the
//!   threads that served its fast requests (in the cpu scenario, its batch), in the order they
//!   first answered: one for stage 4, several for stage 5.
//! - Each run's `server_log` is the server's stderr: one line per request, with the thread that
//!   served it. Its first line is the demo's warm-up `GET /`, sent before the scenario.

use std::time::Duration;

use measure::scenario::{Role, Scenario};
use measure::verdicts;
use serde_json::{Value, json};

use crate::demo::args::DemoOptions;
use crate::demo::view::ScenarioView;
use crate::units::millis;
use measure::summary::Percentiles;

const MAX_LOG_LINES: usize = 500;

/// What the JSON says about the command that measured: the demo's options, or the lab's run.
pub struct Header<'a> {
    pub command: &'a str,
    pub scenarios: &'a [Scenario],
    pub slow: Duration,
    pub fast: usize,
    pub cores: usize,
}

impl Header<'_> {
    pub fn demo(options: &DemoOptions, cores: usize) -> Header<'_> {
        Header {
            command: "cargo xtask demo",
            scenarios: &options.scenarios,
            slow: options.slow,
            fast: options.fast,
            cores,
        }
    }
}

pub fn render(views: &[ScenarioView], header: &Header) -> Value {
    let ms = |d: Option<Duration>| d.map(millis);
    let percentiles = |p: Option<Percentiles>| {
        p.map(|p| {
            json!({
                "count": p.count,
                "p50_ms": millis(p.p50),
                "p99_ms": millis(p.p99),
                "max_ms": millis(p.max),
            })
        })
    };
    let mut runs = Vec::new();
    let mut requests = Vec::new();
    for view in views {
        let result = &view.result;
        let scenario = result.scenario.name();
        for (stage, row_view) in result.runs.iter().zip(&view.rows) {
            let binary = &stage.binary;
            let mut record = json!({
                "scenario": scenario,
                "stage": binary.stage.number(),
                "package": binary.package,
                "binary": binary.name,
                "runtime": binary.runtime.name(),
                "model": binary.stage.model_words(),
            });
            let details = match &stage.outcome {
                Err(failure) => json!({
                    "status": failure.headline(),
                    "error": failure.message,
                }),
                Ok(ran) => {
                    let summary = &ran.summary;
                    let log: Vec<&str> = ran.log.lines().take(MAX_LOG_LINES).collect();
                    json!({
                        "status": "ran",
                        "pid": ran.pid,
                        "address": ran.addr.to_string(),
                        "slow_ms": ms(summary.slow),
                        "idle_ms": ms(summary.idle),
                        "read_timeout_ms": result
                            .scenario
                            .server_read_timeout(&result.settings)
                            .map(|timeout| timeout.as_millis()),
                        "fast": percentiles(summary.fast),
                        "fast_threads": summary.fast_threads,
                        "batch_ms": ms(summary.batch),
                        "cores_busy": row_view.cores_busy,
                        "failed_requests": summary.failed,
                        "requests": summary.total,
                        "outcome": summary.outcome.name(),
                        "verdict": row_view.verdict,
                        "lesson": summary.lesson.name(),
                        "as_expected": summary.as_expected(),
                        "exited_early": ran.exited_early,
                        "server_log": log,
                    })
                }
            };
            merge(&mut record, details);
            runs.push(record);

            let Ok(ran) = &stage.outcome else { continue };
            for (index, sent) in ran.run.requests.iter().enumerate() {
                let timing = &sent.exchange.timing;
                requests.push(json!({
                    "scenario": scenario,
                    "stage": binary.stage.number(),
                    "binary": binary.name,
                    "runtime": binary.runtime.name(),
                    "index": index,
                    "role": sent.role.name(),
                    "path": (sent.role != Role::Idle).then_some(sent.path),
                    "scheduled_ms": millis(ran.run.offset(sent)),
                    "connect_ms": ms(timing.connect),
                    "first_byte_ms": ms(timing.first_byte),
                    "done_ms": millis(timing.done),
                    "status": sent.exchange.status(),
                    "served_by": sent.exchange.served_by(),
                    "closed_by_server": sent.closed_by_server(),
                    "error": sent.error(),
                }));
            }
        }
    }
    json!({
        "command": header.command,
        "settings": {
            "scenarios": header.scenarios.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "slow_ms": header.slow.as_millis(),
            "fast": header.fast,
            "workers": measure::catalogue::WORKERS,
            "cores": header.cores,
            "host": "127.0.0.1",
        },
        "method": {
            "latency": "from the moment each request was scheduled to be sent (no coordinated omission)",
            "percentiles": "nearest rank over an exact sort",
            "waited": format!("fast p50 >= {} x slow_ms", verdicts::WAITED),
            "did_not_wait": format!("fast p50 < {} x slow_ms", verdicts::DID_NOT_WAIT),
            "cores_busy": "batch size x time of one /cpu alone / time of the batch",
            "many_cores": format!(
                "cores_busy >= {} and the batch's last answer <= {} x batch size x its first, \
                 and cores_busy <= {} x the machine's cores (more is a stall, not parallelism)",
                verdicts::PARALLEL_SPEEDUP,
                verdicts::PARALLEL_SPREAD,
                verdicts::PLAUSIBLE_PER_CORE
            ),
            "idle": "a connection that sends nothing; the server (--read-timeout-ms = slow_ms) \
                     should close it without a response; the fast requests wait or not as above",
        },
        "runs": runs,
        "requests": requests,
    })
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}
