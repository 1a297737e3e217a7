//! What the lab streams to its pages: one [`Event`] per thing that happened, as JSON, in the
//! order it happened. A page draws only from these (and `/catalogue.json`): a bar appears
//! when its request is planned, grows from when it is sent, and takes its thread's letter
//! when it ends; a binary's verdict comes from the demo's own verdict code.

use std::time::Duration;

use measure::catalogue::Binary;
use measure::scenario::{Planned, Role, Scenario, Sent, Settings};
use measure::summary::RunOutcome;
use serde_json::{Value, json};

use crate::demo::threads::ThreadMarks;
use crate::demo::view::RowView;
use crate::pipeline::Measured;
use crate::units::millis;

/// How many of a server's last stderr lines a page shows when it failed or crashed.
pub const STDERR_LINES: usize = 12;

/// Where a request belongs: a binary's lane in a run, or a hands-on server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Run { run: u64, binary: &'static str },
    HandsOn { server: u64, binary: &'static str },
}

impl Lane {
    fn fields(self) -> Value {
        match self {
            Lane::Run { run, binary } => json!({ "run": run, "binary": binary }),
            Lane::HandsOn { server, binary } => json!({ "server": server, "binary": binary }),
        }
    }
}

/// What a student guessed for one binary before a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guess {
    /// "The fast requests will wait."
    Wait,
    /// "They won't."
    NoWait,
}

impl Guess {
    pub fn from_name(name: &str) -> Option<Guess> {
        match name {
            "wait" => Some(Guess::Wait),
            "no-wait" => Some(Guess::NoWait),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Guess::Wait => "wait",
            Guess::NoWait => "no-wait",
        }
    }

    /// Whether the run proved the guess right: `None` when the outcome is neither "waited"
    /// nor "did not wait" (the cpu scenario, a partial wait, a failed run).
    pub fn right(self, outcome: RunOutcome) -> Option<bool> {
        match outcome {
            RunOutcome::Waited => Some(self == Guess::Wait),
            RunOutcome::DidNotWait => Some(self == Guess::NoWait),
            _ => None,
        }
    }
}

/// How a request ended, for its bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Ending {
    /// Counted from the request's scheduled moment: its latency.
    pub took: Duration,
    pub status: u16,
    pub thread: Option<String>,
    /// The thread's letter in its lane, in the order the threads first answered.
    pub letter: Option<char>,
    /// Why the request did not end as its role should; `None` if it did.
    pub error: Option<String>,
    /// An idle client closed by the server, its expected end.
    pub closed: bool,
}

impl Ending {
    pub fn of(sent: &Sent, letter: Option<char>) -> Ending {
        Ending {
            took: sent.exchange.latency(),
            status: sent.exchange.status(),
            thread: sent.exchange.served_by().map(str::to_string),
            letter,
            error: sent.error(),
            closed: sent.closed_by_server(),
        }
    }

    fn kind(&self) -> &'static str {
        match (&self.error, self.closed) {
            (Some(_), _) => "request-failed",
            (None, true) => "request-closed",
            (None, false) => "request-answered",
        }
    }
}

/// The verdict on one binary's run, as the demo judges it.
pub struct BinaryVerdict<'a> {
    pub lane: Lane,
    pub scenario: Scenario,
    pub binary: &'a Binary,
    pub ran: &'a Measured,
    pub cores: usize,
    pub guess: Option<Guess>,
}

pub enum Event<'a> {
    /// A run begins: what it sends to which binaries, with the students' guesses.
    RunStarted {
        run: u64,
        scenario: Scenario,
        settings: Settings,
        binaries: &'a [Binary],
        guesses: &'a [(&'static str, Guess)],
        title: String,
        lesson: String,
    },
    /// A binary that cannot run: it did not build, or did not start (with its last words).
    BinaryFailed {
        lane: Lane,
        phase: &'static str,
        message: String,
        stderr: Vec<String>,
    },
    /// A fresh server listens.
    BinaryStarted { lane: Lane, pid: u32, addr: String },
    /// A request of the plan, before it is sent: its bar appears, empty.
    RequestPlanned {
        lane: Lane,
        index: usize,
        role: Role,
        path: &'static str,
        at: Duration,
    },
    /// The request is being sent, `at` after the start of its lane's run: its bar grows.
    RequestSent {
        lane: Lane,
        index: usize,
        at: Duration,
    },
    /// The request ended: its bar stops, with its thread's letter.
    RequestEnded {
        lane: Lane,
        index: usize,
        at: Duration,
        ending: Ending,
    },
    /// A binary's run is over: the demo's verdict, the final thread letters of every
    /// request, and whether the server died on the way.
    Verdict(BinaryVerdict<'a>),
    /// Every binary of the run is done.
    RunFinished {
        run: u64,
        as_expected: usize,
        of: usize,
    },
    /// A hands-on server ended before the lab stopped it.
    ServerDown {
        lane: Lane,
        reason: String,
        stderr: Vec<String>,
    },
    /// The lab stopped hands-on servers: asked to, or no page was open for a while.
    ServersStopped { count: usize, reason: String },
}

fn ms(duration: Duration) -> f64 {
    millis(duration)
}

/// The last `STDERR_LINES` non-empty lines of a server's stderr.
pub fn last_lines(log: &str) -> Vec<String> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(STDERR_LINES);
    lines[from..].iter().map(|l| l.to_string()).collect()
}

impl Event<'_> {
    /// The event as the JSON a page reads: always a `type`, then its fields.
    pub fn to_json(&self) -> Value {
        let (kind, mut value) = match self {
            Event::RunStarted {
                run,
                scenario,
                settings,
                binaries,
                guesses,
                title,
                lesson,
            } => (
                "run-started",
                json!({
                    "run": run,
                    "scenario": scenario.name(),
                    "slow_ms": ms(settings.delay),
                    "fast": settings.fast,
                    "binaries": binaries.iter().map(|b| json!({
                        "binary": b.name,
                        "stage": b.stage.number(),
                        "runtime": b.runtime.name(),
                        "model": b.stage.model_words(),
                    })).collect::<Vec<_>>(),
                    "guesses": guesses.iter()
                        .map(|(binary, guess)| (binary.to_string(), json!(guess.name())))
                        .collect::<serde_json::Map<_, _>>(),
                    "title": title,
                    "lesson": lesson,
                }),
            ),
            Event::BinaryFailed {
                lane,
                phase,
                message,
                stderr,
            } => (
                "binary-failed",
                with(
                    lane.fields(),
                    json!({ "phase": phase, "message": message, "stderr": stderr }),
                ),
            ),
            Event::BinaryStarted { lane, pid, addr } => (
                "binary-started",
                with(lane.fields(), json!({ "pid": pid, "address": addr })),
            ),
            Event::RequestPlanned {
                lane,
                index,
                role,
                path,
                at,
            } => (
                "request-planned",
                with(
                    lane.fields(),
                    json!({
                        "index": index,
                        "role": role.name(),
                        "path": (*role != Role::Idle).then_some(*path),
                        "at_ms": ms(*at),
                    }),
                ),
            ),
            Event::RequestSent { lane, index, at } => (
                "request-sent",
                with(lane.fields(), json!({ "index": index, "at_ms": ms(*at) })),
            ),
            Event::RequestEnded {
                lane,
                index,
                at,
                ending,
            } => (
                ending.kind(),
                with(
                    lane.fields(),
                    json!({
                        "index": index,
                        "at_ms": ms(*at),
                        "ms": ms(ending.took),
                        "status": ending.status,
                        "thread": ending.thread,
                        "letter": ending.letter.map(String::from),
                        "error": ending.error,
                    }),
                ),
            ),
            Event::Verdict(verdict) => ("verdict", verdict.to_json()),
            Event::RunFinished {
                run,
                as_expected,
                of,
            } => (
                "run-finished",
                json!({ "run": run, "as_expected": as_expected, "of": of }),
            ),
            Event::ServerDown {
                lane,
                reason,
                stderr,
            } => (
                "server-down",
                with(lane.fields(), json!({ "reason": reason, "stderr": stderr })),
            ),
            Event::ServersStopped { count, reason } => (
                "servers-stopped",
                json!({ "count": count, "reason": reason }),
            ),
        };
        if let Some(object) = value.as_object_mut() {
            object.insert("type".to_string(), json!(kind));
        }
        value
    }
}

impl BinaryVerdict<'_> {
    fn to_json(&self) -> Value {
        let BinaryVerdict {
            lane,
            scenario,
            binary,
            ran,
            cores,
            guess,
        } = self;
        let summary = &ran.summary;
        let marks = ThreadMarks::of(&ran.run);
        let letters: Vec<Option<String>> = ran
            .run
            .requests
            .iter()
            .map(|sent| marks.mark(sent).map(String::from))
            .collect();
        with(
            lane.fields(),
            json!({
                "stage": binary.stage.number(),
                "outcome": summary.outcome.name(),
                "lesson": summary.lesson.name(),
                "as_expected": summary.as_expected(),
                "words": RowView::of(summary, *scenario, binary.stage, *cores).verdict,
                "fast_p50_ms": summary.fast.map(|fast| ms(fast.p50)),
                "slow_ms": summary.slow.map(ms),
                "fast_threads": summary.fast_threads,
                "letters": letters,
                "threads_key": marks.key(),
                "exited_early": ran.exited_early,
                "stderr": ran.exited_early.as_ref().map(|_| last_lines(&ran.log)),
                "guess": guess.map(Guess::name),
                "guess_right": guess.and_then(|guess| guess.right(summary.outcome)),
            }),
        )
    }
}

fn with(mut into: Value, from: Value) -> Value {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
    into
}

/// The bars of a binary's lane, before its run: one per planned request.
pub fn planned<'a>(lane: Lane, requests: impl Iterator<Item = &'a Planned>) -> Vec<Event<'a>> {
    requests
        .enumerate()
        .map(|(index, planned)| Event::RequestPlanned {
            lane,
            index,
            role: planned.role,
            path: planned.path,
            at: planned.at,
        })
        .collect()
}

/// The letter of each thread of a lane, in the order the threads first answered while the
/// run streams (the verdict then sends the demo's final letters, which agree but for two
/// answers at the same moment).
#[derive(Default)]
pub struct LiveMarks {
    threads: Vec<String>,
}

impl LiveMarks {
    pub fn letter(&mut self, sent: &Sent) -> Option<char> {
        let thread = sent.exchange.served_by()?;
        let index = match self.threads.iter().position(|seen| seen == thread) {
            Some(index) => index,
            None => {
                self.threads.push(thread.to_string());
                self.threads.len() - 1
            }
        };
        Some(crate::demo::threads::letter(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    use measure::catalogue::Stage;
    use measure::client::{Exchange, Response, Timing};
    use measure::scenario::Run;
    use measure::summary::summarize;

    fn sent(role: Role, path: &'static str, thread: &str, done_ms: u64, start: Instant) -> Sent {
        Sent {
            role,
            path,
            exchange: Exchange {
                scheduled: start,
                timing: Timing {
                    done: Duration::from_millis(done_ms),
                    ..Timing::default()
                },
                response: Ok(Response {
                    reset_after: false,
                    status: 200,
                    headers: vec![("X-Served-By".to_string(), thread.to_string())],
                    body: Vec::new(),
                }),
            },
        }
    }

    #[test]
    fn a_verdict_is_the_demos_with_the_guess_checked() {
        let start = Instant::now();
        let settings = Settings {
            delay: Duration::from_millis(1000),
            fast: 2,
            workers: 4,
        };
        let run = Run {
            start,
            requests: vec![
                sent(Role::Slow, "/sleep", "main #1", 1000, start),
                sent(Role::Fast, "/", "main #1", 950, start),
                sent(Role::Fast, "/", "main #1", 940, start),
            ],
            beside_batch: Default::default(),
        };
        let binary = *Stage::One.default_binary();
        let summary = summarize(Scenario::Slow, &settings, binary.stage, &run, 2);
        let ran = Measured {
            pid: 42,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            run,
            summary,
            log: "GET /sleep -> 200\nbye\n".to_string(),
            exited_early: Some("exit status: 1".to_string()),
        };
        let lane = Lane::Run {
            run: 3,
            binary: binary.name,
        };
        let verdict = |guess| {
            Event::Verdict(BinaryVerdict {
                lane,
                scenario: Scenario::Slow,
                binary: &binary,
                ran: &ran,
                cores: 2,
                guess,
            })
            .to_json()
        };
        let value = verdict(Some(Guess::NoWait));
        assert_eq!(value["type"], "verdict");
        assert_eq!(
            (&value["run"], &value["binary"]),
            (&json!(3), &json!("stage-1"))
        );
        assert_eq!(value["outcome"], "waited");
        assert_eq!(value["lesson"], "wait");
        assert_eq!(value["as_expected"], true);
        assert_eq!(value["letters"], json!(["a", "a", "a"]));
        assert_eq!(value["fast_threads"], json!(["main #1"]));
        assert_eq!(value["threads_key"], "a main #1");
        assert_eq!(value["stderr"], json!(["GET /sleep -> 200", "bye"]));
        assert_eq!(
            (&value["guess"], &value["guess_right"]),
            (&json!("no-wait"), &json!(false))
        );
        assert!(
            value["words"]
                .as_str()
                .is_some_and(|w| w.contains("waited"))
        );
        let value = verdict(None);
        assert_eq!(
            (&value["guess"], &value["guess_right"]),
            (&Value::Null, &Value::Null)
        );
    }

    #[test]
    fn live_letters_follow_the_order_of_the_answers_and_endings_name_their_kind() {
        let start = Instant::now();
        let mut marks = LiveMarks::default();
        let first = sent(Role::Fast, "/", "worker #2", 1, start);
        let second = sent(Role::Fast, "/", "worker #1", 2, start);
        assert_eq!(marks.letter(&first), Some('a'));
        assert_eq!(marks.letter(&second), Some('b'));
        assert_eq!(marks.letter(&first), Some('a'));
        let ending = Ending::of(&second, Some('b'));
        assert_eq!(ending.kind(), "request-answered");
        assert_eq!(ending.thread.as_deref(), Some("worker #1"));
        let failed = Ending {
            error: Some("status 500".into()),
            ..ending
        };
        assert_eq!(failed.kind(), "request-failed");
        assert_eq!(Guess::Wait.right(RunOutcome::Waited), Some(true));
        assert_eq!(Guess::Wait.right(RunOutcome::Partly), None);
    }
}
