//! The lab's web server: one embedded page, its event stream (Server-Sent Events), and the
//! few requests the page makes. axum on tokio's current-thread runtime: the page's requests
//! are small, and the runs happen on threads of their own (the demo's client threads).

use std::convert::Infallible;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use measure::catalogue::{BINARIES, Stage};
use measure::scenario::{Scenario, Settings};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::cargo;
use crate::demo::json;
use crate::demo::scenario_words::describe;
use crate::demo::view::ScenarioView;
use crate::lab::LabOptions;
use crate::lab::experiment::{self, DEFAULT_FAST, DEFAULT_SLOW_MS};
use crate::lab::guard::{self, Guard};
use crate::lab::hands_on::{self, Button};
use crate::lab::limits::{self, EventStreamSlot, Limits, lock};
use crate::lab::state::{Lab, PageOpen};

const PAGE: &str = include_str!("page.html");

/// How long the lab keeps its hands-on servers up with no page open.
const NO_PAGE_STOP: Duration = Duration::from_secs(60);

pub fn run(options: LabOptions) -> ExitCode {
    if let Err(message) = crate::stop::install_ctrl_c_handler() {
        eprintln!("warning: {message}");
    }
    let workspace = match cargo::workspace() {
        Ok(workspace) => workspace,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match std::net::TcpListener::bind(options.addr) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "error: cannot serve the lab on {}: {err}; try another --port (0 picks a free one)",
                options.addr
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(options.addr);
    let url = format!("http://{addr}/");
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "Lab at {url}");
        let _ = stdout.flush();
    }
    if !addr.ip().is_loopback() {
        // Only with --allow-remote (mod.rs refuses the rest): say what it opens, every time.
        eprintln!(
            "warning: --allow-remote: anyone who can reach {url} can open the lab, and start \
             runs and servers on this machine (within its caps); it has no login. Use it on a \
             network you trust."
        );
    }
    eprintln!("Ctrl-C stops the lab and every server it started.");
    if options.open {
        // Opening is a convenience: the URL is printed above.
        std::thread::spawn(move || {
            if let Err(err) = opener::open(&url) {
                eprintln!("hint: could not open a browser ({err}); open {url} yourself");
            }
        });
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let lab = Arc::new(Lab::new(workspace, cores, Limits::DEFAULT));
    let guard = Guard::new(addr, &options.host, options.allow_remote);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the lab's runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(watch_pages(Arc::clone(&lab)));
        let limits = lab.caps.limits;
        limits::serve(listener, router(lab, guard), limits).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: the lab stopped serving: {err}");
            ExitCode::FAILURE
        }
    }
}

fn router(lab: Arc<Lab>, guard: Guard) -> Router {
    let post_time = lab.caps.limits.post_time;
    Router::new()
        .route("/", get(page))
        .route("/catalogue.json", get(catalogue))
        .route("/events", get(events))
        .route("/run", post(start_run))
        .route("/export.json", get(export))
        .route("/chapter", get(chapter))
        .route("/hands-on/start", post(hands_on_start))
        .route("/hands-on/send", post(hands_on_send))
        .route("/hands-on/stop", post(hands_on_stop))
        .with_state(lab)
        // Layers run from the last added: the guard first, then the POSTs' time limit.
        .layer(axum::middleware::from_fn_with_state(
            post_time,
            limits::post_time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            guard::check,
        ))
}

/// Every second: notes hands-on servers that crashed, and stops them all when no page has
/// been open for [`NO_PAGE_STOP`]. The lab itself stays up for the next page.
async fn watch_pages(lab: Arc<Lab>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        hands_on::reap_crashed(&lab);
        if lab.no_page_for(NO_PAGE_STOP) && !lab.hands_on().is_empty() {
            let count = hands_on::stop_all(&lab, "no page was open for a minute");
            eprintln!(
                "no page open for {} s: stopped {count} hands-on server{}; the lab waits for a page",
                NO_PAGE_STOP.as_secs(),
                if count == 1 { "" } else { "s" }
            );
        }
    }
}

/// The page's marker of where the browser came from; the page as written says "another site",
/// so that a page served without the lab's say does not run by itself.
const ARRIVED_FROM_ANOTHER_SITE: &str = "data-arrived-from=\"another-site\"";
const ARRIVED_FROM_THIS_SITE: &str = "data-arrived-from=\"this-site\"";

/// The page, told whether a page of another site sent the browser here: then it fills in the
/// experiment its URL names but waits for a click, so a link cannot start runs on this
/// machine; otherwise (a bookmark, a typed URL, a command line) it runs it at once.
async fn page(headers: HeaderMap) -> impl IntoResponse {
    let page = if guard::sent_by_another_site(&headers) {
        PAGE.to_string()
    } else {
        PAGE.replacen(ARRIVED_FROM_ANOTHER_SITE, ARRIVED_FROM_THIS_SITE, 1)
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::VARY, "Sec-Fetch-Site"),
        ],
        page,
    )
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// The refusal of a POST that is not `Content-Type: application/json`. The page always sends that;
/// another web site open in the same browser cannot without the browser asking first
/// (a CORS preflight, which the lab does not allow), so it cannot start runs or servers here.
fn unless_from_the_page(headers: &HeaderMap) -> Option<Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    (!json).then(|| {
        problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send JSON with Content-Type: application/json, as the lab's page does",
        )
    })
}

fn problem(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

/// The binaries, scenarios and defaults, from the catalogue: what the page offers, and what
/// each binary should show in each scenario on this machine.
fn catalogue_json(cores: usize) -> Value {
    let settings = Settings {
        delay: Duration::from_millis(DEFAULT_SLOW_MS),
        fast: DEFAULT_FAST,
        workers: measure::catalogue::WORKERS,
    };
    let binaries: Vec<Value> = BINARIES
        .iter()
        .map(|binary| {
            let lessons: serde_json::Map<String, Value> = Scenario::ALL
                .iter()
                .map(|s| {
                    (
                        s.name().to_string(),
                        json!(binary.stage.lesson(*s, cores).name()),
                    )
                })
                .collect();
            json!({
                "binary": binary.name,
                "stage": binary.stage.number(),
                "runtime": binary.runtime.name(),
                "model": binary.stage.model_words(),
                "default": binary.runtime.is_default(),
                "lessons": lessons,
            })
        })
        .collect();
    let scenarios: Vec<Value> = Scenario::ALL
        .iter()
        .map(|scenario| {
            let (title, lesson) = describe(*scenario, &settings);
            json!({ "scenario": scenario.name(), "title": title, "lesson": lesson })
        })
        .collect();
    json!({
        "binaries": binaries,
        "stages": Stage::ALL.iter().map(|s| json!({
            "stage": s.number(), "model": s.model_words(),
        })).collect::<Vec<_>>(),
        "scenarios": scenarios,
        "slow_ms": DEFAULT_SLOW_MS,
        "fast": DEFAULT_FAST,
        "cores": cores,
    })
}

async fn catalogue(State(lab): State<Arc<Lab>>) -> Response {
    json_response(StatusCode::OK, &catalogue_json(lab.cores()))
}

async fn events(State(lab): State<Arc<Lab>>) -> Response {
    match lab.caps.event_stream() {
        Ok(slot) => event_stream(&lab, slot).into_response(),
        Err(message) => problem(StatusCode::SERVICE_UNAVAILABLE, &message),
    }
}

fn event_stream(
    lab: &Arc<Lab>,
    slot: EventStreamSlot,
) -> Sse<impl Stream<Item = Result<sse::Event, Infallible>> + use<>> {
    let (history, live) = lab.subscribe();
    let open = PageOpen::new(lab, slot);
    let state = (history.into_iter(), live, open);
    let stream = futures_util::stream::unfold(state, |(mut history, mut live, open)| async move {
        let line = match history.next() {
            Some(line) => line,
            None => loop {
                match live.recv().await {
                    Ok(line) => break line,
                    // A page too slow to keep up misses some events; it goes on with the rest.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            },
        };
        Some((
            Ok(sse::Event::default().data(&*line)),
            (history, live, open),
        ))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn start_run(State(lab): State<Arc<Lab>>, headers: HeaderMap, body: String) -> Response {
    if let Some(refused) = unless_from_the_page(&headers) {
        return refused;
    }
    let experiment = match experiment::parse(&body) {
        Ok(experiment) => experiment,
        Err(message) => return problem(StatusCode::BAD_REQUEST, &message),
    };
    let run = {
        let mut running = lock(&lab.running);
        if let Some(run) = *running {
            return problem(
                StatusCode::CONFLICT,
                &format!(
                    "run {run} is still under way (one run at a time, so they do not share \
                     the cores): watch it, and start yours when it ends"
                ),
            );
        }
        let run = lab.next_id();
        *running = Some(run);
        run
    };
    let worker = Arc::clone(&lab);
    std::thread::spawn(move || {
        let result = experiment::run(&worker, run, &experiment);
        *lock(&worker.last) = Some(ScenarioView::of(result, worker.cores()));
        *lock(&worker.running) = None;
    });
    json_response(StatusCode::ACCEPTED, &json!({ "run": run }))
}

/// The instructor notes on browsers, from the workspace: the page's link works offline.
async fn chapter() -> Response {
    match crate::checkout::workspace_root() {
        Ok(root) => chapter_in(&root),
        // Without the error's text, which names a folder on this machine (as below).
        Err(_) => problem(
            StatusCode::NOT_FOUND,
            "cannot find the project's checkout to read the notes from",
        ),
    }
}

fn chapter_in(workspace_root: &std::path::Path) -> Response {
    // Named from the workspace's root in the error: the absolute path would tell any page
    // where the checkout is, and the user's name with it.
    const CHAPTER: &str = "docs/src/instructor-notes.md";
    match std::fs::read_to_string(workspace_root.join(CHAPTER)) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(err) => problem(
            StatusCode::NOT_FOUND,
            &format!("cannot read {CHAPTER} in the workspace: {err}"),
        ),
    }
}

async fn export(State(lab): State<Arc<Lab>>) -> Response {
    let last = lock(&lab.last);
    let Some(view) = last.as_ref() else {
        return problem(
            StatusCode::NOT_FOUND,
            "no run has finished yet: run one first",
        );
    };
    let result = &view.result;
    let scenarios = [result.scenario];
    let header = json::Header {
        command: "cargo xtask lab",
        scenarios: &scenarios,
        slow: result.settings.delay,
        fast: result.settings.fast,
        cores: lab.cores(),
    };
    let value = json::render(std::slice::from_ref(view), &header);
    let body = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lab-run.json\"",
            ),
        ],
        body,
    )
        .into_response()
}

async fn hands_on_start(State(lab): State<Arc<Lab>>, headers: HeaderMap, body: String) -> Response {
    if let Some(refused) = unless_from_the_page(&headers) {
        return refused;
    }
    // The same names and delay as a run; the scenario and guesses do not matter here.
    let experiment = match experiment::parse(&body) {
        Ok(experiment) => experiment,
        Err(message) => return problem(StatusCode::BAD_REQUEST, &message),
    };
    let starting = experiment.binaries.len();
    let slot = match lab.caps.hands_on(starting, || lab.hands_on().len()) {
        Ok(slot) => slot,
        Err(message) => return problem(StatusCode::TOO_MANY_REQUESTS, &message),
    };
    let worker = Arc::clone(&lab);
    std::thread::spawn(move || {
        hands_on::start(&worker, &experiment.binaries, experiment.settings.delay);
        drop(slot);
    });
    json_response(StatusCode::ACCEPTED, &json!({ "starting": starting }))
}

async fn hands_on_send(State(lab): State<Arc<Lab>>, headers: HeaderMap, body: String) -> Response {
    if let Some(refused) = unless_from_the_page(&headers) {
        return refused;
    }
    let value: Value = serde_json::from_str(&body).unwrap_or_default();
    let (Some(server), Some(button)) = (
        value["server"].as_u64(),
        value["send"].as_str().and_then(Button::from_name),
    ) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "send {\"server\": ID, \"send\": \"sleep\"|\"block\"|\"cpu\"|\"root\"|\"idle\"}",
        );
    };
    let slot = match lab.caps.request(server) {
        Ok(slot) => slot,
        Err(message) => return problem(StatusCode::TOO_MANY_REQUESTS, &message),
    };
    match hands_on::send(&lab, server, button, slot) {
        Ok(()) => json_response(StatusCode::ACCEPTED, &json!({ "sent": true })),
        Err(message) => problem(StatusCode::NOT_FOUND, &message),
    }
}

async fn hands_on_stop(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Response {
    if let Some(refused) = unless_from_the_page(&headers) {
        return refused;
    }
    let worker = Arc::clone(&lab);
    let count =
        tokio::task::spawn_blocking(move || hands_on::stop_all(&worker, "stopped from the page"))
            .await
            .unwrap_or(0);
    json_response(StatusCode::OK, &json!({ "stopped": count }))
}

#[cfg(test)]
mod tests;
