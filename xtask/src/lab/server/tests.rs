//! The lab's routes, its guard and its caps, served on a free port of loopback.

use std::sync::atomic::Ordering;
use std::time::Instant;

use measure::catalogue::Binary;
use measure::scenario::Role;

use super::*;
use crate::lab::events::{Ending, Event, Lane, planned};

fn lab() -> Lab {
    lab_with(Limits::DEFAULT)
}

fn lab_with(limits: Limits) -> Lab {
    let workspace = cargo::workspace().expect("the workspace of this test");
    Lab::new(workspace, 2, limits)
}

fn events(lab: &Lab) -> Vec<Value> {
    lab.subscribe()
        .0
        .iter()
        .map(|line| serde_json::from_str(line).expect("every event is JSON"))
        .collect()
}

#[test]
fn a_planned_run_streams_in_order_and_a_late_page_gets_it_all() {
    let lab = lab();
    let settings = Settings {
        delay: Duration::from_millis(500),
        fast: 2,
        workers: 4,
    };
    let binaries: Vec<Binary> = vec![*Stage::One.default_binary()];
    lab.emit(&Event::RunStarted {
        run: 7,
        scenario: Scenario::Slow,
        settings,
        binaries: &binaries,
        guesses: &[("stage-1", crate::lab::events::Guess::Wait)],
        title: "t".into(),
        lesson: "l".into(),
    });
    let lane = Lane::Run {
        run: 7,
        binary: "stage-1",
    };
    // A live page sees the same as a late one.
    let (_, mut live) = lab.subscribe();
    let plan = Scenario::Slow.plan(&settings);
    for event in planned(lane, plan.requests()) {
        lab.emit(&event);
    }
    lab.emit(&Event::RequestSent {
        lane,
        index: 0,
        at: Duration::ZERO,
    });
    lab.emit(&Event::RequestEnded {
        lane,
        index: 0,
        at: Duration::ZERO,
        ending: Ending {
            took: Duration::from_millis(501),
            status: 200,
            thread: Some("main #1".into()),
            letter: Some('a'),
            error: None,
            closed: false,
        },
    });
    let all = events(&lab);
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "run-started",
            "request-planned",
            "request-planned",
            "request-planned",
            "request-sent",
            "request-answered"
        ]
    );
    assert_eq!(all[0]["guesses"], json!({ "stage-1": "wait" }));
    assert_eq!(all[0]["binaries"][0]["binary"], "stage-1");
    assert_eq!(all[0]["slow_ms"], 500.0);
    let roles: Vec<&str> = all[1..4]
        .iter()
        .map(|e| e["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, [Role::Slow.name(), "fast", "fast"]);
    assert_eq!(all[1]["path"], "/sleep");
    assert_eq!(
        (&all[2]["run"], &all[2]["binary"], &all[2]["index"]),
        (&json!(7), &json!("stage-1"), &json!(1))
    );
    assert_eq!(
        all[5],
        json!({
            "type": "request-answered", "run": 7, "binary": "stage-1", "index": 0,
            "at_ms": 0.0, "ms": 501.0, "status": 200, "thread": "main #1",
            "letter": "a", "error": null,
        })
    );
    let mut live_kinds = Vec::new();
    while let Ok(line) = live.try_recv() {
        let value: Value = serde_json::from_str(&line).expect("JSON");
        live_kinds.push(value["type"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(live_kinds, kinds[1..]);

    // The next run starts a fresh history.
    lab.emit(&Event::RunFinished {
        run: 7,
        as_expected: 1,
        of: 1,
    });
    lab.emit(&Event::RunStarted {
        run: 8,
        scenario: Scenario::Cpu,
        settings,
        binaries: &binaries,
        guesses: &[],
        title: String::new(),
        lesson: String::new(),
    });
    let all = events(&lab);
    assert_eq!(all.len(), 1);
    assert_eq!(
        (&all[0]["run"], &all[0]["scenario"]),
        (&json!(8), &json!("cpu"))
    );
}

/// Serves `lab`'s routes on a free loopback port, on a thread of its own, as `run` does:
/// the same accept loop, guard and limits (the lab's own).
fn serve(lab: &Arc<Lab>) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("its address");
    listener.set_nonblocking(true).expect("non-blocking");
    let lab = Arc::clone(lab);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio");
            let limits = lab.caps.limits;
            let guard = Guard::new(addr, "127.0.0.1", false);
            let _ = limits::serve(listener, router(lab, guard), limits).await;
        });
    });
    addr
}

fn request(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let bytes = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let exchange = measure::client::send(addr, bytes.as_bytes());
    let response = exchange.response.expect("the lab answers");
    (response.status, response.body_text())
}

#[test]
fn the_page_is_served_and_a_second_run_is_refused_while_one_runs() {
    let lab = Arc::new(lab());
    // A run under way (the real ones build and start servers: not in a unit test).
    *lock(&lab.running) = Some(5);
    let addr = serve(&lab);
    let (status, page) = request(addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<title>cargo xtask lab</title>"), "{page}");
    assert!(page.contains("new EventSource(\"/events\")"));

    let run = r#"{"scenario": "slow", "binaries": ["1", "5"]}"#;
    let (status, body) = request(addr, "POST", "/run", run);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("run 5 is still under way"), "{body}");

    let (status, body) = request(addr, "POST", "/run", r#"{"binaries": ["stage-9"]}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown binary"), "{body}");

    // Another site's form or no-cors fetch cannot send JSON without asking first.
    let plain = format!(
        "POST /run HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{run}",
        run.len()
    );
    let refused = measure::client::send(addr, plain.as_bytes());
    assert_eq!(refused.status(), 415);

    let (status, body) = request(addr, "GET", "/export.json", "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no run has finished yet"), "{body}");

    let (status, body) = request(
        addr,
        "POST",
        "/hands-on/send",
        r#"{"server": 1, "send": "idle"}"#,
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("server 1 is not running"), "{body}");
}

#[test]
fn the_chapters_error_names_no_absolute_path() {
    let root = std::env::temp_dir().join("no-checkout-here");
    let response = chapter_in(&root);
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(
        response.into_body(),
        usize::MAX,
    ))
    .expect("a body in memory")
    .expect("its bytes");
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("cannot read docs/src/instructor-notes.md in the workspace"),
        "{text}"
    );
    assert!(!text.contains("no-checkout-here"), "{text}");
}

#[test]
fn the_catalogue_offers_every_binary_with_its_lessons() {
    let catalogue = catalogue_json(2);
    let binaries = catalogue["binaries"].as_array().expect("a list");
    assert_eq!(binaries.len(), BINARIES.len());
    let defaults: Vec<&str> = binaries
        .iter()
        .filter(|b| b["default"] == true)
        .filter_map(|b| b["binary"].as_str())
        .collect();
    assert_eq!(
        defaults,
        ["stage-1", "stage-2", "stage-3", "stage-4", "stage-5"]
    );
    assert_eq!(binaries[0]["lessons"]["slow"], "wait");
    assert_eq!(binaries[8]["lessons"]["slow"], "no-wait");
    assert_eq!(catalogue["scenarios"].as_array().map(Vec::len), Some(5));
}

/// What the lab answered to raw `bytes`: the whole response.
fn answer(addr: std::net::SocketAddr, bytes: &str) -> measure::client::Response {
    measure::client::send(addr, bytes.as_bytes())
        .response
        .expect("the lab answers")
}

/// A request with `headers` (each ending in CRLF) after the request line.
fn with_headers(method: &str, path: &str, headers: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn assert_not_framed(response: &measure::client::Response) {
    assert_eq!(response.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(
        response.header("Content-Security-Policy"),
        Some("frame-ancestors 'none'")
    );
}

#[test]
fn a_request_not_addressed_to_the_lab_is_refused() {
    let lab = Arc::new(lab());
    let addr = serve(&lab);
    let port = addr.port();
    let own = format!("http://127.0.0.1:{port}/");
    // DNS rebinding: the attacker's name, now resolving to 127.0.0.1.
    let evil = format!("Host: evil.example:{port}\r\n");
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/catalogue.json"),
        ("GET", "/chapter"),
        ("GET", "/export.json"),
        ("GET", "/events"),
    ] {
        let refused = answer(addr, &with_headers(method, path, &evil, ""));
        assert_eq!(refused.status, 403, "{method} {path}");
        let body = refused.body_text();
        assert!(
            body.contains(&format!("answers only requests addressed to {own}"))
                && body.contains("DNS rebinding")
                && body.contains("--host NAME --allow-remote"),
            "{body}"
        );
        assert_not_framed(&refused);
    }
    let run = r#"{"scenario": "slow", "binaries": ["1"]}"#;
    let json_evil = format!("{evil}Content-Type: application/json\r\n");
    let refused = answer(addr, &with_headers("POST", "/run", &json_evil, run));
    assert_eq!(refused.status, 403, "{}", refused.body_text());
    assert_eq!(*lock(&lab.running), None, "no run started");
    let refused = answer(
        addr,
        &with_headers("POST", "/hands-on/start", &json_evil, run),
    );
    assert_eq!(refused.status, 403);
    // The same name on another port, and an absolute-form target naming another host.
    let other_port = format!("Host: 127.0.0.1:{}\r\n", port.wrapping_add(1));
    assert_eq!(
        answer(addr, &with_headers("GET", "/", &other_port, "")).status,
        403
    );
    let absolute = format!(
        "GET http://evil.example:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Connection: close\r\n\r\n"
    );
    assert_eq!(answer(addr, &absolute).status, 403);

    // Its own names answer, each with the headers that forbid framing.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let page = answer(
            addr,
            &with_headers("GET", "/", &format!("Host: {host}\r\n"), ""),
        );
        assert_eq!(page.status, 200, "{host}");
        assert_not_framed(&page);
    }
    let missing = answer(
        addr,
        &with_headers(
            "GET",
            "/nowhere",
            &format!("Host: 127.0.0.1:{port}\r\n"),
            "",
        ),
    );
    assert_eq!(missing.status, 404);
    assert_not_framed(&missing);
    // No Host: HTTP/1.0 (not from a browser) is answered, HTTP/1.1 must name it.
    let old = answer(addr, "GET /catalogue.json HTTP/1.0\r\n\r\n");
    assert_eq!(old.status, 200);
    let nameless = answer(addr, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(nameless.status, 400);
    assert!(nameless.body_text().contains("needs a Host header"));
    let twice = format!("Host: 127.0.0.1:{port}\r\nHost: evil.example:{port}\r\n");
    assert_eq!(
        answer(addr, &with_headers("GET", "/", &twice, "")).status,
        400
    );
}

#[test]
fn a_post_from_another_origin_is_refused_and_starts_nothing() {
    let lab = Arc::new(lab());
    let addr = serve(&lab);
    let host = format!("Host: {addr}\r\nContent-Type: application/json\r\n");
    let run = r#"{"scenario": "slow", "binaries": ["1", "5"]}"#;
    for origin in ["http://evil.example", "null", "https://127.0.0.1:7880"] {
        let headers = format!("{host}Origin: {origin}\r\n");
        let refused = answer(addr, &with_headers("POST", "/run", &headers, run));
        assert_eq!(refused.status, 403, "{origin}");
        let body = refused.body_text();
        assert!(
            body.contains(&format!("refuses POST /run from a page of {origin}"))
                && body.contains(&format!("open http://{addr}/")),
            "{body}"
        );
        assert_not_framed(&refused);
        let refused = answer(
            addr,
            &with_headers("POST", "/hands-on/start", &headers, run),
        );
        assert_eq!(refused.status, 403, "{origin}");
        let refused = answer(
            addr,
            &with_headers("POST", "/hands-on/stop", &headers, "{}"),
        );
        assert_eq!(refused.status, 403, "{origin}");
    }
    assert_eq!(*lock(&lab.running), None, "no run started");
    assert_eq!(
        lab.next_id.load(Ordering::Relaxed),
        1,
        "no run or server numbered"
    );
    // Another name of the lab is another origin to the browser: refused too.
    let other_name = format!("{host}Origin: http://localhost:{}\r\n", addr.port());
    assert_eq!(
        answer(addr, &with_headers("POST", "/run", &other_name, run)).status,
        403
    );

    // Its own page's Origin passes the guard (and meets the run under way).
    *lock(&lab.running) = Some(5);
    let own = format!("{host}Origin: http://{addr}\r\n");
    let passed = answer(addr, &with_headers("POST", "/run", &own, run));
    assert_eq!(passed.status, 409, "{}", passed.body_text());
    let passed = answer(
        addr,
        &with_headers(
            "POST",
            "/hands-on/send",
            &own,
            r#"{"server": 1, "send": "idle"}"#,
        ),
    );
    assert_eq!(passed.status, 404, "{}", passed.body_text());
    // As does a POST with no Origin at all (curl, or the lab's own tests).
    let (status, _) = request(addr, "POST", "/run", run);
    assert_eq!(status, 409);
}

#[test]
fn a_link_from_another_site_fills_in_the_experiment_but_does_not_run_it() {
    let lab = Arc::new(lab());
    let addr = serve(&lab);
    let path = "/?run=slow&stages=1,5";
    for (site, arrived_from) in [
        (Some("cross-site"), "another-site"),
        (Some("same-site"), "another-site"),
        (Some("none"), "this-site"),
        (Some("same-origin"), "this-site"),
        (None, "this-site"),
    ] {
        let headers = match site {
            Some(site) => format!("Host: {addr}\r\nSec-Fetch-Site: {site}\r\n"),
            None => format!("Host: {addr}\r\n"),
        };
        let page = answer(addr, &with_headers("GET", path, &headers, ""));
        assert_eq!(page.status, 200);
        let html = page.body_text();
        let marker = format!("<html lang=\"en\" data-arrived-from=\"{arrived_from}\">");
        assert!(html.contains(&marker), "{site:?}: {}", &html[..200]);
        assert_eq!(page.header("Vary"), Some("Sec-Fetch-Site"));
        assert_not_framed(&page);
    }
    // What the page does with it: runs at once only when it came from this site.
    assert!(PAGE.contains("wantAutoRun = named && !sentByAnotherSite;"));
    assert!(PAGE.contains("did not start by itself"));
    assert_eq!(*lock(&lab.running), None);
}

#[test]
fn each_cap_refuses_the_one_past_it() {
    let lab = Arc::new(lab_with(Limits {
        event_streams: 2,
        hands_on_servers: 2,
        requests_per_server: 2,
        requests_in_all: 3,
        ..Limits::DEFAULT
    }));
    let addr = serve(&lab);

    // Event streams: two pages, and the third is told why not.
    let mut pages = Vec::new();
    for _ in 0..2 {
        let mut page = std::net::TcpStream::connect(addr).expect("connect");
        let head = format!("GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        page.write_all(head.as_bytes()).expect("send");
        let mut first = [0u8; 12];
        std::io::Read::read_exact(&mut page, &mut first).expect("an answer");
        assert_eq!(&first, b"HTTP/1.1 200");
        pages.push(page);
    }
    let (status, body) = request(addr, "GET", "/events", "");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("2 pages are already connected"), "{body}");
    drop(pages);

    // Hands-on servers: past the cap at once, or with two already starting.
    let three = r#"{"binaries": ["1", "2", "5"]}"#;
    let (status, body) = request(addr, "POST", "/hands-on/start", three);
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("3 more would pass the lab's cap of 2"),
        "{body}"
    );
    let starting = lab.caps.hands_on(2, || 0).expect("two starting");
    let (status, body) = request(addr, "POST", "/hands-on/start", r#"{"binaries": ["1"]}"#);
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("0 hands-on servers are running and 2 starting"),
        "{body}"
    );
    drop(starting);

    // Requests in flight: per server, then in all.
    let send = |server: u64| {
        request(
            addr,
            "POST",
            "/hands-on/send",
            &format!(r#"{{"server": {server}, "send": "sleep"}}"#),
        )
    };
    let held = [
        lab.caps.request(1).expect("first"),
        lab.caps.request(1).expect("second"),
    ];
    let (status, body) = send(1);
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("2 requests to server 1 are still under way"),
        "{body}"
    );
    let other = lab.caps.request(2).expect("third");
    let (status, body) = send(3);
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("3 hands-on requests are still under way"),
        "{body}"
    );
    drop((held, other));
    // Under the caps again: on to the servers, which are not running.
    let (status, body) = send(1);
    assert_eq!(status, 404, "{body}");
    assert!(
        lab.caps.request(1).is_ok(),
        "the refused ones gave their slots back"
    );
}

/// Reads from `stream` until the lab closes it; how long that took, or `None` if it was
/// still open at `within`.
fn closed_within(stream: &mut std::net::TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("a read timeout");
    let mut buffer = [0u8; 1024];
    while start.elapsed() < within {
        match std::io::Read::read(stream, &mut buffer) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn connections_past_the_cap_are_refused_and_slow_heads_are_closed() {
    let head_time = Duration::from_millis(400);
    let margin = Duration::from_millis(600);
    let lab = Arc::new(lab_with(Limits {
        connections: 2,
        head_time,
        post_time: Duration::from_millis(300),
        ..Limits::DEFAULT
    }));
    let addr = serve(&lab);

    // Two idle connections take the two places; the third is told why, at once.
    let mut idle: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let refused = answer(
        addr,
        &with_headers("GET", "/", &format!("Host: {addr}\r\n"), ""),
    );
    assert_eq!(refused.status, 503);
    let body = refused.body_text();
    assert!(
        body.contains("already has 2 connections open, its cap"),
        "{body}"
    );
    assert_not_framed(&refused);
    // The idle ones never sent a head: closed by its time limit.
    for stream in &mut idle {
        let took = closed_within(stream, head_time + margin);
        assert!(
            took.is_some(),
            "an idle connection outlived the head's time limit"
        );
    }
    drop(idle);

    // Slowloris: a head sent a few bytes at a time, never finished, is closed at the
    // limit for the whole head, not at a limit for each read.
    let mut slow = std::net::TcpStream::connect(addr).expect("connect");
    let start = Instant::now();
    slow.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .expect("the start of a head");
    let mut closed = None;
    while start.elapsed() < head_time + margin {
        if slow.write_all(b"X-a: b\r\n").is_err() {
            closed = Some(start.elapsed());
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(50)).is_some() {
            closed = Some(start.elapsed());
            break;
        }
    }
    let closed = closed.expect("the slow head was closed within its time limit + margin");
    assert!(
        closed >= head_time - Duration::from_millis(50),
        "closed at {closed:?}, before the head's time limit"
    );

    // A POST whose body never completes is answered 408 at the POSTs' time limit.
    let mut slow_body = std::net::TcpStream::connect(addr).expect("connect");
    slow_body
        .write_all(
            format!(
                "POST /run HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"binaries\""
            )
            .as_bytes(),
        )
        .expect("a head and part of a body");
    slow_body
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("a read timeout");
    let mut answer_text = String::new();
    let _ = std::io::Read::read_to_string(&mut slow_body, &mut answer_text);
    assert!(answer_text.starts_with("HTTP/1.1 408"), "{answer_text}");
    assert!(
        answer_text.contains("not complete within 0.3 s"),
        "{answer_text}"
    );
    assert_eq!(*lock(&lab.running), None);

    // And the places are free again.
    let (status, _) = request(addr, "GET", "/catalogue.json", "");
    assert_eq!(status, 200);
}

#[test]
fn wrong_types_and_numbers_out_of_range_are_refused_with_the_range() {
    let lab = Arc::new(lab());
    let addr = serve(&lab);
    for (path, body, says) in [
        (
            "/run",
            r#"{"binaries": ["1"], "slow_ms": 1e12}"#,
            "100 to 20000",
        ),
        (
            "/run",
            r#"{"binaries": ["1"], "slow_ms": "1000000000000"}"#,
            "slow_ms:",
        ),
        (
            "/run",
            r#"{"binaries": ["1"], "fast": -5}"#,
            "fast: the number of fast requests is a whole number from 1 to 100, not -5",
        ),
        ("/run", r#"{"binaries": ["1"], "fast": 1.5e6}"#, "1 to 100"),
        (
            "/hands-on/start",
            r#"{"binaries": ["1"], "slow_ms": 1e12}"#,
            "100 to 20000",
        ),
    ] {
        let (status, answer) = request(addr, "POST", path, body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.contains(says), "{body}: {answer}");
    }
    assert_eq!(*lock(&lab.running), None);
    assert_eq!(lab.hands_on().len(), 0);
}
