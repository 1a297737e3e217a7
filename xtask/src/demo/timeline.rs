//! The timeline: one row per request, a bar from the moment it was scheduled to the moment its
//! answer was complete, on one time axis shared by every stage of the scenario. The waiting is
//! seen as bar length, so it reads the same without colour, and it fits in 80 columns.
//!
//! After each bar, a letter names the thread that served the request (`a`, `b`, … in the
//! order they first answered), and a line under each binary's rows says which thread each
//! letter is: one letter for stage 4, several for stage 5.
//!
//! An idle client (the idle scenario) sends no request: its row is a bar of `░` from its
//! connection to the moment the server closed it, its expected end.

use std::time::Duration;

use measure::scenario::{Role, Sent};

use crate::demo::threads::ThreadMarks;
use crate::pipeline::{BinaryRun, ScenarioResult};
use crate::style::{self, Color, Style};
use crate::units;
use measure::verdicts;

/// The whole line stays under 80 columns, so it never wraps.
pub const WIDTH: usize = 79;
const INDENT: usize = 2;
const LABEL: usize = 10;
const LATENCY: usize = 7;
/// A space and the letter of the thread that served the request.
const THREAD: usize = 2;
/// Columns for the bars: what is left of the line.
const BARS: usize = WIDTH - INDENT - LABEL - 1 - 1 - LATENCY - THREAD;

const BAR: char = '█';
/// The bar of an idle client: a connection held open, with no request in it.
const IDLE: char = '░';
const FAILED: char = 'x';
const GRID: char = '·';

/// The end of the shared time axis: the end of the latest request of any stage.
pub fn axis_end(result: &ScenarioResult) -> Duration {
    result
        .runs
        .iter()
        .filter_map(|stage| stage.outcome.as_ref().ok())
        .flat_map(|ran| {
            ran.run
                .requests
                .iter()
                .map(|sent| ran.run.offset(sent) + sent.exchange.timing.done)
        })
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1))
}

/// A round step for the axis, so that it has at most `max_ticks` ticks.
pub fn tick_step(end: Duration, max_ticks: usize) -> Duration {
    const STEPS_MS: [u64; 16] = [
        1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 30_000,
    ];
    let max_ticks = max_ticks.max(1) as u128;
    STEPS_MS
        .iter()
        .map(|&ms| Duration::from_millis(ms))
        .find(|step| end.as_nanos() / step.as_nanos() < max_ticks)
        .unwrap_or(Duration::from_secs(60))
}

/// A tick's label, with as many decimals as the step needs: `0`, `20 ms`, `1.25 s`, `10 s`.
pub fn tick_label(at: Duration, step: Duration) -> String {
    let step_ms = step.as_millis();
    if at.is_zero() {
        "0".to_string()
    } else if step_ms < 100 {
        format!("{} ms", at.as_millis())
    } else if step_ms % 1000 == 0 {
        format!("{} s", at.as_secs())
    } else if step_ms % 100 == 0 {
        format!("{:.1} s", at.as_secs_f64())
    } else {
        format!("{:.2} s", at.as_secs_f64())
    }
}

/// The column of moment `at` on an axis of `columns` columns ending at `end`.
fn column(at: Duration, end: Duration, columns: usize) -> usize {
    let share = at.as_secs_f64() / end.as_secs_f64();
    ((share * columns as f64).floor() as usize).min(columns - 1)
}

/// The timeline of a scenario, as lines of text.
pub fn render(result: &ScenarioResult, style: Style) -> String {
    let end = axis_end(result);
    let step = tick_step(end, BARS / 9);
    let ticks: Vec<Duration> = (0u32..)
        .map(|k| step * k)
        .take_while(|at| *at <= end)
        .collect();
    let tick_columns: Vec<usize> = ticks.iter().map(|&t| column(t, end, BARS)).collect();
    let delay = result.settings.delay;

    let mut out = String::new();
    let has_idle = result
        .runs
        .iter()
        .filter_map(|stage| stage.outcome.as_ref().ok())
        .any(|ran| ran.run.requests.iter().any(|sent| sent.role == Role::Idle));
    let mut legend = if style.color {
        format!(
            "a bar per request, from its scheduled send to its complete answer: \
             {} slow {} did not wait {} waited {} failed",
            style.paint(Color::Blue, "█"),
            style.paint(Color::Green, "█"),
            style.paint(Color::Yellow, "█"),
            style.paint(Color::Red, "x"),
        )
    } else {
        "a bar per request, from its scheduled send to its complete answer (x: failed)".to_string()
    };
    if has_idle {
        legend.push_str(&format!(
            "; {} idle: a connection that sent nothing, from its connect until the server \
             closed it",
            style.paint(Color::Blue, &IDLE.to_string())
        ));
    }
    out.push_str(&style::wrap(&legend, WIDTH, ""));
    for stage in &result.runs {
        out.push_str(&stage_header(stage, style));
        let Ok(ran) = &stage.outcome else { continue };
        let mut numbers = Numbering {
            slow_total: ran
                .run
                .requests
                .iter()
                .filter(|s| s.role == Role::Slow)
                .count(),
            ..Numbering::default()
        };
        let marks = ThreadMarks::of(&ran.run);
        for sent in &ran.run.requests {
            let scheduled = ran.run.offset(sent);
            let label = numbers.label(sent);
            let fill = if sent.role == Role::Idle { IDLE } else { BAR };
            let bar = bar(
                scheduled + sent.start(),
                scheduled + sent.exchange.timing.done,
                end,
                &tick_columns,
                paint_for(sent, delay),
                Fill {
                    body: fill,
                    last: if sent.error().is_some() { FAILED } else { fill },
                },
                style,
            );
            let latency = style::pad_left(&units::cell(sent.duration()), LATENCY);
            let thread = marks.mark(sent).unwrap_or(' ');
            out.push_str(&format!(
                "{}{} {bar} {latency} {thread}\n",
                " ".repeat(INDENT),
                style::pad(&label, LABEL)
            ));
        }
        if !marks.is_empty() {
            let margin = " ".repeat(INDENT + LABEL + 1);
            let key = style.paint(Color::Dim, &format!("served by: {}", marks.key()));
            out.push_str(&style::wrap(&format!("{margin}{key}"), WIDTH, &margin));
        }
    }
    out.push_str(&axis(&ticks, &tick_columns, step, style));
    out
}

fn stage_header(stage: &BinaryRun, style: Style) -> String {
    let binary = &stage.binary;
    let name = style.paint(Color::Bold, binary.name);
    match &stage.outcome {
        Ok(_) => format!(
            "{name} · {} · {}\n",
            binary.runtime,
            binary.stage.model_words()
        ),
        Err(failure) => format!(
            "{name} · {} · {}\n",
            binary.runtime,
            style.paint(Color::Red, failure.headline())
        ),
    }
}

/// Numbers the requests of each role: `/sleep`, `/ 1`, `/ 2`, ...
#[derive(Default)]
struct Numbering {
    slow_total: usize,
    slow: usize,
    fast: usize,
    batch: usize,
}

impl Numbering {
    fn label(&mut self, sent: &Sent) -> String {
        let count = match sent.role {
            Role::Slow => &mut self.slow,
            Role::Fast => &mut self.fast,
            Role::Batch => &mut self.batch,
            Role::Alone => return format!("{} alone", sent.path),
            Role::Idle => return "idle".to_string(),
        };
        *count += 1;
        match sent.role {
            // One slow request needs no number; several get theirs.
            Role::Slow if self.slow_total == 1 => sent.path.to_string(),
            Role::Slow => format!("{} {count}", sent.path),
            Role::Fast => format!("GET {} {count:>2}", sent.path),
            _ => format!("{} {count:>2}", sent.path),
        }
    }
}

/// The colour of a request's bar.
fn paint_for(sent: &Sent, delay: Duration) -> Color {
    if sent.error().is_some() {
        return Color::Red;
    }
    match sent.role {
        Role::Slow | Role::Alone | Role::Idle => Color::Blue,
        Role::Batch => Color::Magenta,
        Role::Fast if sent.exchange.latency() >= verdicts::did_not_wait_ceiling(delay) => {
            Color::Yellow
        }
        Role::Fast => Color::Green,
    }
}

/// The characters of a bar: its body, and its last one (`x` for a failed request).
#[derive(Clone, Copy)]
struct Fill {
    body: char,
    last: char,
}

fn bar(
    start: Duration,
    stop: Duration,
    end: Duration,
    tick_columns: &[usize],
    color: Color,
    fill: Fill,
    style: Style,
) -> String {
    let first = column(start, end, BARS);
    let last = column(stop, end, BARS).max(first);
    let mut text = String::new();
    let before: String = (0..first)
        .map(|c| if tick_columns.contains(&c) { GRID } else { ' ' })
        .collect();
    text.push_str(&style.paint(Color::Dim, &before));
    let mut body: String = std::iter::repeat_n(fill.body, last - first).collect();
    body.push(fill.last);
    text.push_str(&style.paint(color, &body));
    let after: String = (last + 1..BARS)
        .map(|c| if tick_columns.contains(&c) { GRID } else { ' ' })
        .collect();
    text.push_str(&style.paint(Color::Dim, &after));
    text
}

/// The axis under the rows: a rule with ticks, and their labels.
fn axis(ticks: &[Duration], tick_columns: &[usize], step: Duration, style: Style) -> String {
    let mut rule: Vec<char> = vec!['─'; BARS];
    let mut labels: Vec<char> = vec![' '; BARS + LATENCY + THREAD];
    let mut free_from = 0;
    for (&at, &col) in ticks.iter().zip(tick_columns) {
        rule[col] = '┴';
        let label: Vec<char> = tick_label(at, step).chars().collect();
        // Centre the label on its tick where there is room; skip it if it would overlap.
        let start = col.saturating_sub(label.len() / 2).max(free_from);
        if start + label.len() <= labels.len() && start <= col {
            labels[start..start + label.len()].copy_from_slice(&label);
            free_from = start + label.len() + 1;
        }
    }
    let margin = " ".repeat(INDENT + LABEL + 1);
    let rule: String = rule.into_iter().collect();
    let labels: String = labels.into_iter().collect();
    format!(
        "{margin}{}\n{margin}{}\n",
        style.paint(Color::Dim, &rule),
        labels.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_fits_in_80_columns() {
        const { assert!(INDENT + LABEL + 1 + BARS + 1 + LATENCY + THREAD == WIDTH) };
        const { assert!(WIDTH < 80) };
    }

    #[test]
    fn ticks_are_round_and_few() {
        let step = tick_step(Duration::from_millis(2100), 6);
        assert_eq!(step, Duration::from_millis(500));
        assert_eq!(tick_label(Duration::from_millis(1500), step), "1.5 s");
        let step = tick_step(Duration::from_millis(12_000), 6);
        assert_eq!(step, Duration::from_secs(5));
        assert_eq!(tick_label(Duration::from_secs(10), step), "10 s");
        let step = tick_step(Duration::from_millis(1300), 6);
        assert_eq!(step, Duration::from_millis(250));
        assert_eq!(tick_label(Duration::from_millis(1250), step), "1.25 s");
        let step = tick_step(Duration::from_millis(70), 6);
        assert_eq!(tick_label(Duration::from_millis(20), step), "20 ms");
    }

    #[test]
    fn bars_span_their_request() {
        let end = Duration::from_millis(BARS as u64 * 10);
        let plain = Style::plain();
        let short = bar(
            Duration::ZERO,
            Duration::from_millis(1),
            end,
            &[],
            Color::Green,
            Fill {
                body: BAR,
                last: BAR,
            },
            plain,
        );
        assert_eq!(style::width(&short), BARS);
        assert_eq!(short.trim_end(), "█");
        let long = bar(
            Duration::from_millis(100),
            end,
            end,
            &[0],
            Color::Blue,
            Fill {
                body: BAR,
                last: FAILED,
            },
            plain,
        );
        assert_eq!(style::width(&long), BARS);
        assert!(long.starts_with('·'));
        assert!(long.ends_with("█x"));
        assert_eq!(long.chars().filter(|&c| c == '█').count(), BARS - 10 - 1);
        let idle = bar(
            Duration::from_millis(10),
            Duration::from_millis(40),
            end,
            &[],
            Color::Blue,
            Fill {
                body: IDLE,
                last: IDLE,
            },
            plain,
        );
        assert_eq!(style::width(&idle), BARS);
        assert_eq!(idle.trim(), "░░░░");
    }
}
