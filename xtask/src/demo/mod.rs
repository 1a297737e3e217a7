//! `cargo xtask demo`: build the stages, run each scenario against each binary, report.

pub mod args;
pub mod client_cost;
pub mod html;
pub mod json;
pub mod narrate;
pub mod scenario_words;
pub mod table;
pub mod threads;
pub mod timeline;
pub mod view;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use measure::catalogue::{self, Binary, WORKERS};
use measure::scenario::{Plan, Scenario, Settings};

use crate::cargo::{self, Built};
use crate::demo::args::DemoOptions;
use crate::demo::view::ScenarioView;
use crate::pipeline::{self, BinaryRun, FailedAt, Observer};
use crate::progress::ProgressLine;
use crate::stop::{self, TrackedServer};
use crate::style::{self, Color, Style};

/// The exit status when every binary ran but a verdict was not the stage's lesson.
pub const EXIT_UNEXPECTED: u8 = 3;

/// Where the human-readable output goes: stdout, or stderr when `--json -` takes stdout.
#[derive(Clone, Copy)]
struct Human {
    to_stderr: bool,
}

impl Human {
    fn style(self) -> Style {
        if self.to_stderr {
            Style::for_stderr()
        } else {
            Style::for_stdout()
        }
    }

    fn print(self, text: &str) {
        if self.to_stderr {
            crate::output::stderr(text);
        } else {
            crate::output::stdout(text);
        }
    }
}

/// `--json -`: the JSON goes to stdout.
fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

pub fn run(options: DemoOptions) -> ExitCode {
    if let Some(stage) = options.narrate {
        return narrate::run(stage, options.slow);
    }
    let json_to_stdout = options.json.as_deref().is_some_and(is_stdout);
    let human = Human {
        to_stderr: json_to_stdout,
    };
    let style = human.style();
    // Fail on an unwritable output file now, not after a minute of building and running.
    let json_file = match options
        .json
        .as_deref()
        .filter(|path| !is_stdout(path))
        .map(create)
        .transpose()
    {
        Ok(file) => file,
        Err(message) => return error(&message),
    };
    let html_file = match options.html.as_deref().map(create).transpose() {
        Ok(file) => file,
        Err(message) => return error(&message),
    };
    if let Err(message) = stop::install_ctrl_c_handler() {
        eprintln!("warning: {message}");
    }
    let workspace = match cargo::workspace() {
        Ok(workspace) => workspace,
        Err(message) => return error(&message),
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    let binaries = catalogue::select(&options.stages, &options.runtimes);
    let built = pipeline::build(&workspace, &binaries);
    print_build_failures(&binaries, &built, style, human);

    let mut views = Vec::new();
    for &scenario in &options.scenarios {
        let settings = Settings {
            delay: options.slow,
            fast: options.fast,
            workers: WORKERS,
        };
        let mut progress = ProgressLines {
            scenario: Some(scenario),
            line: None,
        };
        let result =
            pipeline::run_scenario(scenario, settings, &binaries, &built, cores, &mut progress);
        let view = ScenarioView::of(result, cores);
        print_scenario(&view, style, human);
        views.push(view);
    }

    let mut status = if any_unexpected(&views) {
        ExitCode::from(EXIT_UNEXPECTED)
    } else {
        ExitCode::SUCCESS
    };
    if json_to_stdout {
        let value = json::render(&views, &json::Header::demo(&options, cores));
        let mut stdout = std::io::stdout().lock();
        // A reader that stops early (`| head`) closes the pipe: that is not a failure.
        let _ = serde_json::to_writer_pretty(&mut stdout, &value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .and_then(|()| stdout.flush());
    }
    if let Some((path, mut file)) = json_file {
        let value = json::render(&views, &json::Header::demo(&options, cores));
        let written = serde_json::to_writer_pretty(&mut file, &value)
            .map_err(|err| err.to_string())
            .and_then(|()| {
                writeln!(file)
                    .and_then(|()| file.flush())
                    .map_err(|e| e.to_string())
            });
        status = report_written(&path, written, status, human);
    }
    if let Some((path, mut file)) = html_file {
        let page = html::render(&views, &options, cores);
        let written = file
            .write_all(page.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|err| err.to_string());
        status = report_written(&path, written, status, human);
    }

    let failed = binaries
        .iter()
        .filter(|b| matches!(built.get(b.name), Some(Err(_)) | None))
        .count();
    let failed_to_start = views
        .iter()
        .flat_map(|view| &view.result.runs)
        .filter(|run| matches!(&run.outcome, Err(f) if f.failed_at == FailedAt::Start))
        .count();
    if failed + failed_to_start > 0 {
        let mut problems = Vec::new();
        if failed > 0 {
            problems.push(format!(
                "{failed} of {} binaries failed to build",
                binaries.len()
            ));
        }
        if failed_to_start > 0 {
            problems.push(format!("{failed_to_start} run(s) failed to start"));
        }
        let message = format!("{}: see the table", problems.join(", and "));
        eprintln!("{}", Style::for_stderr().paint(Color::Red, &message));
        status = ExitCode::FAILURE;
    }
    status
}

/// Whether a binary that ran showed something other than its stage's lesson.
fn any_unexpected(views: &[ScenarioView]) -> bool {
    views
        .iter()
        .flat_map(|view| &view.result.runs)
        .filter_map(|run| run.outcome.as_ref().ok())
        .any(|ran| !ran.summary.as_expected())
}

fn create(path: &Path) -> Result<(PathBuf, BufWriter<File>), String> {
    File::create(path)
        .map(|file| (path.to_path_buf(), BufWriter::new(file)))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn report_written(
    path: &Path,
    written: Result<(), String>,
    status: ExitCode,
    human: Human,
) -> ExitCode {
    match written {
        Ok(()) => {
            human.print(&format!("wrote {}\n", path.display()));
            status
        }
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn print_build_failures(binaries: &[Binary], built: &Built, style: Style, human: Human) {
    // Binaries of one package usually share their error: show it once, naming them all.
    let mut failures: Vec<(Vec<&str>, &str)> = Vec::new();
    for binary in binaries {
        let Some(Err(failure)) = built.get(binary.name) else {
            continue;
        };
        match failures.iter_mut().find(|(_, message)| *message == failure) {
            Some((names, _)) => names.push(binary.name),
            None => failures.push((vec![binary.name], failure)),
        }
    }
    let mut out = String::new();
    for (names, message) in &failures {
        out.push_str(&format!(
            "{} {}:\n",
            style.paint(Color::Red, "could not build"),
            style.paint(Color::Bold, &names.join(", "))
        ));
        for line in message.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if !failures.is_empty() {
        out.push('\n');
        human.print(&out);
    }
}

/// The demo's view of a run under way: a progress line per binary, on stderr.
struct ProgressLines {
    scenario: Option<Scenario>,
    line: Option<ProgressLine>,
}

impl Observer for ProgressLines {
    fn starting(&mut self, binary: &Binary, index: usize, of: usize) {
        let scenario = self.scenario.map(|s| s.to_string()).unwrap_or_default();
        self.line = Some(ProgressLine::start(format!(
            "{scenario} [{}/{of}] {} ({})",
            index + 1,
            binary.name,
            binary.stage.model_words()
        )));
    }

    fn started(&mut self, _binary: &Binary, server: &TrackedServer, _plan: &Plan) {
        if let Some(line) = &self.line {
            line.set_detail(format!("pid {} on {}", server.pid, server.addr));
        }
    }

    fn finished(&mut self, _run: &BinaryRun) {
        if let Some(line) = self.line.take() {
            line.finish();
        }
    }
}

fn print_scenario(view: &ScenarioView, style: Style, human: Human) {
    let rule = "─".repeat(timeline::WIDTH);
    let mut out = String::new();
    out.push_str(&style.paint(Color::Dim, &rule));
    out.push('\n');
    out.push_str(&style::wrap(
        &style.paint(Color::Bold, &view.title),
        timeline::WIDTH,
        "  ",
    ));
    out.push_str(&style::wrap(&view.lesson, timeline::WIDTH, ""));
    out.push('\n');
    out.push_str(&timeline::render(&view.result, style));
    out.push('\n');
    out.push_str(&table::render(view, style));
    out.push('\n');
    human.print(&out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::catalogue::{Lesson, Stage};
    use measure::scenario;
    use measure::summary::{RunOutcome, Summary};
    use std::time::Duration;

    use crate::pipeline::{Measured, ScenarioResult};

    fn result_with(outcome: RunOutcome, lesson: Lesson) -> ScenarioView {
        let summary = Summary {
            slow: None,
            idle: None,
            fast: None,
            batch: None,
            fast_threads: Vec::new(),
            failed: 0,
            total: 0,
            first_error: None,
            outcome,
            lesson,
        };
        let ran = Measured {
            pid: 1,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            run: scenario::Run {
                start: std::time::Instant::now(),
                requests: Vec::new(),
                beside_batch: Default::default(),
            },
            summary,
            log: String::new(),
            exited_early: None,
        };
        let result = ScenarioResult {
            scenario: Scenario::Slow,
            settings: Settings {
                delay: Duration::from_millis(600),
                fast: 5,
                workers: WORKERS,
            },
            runs: vec![BinaryRun {
                binary: *Stage::One.default_binary(),
                outcome: Ok(ran),
            }],
        };
        ScenarioView::of(result, 2)
    }

    #[test]
    fn an_unexpected_verdict_is_noticed() {
        let as_expected = result_with(RunOutcome::Waited, Lesson::Wait);
        assert!(!any_unexpected(&[as_expected]));
        let unexpected = result_with(RunOutcome::DidNotWait, Lesson::Wait);
        assert!(any_unexpected(&[unexpected]));
    }
}
