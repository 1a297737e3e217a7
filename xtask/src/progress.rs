//! A progress line on stderr while the demo builds and runs: which scenario, which stage,
//! how long so far. On a terminal that takes escape codes it redraws one line; elsewhere (a CI
//! log, a pipe, `TERM=dumb`, an old Windows console) it prints one plain line per step and
//! nothing else.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::style::{self, Color, Style};

const TICK: Duration = Duration::from_millis(100);
const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
/// The line never wraps in 80 columns.
const MAX_COLUMNS: usize = 79;

pub struct ProgressLine {
    detail: Arc<Mutex<String>>,
    done: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl ProgressLine {
    /// Shows `message` until [`ProgressLine::finish`] (or drop).
    pub fn start(message: impl Into<String>) -> ProgressLine {
        let message = message.into();
        let detail = Arc::new(Mutex::new(String::new()));
        let done = Arc::new(AtomicBool::new(false));
        if !style::stderr_takes_escapes() {
            eprintln!("{message} ...");
            return ProgressLine {
                detail,
                done,
                ticker: None,
            };
        }
        let style = Style::for_stderr();
        let ticker = {
            let (detail, done) = (Arc::clone(&detail), Arc::clone(&done));
            thread::spawn(move || {
                let started = Instant::now();
                let mut tick = 0usize;
                while !done.load(Ordering::Relaxed) {
                    let detail = detail.lock().map(|d| d.clone()).unwrap_or_default();
                    let spinner = SPINNER[tick % SPINNER.len()];
                    let elapsed = started.elapsed().as_secs_f64();
                    let line = format!("{spinner} {elapsed:4.1} s  {message}  {detail}");
                    let line: String = line.chars().take(MAX_COLUMNS).collect();
                    let mut stderr = std::io::stderr().lock();
                    let _ = write!(stderr, "\r\x1b[2K{}", style.paint(Color::Dim, &line));
                    let _ = stderr.flush();
                    drop(stderr);
                    tick += 1;
                    thread::sleep(TICK);
                }
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r\x1b[2K");
                let _ = stderr.flush();
            })
        };
        ProgressLine {
            detail,
            done,
            ticker: Some(ticker),
        }
    }

    /// Shows `detail` after the message (on a terminal only).
    pub fn set_detail(&self, detail: impl Into<String>) {
        if let Ok(mut current) = self.detail.lock() {
            *current = detail.into();
        }
    }

    /// The detail, to be set from another thread.
    pub fn detail_handle(&self) -> Arc<Mutex<String>> {
        Arc::clone(&self.detail)
    }

    /// Clears the line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop();
    }
}
