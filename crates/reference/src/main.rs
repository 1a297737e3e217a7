//! The reference server for `cargo xtask bench`: what a user would pick for real, axum on a
//! multi-threaded tokio runtime, keeping the contract of the stages (flags, the `Listening on`
//! line, the routes and pages, `Content-Type`, `Connection: close`, one log line per request),
//! so the bench compares the same work.
//!
//! It is not a stage and not part of the lesson: a plain `cargo build` and the demo skip it
//! (it is left out of the workspace's `default-members`).
//!
//! Differences that do not change the bench: axum answers an unknown method with its own
//! empty 405, and `axum::serve` has no read timeout or connection limit, so
//! `--read-timeout-ms` and `--max-connections` are accepted (the bench passes the same
//! command line to every server) but not enforced.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use server_core::{
    Config, Flags, HELLO_HTML, NOT_FOUND_HTML, announce, shutdown, thread_label, write_line,
};

fn main() {
    let config = Config::from_args(
        "reference",
        "the bench's reference server, axum on tokio (not a stage)",
        Flags::WithMaxConnections,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| {
            eprintln!("error: cannot start the tokio runtime: {err}");
            std::process::exit(1)
        });
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.address())
            .await
            .unwrap_or_else(|err| config.exit_bind_failed(err));
        announce(listener.local_addr());
        shutdown::install(config, None);

        let sleep = config.sleep;
        let app = Router::new()
            .route("/", get(hello))
            .route(
                "/sleep",
                get(move || async move {
                    tokio::time::sleep(sleep).await;
                    hello().await
                }),
            )
            .route(
                "/block",
                get(move || async move {
                    // Blocks a runtime thread on purpose, as the stages' /block does.
                    std::thread::sleep(sleep);
                    hello().await
                }),
            )
            .route(
                "/cpu",
                get(|| async {
                    std::hint::black_box(server_core::cpu_work());
                    hello().await
                }),
            )
            .fallback(not_found)
            .layer(middleware::from_fn(close_and_log));

        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown::requested())
            .await;
        if let Err(err) = served {
            eprintln!("error: serving failed: {err}");
            std::process::exit(1)
        }
    });
    shutdown::finished();
}

async fn hello() -> Html<&'static str> {
    Html(HELLO_HTML)
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND_HTML))
}

/// `Connection: close` on every response (hyper then closes after it, as the stages do), and
/// the stages' log line: method, path, status, milliseconds, thread.
async fn close_and_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    // The stages name the thread that wrote each response; so does the reference, so that
    // the bench compares responses of the same size.
    if let Ok(served_by) = HeaderValue::from_str(&thread_label()) {
        response.headers_mut().insert("x-served-by", served_by);
    }
    let millis = Duration::as_millis(&started.elapsed());
    // One write per line, as the stages log (server_core::write_line).
    write_line(&format!(
        "{method} {path} -> {} in {millis} ms on {}\n",
        response.status().as_u16(),
        thread_label()
    ));
    response
}
