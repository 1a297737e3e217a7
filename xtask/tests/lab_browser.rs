//! The lab in a real browser: headless Chromium loads `?run=slow&stages=1,5`, the page runs
//! the experiment its URL names, and the test reads the DOM it ends with: one bar per planned
//! request, the verdicts the catalogue expects (stage 1's fast requests waited, stage 5's did
//! not), and the letter of the serving thread on every answered bar.
//!
//! Needs the lab (`cargo test -p xtask --features lab --test lab_browser`) and Chromium
//! (Debian's package `chromium`, or `LAB_CHROMIUM=/path/to/chrome`); without either it says so
//! on stderr and passes. `.ci/run` installs Chromium and runs it.

/// Says on the real stderr, which the test harness does not capture, why the test did not run.
#[allow(dead_code)]
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

#[test]
fn the_lab_runs_the_experiment_its_url_names_in_chromium() {
    #[cfg(not(feature = "lab"))]
    skipped(
        "the lab's browser test needs the lab: \
         cargo test -p xtask --features lab --test lab_browser",
    );
    #[cfg(feature = "lab")]
    browser::run();
}

#[cfg(feature = "lab")]
mod browser {
    use std::io::{BufRead, BufReader, Read};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use measure::catalogue::{Lesson, Stage};
    use measure::scenario::{Scenario, Settings};

    /// How long the browser may take, in all: the build of two stages (usually done by then),
    /// two runs of a second each, and Chromium's start.
    const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
    const SLOW_MS: u64 = 1000;
    const FAST: usize = 4;

    fn chromium() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("LAB_CHROMIUM") {
            return Some(PathBuf::from(path));
        }
        let path = std::env::var_os("PATH")?;
        [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
    }

    /// The lab, stopped as Ctrl-C would (so it stops its servers), then killed if need be.
    struct Lab(Child);

    impl Drop for Lab {
        fn drop(&mut self) {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The attributes of each `<TAG class="CLASS" …>` in `html`, as `name="value"` text.
    fn tags<'a>(html: &'a str, open: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        html.match_indices(open)
            .map(move |(at, _)| &html[at..at + html[at..].find('>').unwrap_or(0)])
    }

    fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let from = tag.find(&key)? + key.len();
        Some(&tag[from..from + tag[from..].find('"')?])
    }

    pub fn run() {
        let Some(chromium) = chromium() else {
            super::skipped("no Chromium found (install the Debian package chromium)");
            return;
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["lab", "--no-open", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the lab starts");
        let stdout = child.stdout.take().expect("a stdout pipe");
        let lab = Lab(child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the lab prints its URL");
        let url = line
            .trim_end()
            .strip_prefix("Lab at ")
            .unwrap_or_else(|| panic!("the first line names the URL: {line:?}"))
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "{url}"
        );

        let page = format!("{url}?run=slow&stages=1,5&slow={SLOW_MS}&fast={FAST}&once=1");
        let mut browser = Command::new(&chromium)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--virtual-time-budget=30000",
                "--dump-dom",
                &page,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let mut dom_pipe = browser.stdout.take().expect("a stdout pipe");
        let reader = std::thread::spawn(move || {
            let mut dom = String::new();
            let _ = dom_pipe.read_to_string(&mut dom);
            dom
        });
        let deadline = Instant::now() + BROWSER_TIMEOUT;
        while browser.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = browser.kill();
                let _ = browser.wait();
                panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let dom = reader.join().expect("the DOM");
        drop(lab);

        assert!(
            tags(&dom, "<body").any(|body| attr(body, "data-done") == Some("1")),
            "the run did not finish in the page:\n{dom}"
        );
        let settings = Settings {
            delay: Duration::from_millis(SLOW_MS),
            fast: FAST,
            workers: measure::catalogue::WORKERS,
        };
        let planned = Scenario::Slow.plan(&settings).requests().count();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for (binary, stage) in [("stage-1", Stage::One), ("stage-5", Stage::Five)] {
            let open = format!("<section class=\"lane\" data-binary=\"{binary}\"");
            let start = dom
                .find(&open)
                .unwrap_or_else(|| panic!("no lane for {binary}:\n{dom}"));
            let end = dom[start + 1..]
                .find("<section")
                .map_or(dom.len(), |at| start + 1 + at);
            let lane = &dom[start..end];
            let bars: Vec<&str> = tags(lane, "<div class=\"bar\"").collect();
            assert_eq!(
                bars.len(),
                planned,
                "{binary}: one bar per request:\n{lane}"
            );
            for bar in &bars {
                assert_eq!(attr(bar, "data-state"), Some("answered"), "{binary}: {bar}");
                let thread = attr(bar, "data-thread").unwrap_or_default();
                assert!(
                    thread.len() == 1 && thread.chars().all(|c| c.is_ascii_lowercase()),
                    "{binary}: every answered bar has its thread's letter: {bar}"
                );
            }
            let expected = match stage.lesson(Scenario::Slow, cores) {
                Lesson::Wait => "waited",
                Lesson::NoWait => "did-not-wait",
                other => panic!("slow teaches waiting or not, not {other:?}"),
            };
            let verdict = tags(lane, "<div class=\"verdict\"")
                .next()
                .unwrap_or_else(|| panic!("{binary}: no verdict:\n{lane}"));
            assert_eq!(
                attr(verdict, "data-outcome"),
                Some(expected),
                "{binary}: {verdict}"
            );
            assert_eq!(
                attr(verdict, "data-as-expected"),
                Some("true"),
                "{binary}: {verdict}"
            );
        }
    }
}
