//! `cargo xtask demo`: build the stages, run each scenario against each binary, report.

pub mod html;
pub mod json;
pub mod results;
pub mod scenario_words;
pub mod summary;
pub mod table;
pub mod timeline;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use measure::ServerProcess;
use measure::catalogue::{self, Binary, WORKERS};
use measure::client::{self, Request};
use measure::scenario::{self, Scenario, Settings};
use measure::summary::summarize;

use crate::args::DemoOptions;
use crate::cargo::{self, BinTarget, Built};
use crate::demo::results::{Failure, Phase, Ran, ScenarioResult, StageRun};
use crate::demo::scenario_words::describe;
use crate::progress::Progress;
use crate::stop::{self, TrackedServer};
use crate::style::{self, Color, Style};

/// How long a fresh server gets to answer its first `GET /` before the scenario starts.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(options: DemoOptions) -> ExitCode {
    let style = Style::for_stdout();
    // Fail on an unwritable output file now, not after a minute of building and running.
    let json_file = match options.json.as_deref().map(create).transpose() {
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
    let targets: Vec<BinTarget> = binaries.iter().map(BinTarget::from).collect();
    let built = cargo::build(&workspace, &targets);
    print_build_failures(&binaries, &built, style);

    let mut results = Vec::new();
    for &scenario in &options.scenarios {
        let settings = Settings {
            delay: options.slow,
            fast: options.fast,
            workers: WORKERS,
        };
        let result = run_scenario(scenario, settings, &binaries, &built, cores);
        print_scenario(&result, cores, style);
        results.push(result);
    }

    let mut status = ExitCode::SUCCESS;
    if let Some((path, mut file)) = json_file {
        let value = json::render(&results, &options, cores);
        let written = serde_json::to_writer_pretty(&mut file, &value)
            .map_err(|err| err.to_string())
            .and_then(|()| {
                writeln!(file)
                    .and_then(|()| file.flush())
                    .map_err(|e| e.to_string())
            });
        status = report_written(&path, written, status);
    }
    if let Some((path, mut file)) = html_file {
        let page = html::render(&results, &options, cores);
        let written = file
            .write_all(page.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|err| err.to_string());
        status = report_written(&path, written, status);
    }

    let failed = binaries
        .iter()
        .filter(|b| matches!(built.get(b.name), Some(Err(_)) | None))
        .count();
    let failed_to_start = results
        .iter()
        .flat_map(|r| &r.runs)
        .filter(|run| matches!(&run.outcome, Err(f) if f.phase == Phase::Start))
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

fn create(path: &Path) -> Result<(PathBuf, BufWriter<File>), String> {
    File::create(path)
        .map(|file| (path.to_path_buf(), BufWriter::new(file)))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn report_written(path: &Path, written: Result<(), String>, status: ExitCode) -> ExitCode {
    match written {
        Ok(()) => {
            println!("wrote {}", path.display());
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

fn print_build_failures(binaries: &[Binary], built: &Built, style: Style) {
    // Binaries of one package usually share their error: show it once, naming them all.
    let mut failures: Vec<(Vec<&str>, &str)> = Vec::new();
    for binary in binaries {
        let Some(Err(failure)) = built.get(binary.name) else {
            continue;
        };
        match failures
            .iter_mut()
            .find(|(_, message)| *message == failure.message)
        {
            Some((names, _)) => names.push(binary.name),
            None => failures.push((vec![binary.name], &failure.message)),
        }
    }
    for (names, message) in &failures {
        println!(
            "{} {}:",
            style.paint(Color::Red, "could not build"),
            style.paint(Color::Bold, &names.join(", "))
        );
        for line in message.lines() {
            println!("  {line}");
        }
    }
    if !failures.is_empty() {
        println!();
    }
}

fn run_scenario(
    scenario: Scenario,
    settings: Settings,
    binaries: &[Binary],
    built: &Built,
    cores: usize,
) -> ScenarioResult {
    let plan = scenario.plan(&settings);
    let mut runs = Vec::new();
    for (index, binary) in binaries.iter().enumerate() {
        let outcome = match built.get(binary.name) {
            Some(Ok(executable)) => {
                let progress = Progress::start(format!(
                    "{scenario} [{}/{}] {} ({})",
                    index + 1,
                    binaries.len(),
                    binary.name,
                    binary.stage.model_words()
                ));
                let outcome = run_binary(
                    scenario, &settings, &plan, binary, executable, cores, &progress,
                );
                progress.finish();
                outcome
            }
            Some(Err(failure)) => Err(failure.clone()),
            None => Err(Failure {
                phase: Phase::Build,
                message: "not built".to_string(),
            }),
        };
        runs.push(StageRun {
            binary: *binary,
            outcome,
        });
    }
    ScenarioResult {
        scenario,
        settings,
        runs,
    }
}

/// Starts the binary on a free port, warms it up, sends the plan, and stops it.
fn run_binary(
    scenario: Scenario,
    settings: &Settings,
    plan: &scenario::Plan,
    binary: &Binary,
    executable: &Path,
    cores: usize,
    progress: &Progress,
) -> Result<Ran, Failure> {
    let start_failed = |message: String| Failure {
        phase: Phase::Start,
        message,
    };
    let as_ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let read_timeout_ms = scenario.server_read_timeout(settings).map(as_ms);
    let args = binary.args(as_ms(settings.delay), read_timeout_ms);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server =
        ServerProcess::start(executable, &args).map_err(|err| start_failed(err.to_string()))?;
    let server = TrackedServer::new(server);
    progress.set_detail(format!("pid {} on {}", server.pid, server.addr));

    // One request first, so the scenario measures serving, not a process starting up.
    let root = client::get_request("/");
    let warm_up = client::exchange(
        server.addr,
        &Request::new(&root).within(WARM_UP_TIMEOUT),
        std::time::Instant::now(),
    );
    if let Some(err) = crate::demo::summary::request_error(&warm_up) {
        let log = server.with(|s| s.stderr_text()).unwrap_or_default();
        return Err(start_failed(format!(
            "it did not answer GET / ({err}){}",
            last_line(&log)
        )));
    }

    let run = scenario::run(server.addr, plan);
    let exited_early = server
        .with(|s| s.exit_status())
        .flatten()
        .map(|status| format!("exited by itself ({status})"));
    let log = server.with(|s| s.stderr_text()).unwrap_or_default();
    let (pid, addr) = (server.pid, server.addr);
    // Stops the server by its PID.
    drop(server);

    let summary = summarize(scenario, settings, binary.stage, &run, cores);
    Ok(Ran {
        pid,
        addr,
        run,
        summary,
        log,
        exited_early,
    })
}

fn last_line(log: &str) -> String {
    match log.lines().rev().find(|line| !line.trim().is_empty()) {
        Some(line) => format!("; its last words: {line}"),
        None => String::new(),
    }
}

fn print_scenario(result: &ScenarioResult, cores: usize, style: Style) {
    let (title, lesson) = describe(result.scenario, &result.settings);
    let rule = "─".repeat(timeline::WIDTH);
    let mut out = String::new();
    out.push_str(&style.paint(Color::Dim, &rule));
    out.push('\n');
    out.push_str(&style::wrap(
        &style.paint(Color::Bold, &title),
        timeline::WIDTH,
        "  ",
    ));
    out.push_str(&style::wrap(&lesson, timeline::WIDTH, ""));
    out.push('\n');
    out.push_str(&timeline::render(result, style));
    out.push('\n');
    out.push_str(&table::render(result, cores, style));
    out.push('\n');
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
