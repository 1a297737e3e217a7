//! The table: one row per binary with its numbers, and under it the verdict in plain words.
//!
//! The last column is how many threads served the fast requests (in the cpu scenario, the
//! batch), from the `X-Served-By` of their answers. The slowest fast request is not a column
//! of its own: with fewer than 100 fast requests it is the p99 (nearest rank), and in the cpu
//! scenario the batch's time. `--json` and `--html` have it.

use measure::scenario::Scenario;

use crate::pipeline::ScenarioResult;
use measure::verdicts;

use crate::demo::timeline::WIDTH;
use crate::demo::view::{ScenarioView, Tone};
use crate::style::{self, Color, Style};
use crate::units::cell;

const BINARY: usize = 14;
const RUNTIME: usize = 11;
const MODEL: usize = 20;
const NUMBER: usize = 8;

/// The table of a scenario and the notes under it.
pub fn render(view: &ScenarioView, style: Style) -> String {
    let result = &view.result;
    let cpu = result.scenario == Scenario::Cpu;
    let idle = result.scenario == Scenario::Idle;
    // The last columns are percentiles of a group of requests, named over them.
    let (group, span, numbers) = if cpu {
        ("in the batch", 3, ["alone", "batch", "p50", "threads"])
    } else if idle {
        ("fast requests", 3, ["idle", "p50", "p99", "threads"])
    } else {
        ("fast requests", 3, ["slow", "p50", "p99", "threads"])
    };
    let mut out = String::new();
    // The numbers' group name, over the last three columns.
    let before = 2 + BINARY + RUNTIME + MODEL + (4 - span) * NUMBER;
    out.push_str(&" ".repeat(before));
    out.push_str(&style.paint(
        Color::Bold,
        &format!("{group:>width$}", width = span * NUMBER),
    ));
    out.push('\n');
    let mut header = format!(
        "  {}{}{}",
        style::pad("binary", BINARY),
        style::pad("runtime", RUNTIME),
        style::pad("model", MODEL)
    );
    for name in numbers {
        header.push_str(&style::pad_left(name, NUMBER));
    }
    out.push_str(&style.paint(Color::Bold, &header));
    out.push('\n');

    let mut unexpected = false;
    for (stage, row_view) in result.runs.iter().zip(&view.rows) {
        let binary = &stage.binary;
        let mut row = format!(
            "  {}{}{}",
            style::pad(binary.name, BINARY),
            style::pad(binary.runtime.name(), RUNTIME),
            style::pad(binary.stage.model_words(), MODEL)
        );
        let verdict = match &stage.outcome {
            Ok(ran) => {
                let summary = &ran.summary;
                let [first, second, third, _max] = row_view
                    .numbers
                    .map(|number| number.map_or_else(|| "-".to_string(), cell));
                let threads = match summary.fast_threads.len() {
                    0 => "-".to_string(),
                    count => count.to_string(),
                };
                for value in [first, second, third, threads] {
                    row.push_str(&style::pad_left(&value, NUMBER));
                }
                let color = match row_view.tone {
                    Tone::Good => Color::Green,
                    Tone::Bad => Color::Yellow,
                    Tone::Broken => Color::Red,
                };
                let mut verdict = style.paint(color, &row_view.verdict);
                if !summary.as_expected() {
                    unexpected = true;
                    verdict.push(' ');
                    verdict.push_str(&style.paint(Color::Red, "(unexpected)"));
                }
                if let Some(exit) = &ran.exited_early {
                    verdict.push_str(&style.paint(Color::Red, &format!("; the server {exit}")));
                }
                verdict
            }
            Err(failure) => {
                row.push_str("  ");
                row.push_str(&style.paint(Color::Red, failure.headline()));
                style.paint(Color::Red, &row_view.verdict)
            }
        };
        out.push_str(&row);
        out.push('\n');
        out.push_str(&style::wrap(&format!("    ↳ {verdict}"), WIDTH, "      "));
    }

    let mut notes = Vec::new();
    if cpu {
        for line in &view.cpu_comparisons {
            out.push_str(&style::wrap(&style.paint(Color::Bold, line), WIDTH, ""));
        }
        notes.push(threads_note(result));
        notes.push(format!(
            "Cores busy ≈ batch size × time of one /cpu alone ÷ time of the batch. At once \
             (parallel): at least {} cores' worth, and the last answer at most {} × the batch \
             size times later than the first; else one after another.",
            verdicts::PARALLEL_SPEEDUP,
            verdicts::PARALLEL_SPREAD
        ));
    } else {
        if idle {
            notes.push(format!(
                "idle: a connection that sent nothing, like a browser's spare connection. It gets \
                 no response: the server closes it after --read-timeout-ms ({}), and that is \
                 how it should end, not a failure. The idle column is how long it was open.",
                crate::units::short(result.settings.delay)
            ));
        }
        let fast = result.settings.fast;
        let p99 = if fast < 100 {
            format!(" (with {fast}, p99 is the slowest)")
        } else {
            " (the slowest is in --json)".to_string()
        };
        notes.push(format!(
            "Latency counts from each request's scheduled send time. p50 and p99 of the \
             {fast} fast requests by nearest rank over an exact sort{p99}. Waited: p50 ≥ {} × \
             the delay; did not wait: p50 < {} × the delay.",
            verdicts::WAITED,
            verdicts::DID_NOT_WAIT
        ));
        notes.push(threads_note(result));
        notes.extend(crate::demo::client_cost::footnote());
    }
    if unexpected {
        notes.push(
            "(unexpected): not what this stage should show. A busy machine can do that; \
             run it again, and if it stays, look for a bug."
                .to_string(),
        );
    }
    for note in notes {
        out.push_str(&style::wrap(&style.paint(Color::Dim, &note), WIDTH, ""));
    }
    out
}

/// What the threads column counts, and what it shows here.
fn threads_note(result: &ScenarioResult) -> String {
    let which = if result.scenario == Scenario::Cpu {
        "the batch's requests"
    } else {
        "the fast requests"
    };
    format!(
        "threads: how many threads served {which}, as each answer's X-Served-By header \
         names them (the timeline marks each bar with its thread). One thread can still serve \
         requests concurrently (stage 4); only several can run them in parallel."
    )
}
