//! `--html FILE`: one self-contained page (no script, no external file) with each scenario's
//! timeline as an SVG chart and its table, for a slide or a course page. Each bar ends in the
//! letter of the thread that served it, and each binary's header says which thread each
//! letter is.

use std::fmt::Write;
use std::time::Duration;

use measure::scenario::{Role, Scenario};

use crate::demo::args::DemoOptions;
use crate::demo::threads::ThreadMarks;
use crate::pipeline::{BinaryRun, ScenarioResult};
use measure::verdicts;

use crate::demo::timeline::{axis_end, tick_label, tick_step};
use crate::demo::view::{ScenarioView, Tone};
use crate::units::{cell, short};

const CHART_WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 200.0;
const LATENCY_WIDTH: f64 = 70.0;
const ROW: f64 = 15.0;
const BAR: f64 = 10.0;
const HEADER_ROW: f64 = 22.0;

const SLOW: &str = "#4e79a7";
const FAST: &str = "#59a14f";
const WAITED: &str = "#e8a33d";
const FAILED: &str = "#e15759";
const BATCH: &str = "#b07aa1";
/// An idle client: a connection held open with no request in it.
const IDLE: &str = "#a0b4cc";

const STYLE: &str = "
body { font: 16px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
.lesson { font-weight: 600; }
svg { max-width: 100%; height: auto; font: 12px ui-monospace, monospace; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }
th, td { padding: 0.25em 0.7em; text-align: left; border-bottom: 1px solid #ddd; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td:nth-child(-n+2) { white-space: nowrap; }
.good { color: #2e7d32; } .bad { color: #b26a00; } .broken { color: #c62828; }
.note { color: #555; font-size: 0.9em; }
.legend span { display: inline-block; width: 1.6em; height: 0.7em; margin: 0 0.3em 0 1em; }
";

pub fn render(views: &[ScenarioView], options: &DemoOptions, cores: usize) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>cargo xtask demo: from blocking to parallel</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<h1>From blocking to parallel: the slow-request demo</h1>\n\
         <p>Every stage's server got the same requests on 127.0.0.1: <code>--sleep-ms {}</code> \
         and <code>--fast {}</code>, on a machine with {cores} cores. Each bar is one request, from the \
         moment it was scheduled to be sent to the moment its answer was complete, so a late \
         client cannot hide a slow server.</p>\n\
         <p class=\"legend\"><span style=\"background:{SLOW}\"></span>slow (or one /cpu alone)\
         <span style=\"background:{FAST}\"></span>did not wait\
         <span style=\"background:{WAITED}\"></span>waited\
         <span style=\"background:{BATCH}\"></span>/cpu batch\
         <span style=\"background:{IDLE}\"></span>idle client (sent nothing; open until \
         the server closed it)\
         <span style=\"background:{FAILED}\"></span>failed</p>\n\
         <p class=\"note\">The letter after a bar names the thread that served the request \
         (from its answer's <code>X-Served-By</code> header); each binary's line says which \
         thread each letter is. One letter for every bar is concurrency on one thread; \
         several letters, the work shared by threads.</p>\n",
        options.slow.as_millis(),
        options.fast,
    );
    for view in views {
        let result = &view.result;
        let _ = write!(
            page,
            "<section>\n<h2>{}</h2>\n<p class=\"lesson\">{}</p>\n",
            escape(&view.title),
            escape(&view.lesson)
        );
        page.push_str(&chart(result));
        page.push_str(&table(view));
        if result.scenario == Scenario::Idle {
            let _ = writeln!(
                page,
                "<p class=\"note\">The idle client is a connection that sent nothing, like a \
                 browser's spare connection. It gets no response: the server closes it after \
                 <code>--read-timeout-ms {}</code>, and that is how it should end, not a \
                 failure.</p>",
                result.settings.delay.as_millis()
            );
        }
        page.push_str("</section>\n");
    }
    page.push_str(
        "<p class=\"note\">Made by <code>cargo xtask demo</code>. Percentiles are exact \
         (nearest rank over a sort); no averages.</p>\n</body>\n</html>\n",
    );
    page
}

fn chart(result: &ScenarioResult) -> String {
    let end = axis_end(result);
    let step = tick_step(end, 10);
    let plot = CHART_WIDTH - LABEL_WIDTH - LATENCY_WIDTH;
    let x = |at: Duration| LABEL_WIDTH + plot * (at.as_secs_f64() / end.as_secs_f64()).min(1.0);
    let rows: f64 = result
        .runs
        .iter()
        .map(|stage| HEADER_ROW + ROW * request_count(stage) as f64)
        .sum();
    let height = rows + 30.0;
    let delay = result.settings.delay;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {CHART_WIDTH} {height}\" \
         width=\"{CHART_WIDTH}\" height=\"{height}\" role=\"img\" \
         aria-label=\"timeline of the {} scenario\">",
        result.scenario.name()
    );
    // Grid lines and tick labels.
    let mut tick = Duration::ZERO;
    while tick <= end {
        let tx = x(tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{tx:.1}\" y1=\"0\" x2=\"{tx:.1}\" y2=\"{rows:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            rows + 18.0,
            tick_label(tick, step)
        );
        tick += step;
    }
    let mut y = 0.0;
    for stage in &result.runs {
        let binary = &stage.binary;
        let marks = stage
            .outcome
            .as_ref()
            .ok()
            .map(|ran| ThreadMarks::of(&ran.run));
        let header = match &stage.outcome {
            Ok(_) => format!(
                "{} · {} · {}{}",
                binary.name,
                binary.runtime,
                binary.stage.model_words(),
                marks
                    .as_ref()
                    .filter(|marks| !marks.is_empty())
                    .map(|marks| format!(" · served by: {}", marks.key()))
                    .unwrap_or_default()
            ),
            Err(failure) => format!("{} · {}", binary.name, failure.headline()),
        };
        let _ = writeln!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
            y + 15.0,
            escape(&header)
        );
        y += HEADER_ROW;
        let Ok(ran) = &stage.outcome else { continue };
        let (mut fast, mut batch) = (0, 0);
        for sent in &ran.run.requests {
            let scheduled = ran.run.offset(sent);
            let start = scheduled + sent.start();
            let done = scheduled + sent.exchange.timing.done;
            let error = sent.error();
            let label = match sent.role {
                Role::Fast => {
                    fast += 1;
                    format!("GET {} {fast}", sent.path)
                }
                Role::Batch => {
                    batch += 1;
                    format!("{} {batch}", sent.path)
                }
                Role::Alone => format!("{} alone", sent.path),
                Role::Slow => sent.path.to_string(),
                Role::Idle => "idle".to_string(),
            };
            let color = match (sent.role, &error) {
                (_, Some(_)) => FAILED,
                (Role::Slow | Role::Alone, _) => SLOW,
                (Role::Batch, _) => BATCH,
                (Role::Idle, _) => IDLE,
                (Role::Fast, _)
                    if sent.exchange.latency() >= verdicts::did_not_wait_ceiling(delay) =>
                {
                    WAITED
                }
                (Role::Fast, _) => FAST,
            };
            let (x0, x1) = (x(start), x(done));
            let timing = &sent.exchange.timing;
            let at = |d: Option<Duration>| d.map(short).unwrap_or_else(|| "-".to_string());
            let failed = error.map(|e| format!(" (failed: {e})")).unwrap_or_default();
            let mark = marks.as_ref().and_then(|marks| marks.mark(sent));
            let served_by = sent
                .exchange
                .served_by()
                .map(|thread| format!("; served by {thread}"))
                .unwrap_or_default();
            let tooltip = if sent.role == Role::Idle {
                format!(
                    "{} idle client: connected at {}, sent nothing, closed by the server {} \
                     later{failed}",
                    binary.name,
                    short(start),
                    short(sent.duration()),
                )
            } else {
                format!(
                    "{} {}: scheduled at {}; connected after {}, first byte after {}, done \
                     after {}{served_by}{failed}",
                    binary.name,
                    label,
                    short(scheduled),
                    at(timing.connect),
                    at(timing.first_byte),
                    short(timing.done),
                )
            };
            let _ = writeln!(
                svg,
                "<text x=\"12\" y=\"{:.1}\" fill=\"#444\">{}</text>\
                 <rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" rx=\"2\" \
                 fill=\"{color}\"><title>{}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}</text>",
                y + 10.0,
                escape(&label),
                y + (ROW - BAR) / 2.0 - 1.0,
                (x1 - x0).max(2.0),
                escape(&tooltip),
                CHART_WIDTH - 2.0,
                y + 10.0,
                cell(sent.duration())
            );
            if let Some(mark) = mark {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#444\" class=\"thread\">{mark}</text>",
                    x1.max(x0 + 2.0) + 3.0,
                    y + 10.0,
                );
            }
            y += ROW;
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn request_count(stage: &BinaryRun) -> usize {
    stage
        .outcome
        .as_ref()
        .map(|ran| ran.run.requests.len())
        .unwrap_or(0)
}

fn table(view: &ScenarioView) -> String {
    let result = &view.result;
    let cpu = result.scenario == Scenario::Cpu;
    let idle = result.scenario == Scenario::Idle;
    let heads = if cpu {
        ["one alone", "batch", "request p50", "request max"]
    } else if idle {
        ["idle open", "fast p50", "fast p99", "fast max"]
    } else {
        ["slow", "fast p50", "fast p99", "fast max"]
    };
    let mut html = String::from("<table>\n<tr><th>binary</th><th>runtime</th><th>model</th>");
    for head in heads {
        let _ = write!(html, "<th class=\"num\">{head}</th>");
    }
    html.push_str("<th class=\"num\">threads</th>");
    html.push_str("<th>verdict</th></tr>\n");
    for (stage, row_view) in result.runs.iter().zip(&view.rows) {
        let binary = &stage.binary;
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td>",
            escape(binary.name),
            escape(binary.runtime.name()),
            escape(binary.stage.model_words())
        );
        match &stage.outcome {
            Ok(ran) => {
                let s = &ran.summary;
                let cells = row_view
                    .numbers
                    .map(|number| number.map_or_else(|| "-".to_string(), cell));
                for value in cells {
                    let _ = write!(html, "<td class=\"num\">{value}</td>");
                }
                let _ = write!(
                    html,
                    "<td class=\"num\" title=\"{}\">{}</td>",
                    escape(&s.fast_threads.join(", ")),
                    s.fast_threads.len()
                );
                let class = match row_view.tone {
                    Tone::Good => "good",
                    Tone::Bad => "bad",
                    Tone::Broken => "broken",
                };
                let unexpected = if s.as_expected() {
                    ""
                } else {
                    " <span class=\"broken\">(unexpected)</span>"
                };
                let _ = writeln!(
                    html,
                    "<td class=\"{class}\">{}{unexpected}</td></tr>",
                    escape(&row_view.verdict)
                );
            }
            Err(failure) => {
                let _ = writeln!(
                    html,
                    "<td colspan=\"5\" class=\"broken\">{}</td><td class=\"broken\">{}</td></tr>",
                    failure.headline(),
                    escape(&row_view.verdict)
                );
            }
        }
    }
    html.push_str("</table>\n");
    for line in &view.cpu_comparisons {
        let _ = writeln!(html, "<p class=\"lesson\">{}</p>", escape(line));
    }
    html
}

/// Text made safe to put in HTML or SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
