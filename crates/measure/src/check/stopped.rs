//! How a server stopped serving, as far as the check can see: its process exited, a thread
//! panicked, or a `GET` got no answer while the process runs on.

use std::process::ExitStatus;

use super::NoResponse;

/// How a server stopped serving, as far as the check can see. Only a process the check
/// started ([`check_process`](super::check_process)) can be seen to exit or panic; at an
/// address alone ([`check`](super::check())), all it can see is that a `GET` got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The process exited: a crash (or an exit on purpose, which the contract forbids too).
    Exited {
        status: ExitStatus,
        /// Its last lines on stderr, oldest first (at most three).
        last_words: Vec<String>,
        /// The `GET` that found it gone, when that is how it was found (not at the end).
        unanswered: Option<Unanswered>,
    },
    /// A thread panicked (a `panicked` line on its stderr), while the process runs on.
    Panicked {
        line: String,
        /// The `GET` that failed, when one did.
        unanswered: Option<Unanswered>,
    },
    /// A `GET` got no answer, and the process, where the check can watch it, neither exited
    /// nor panicked: its handlers do not run to their end, it has not crashed.
    NotAnswering {
        unanswered: Unanswered,
        process: Process,
    },
}

/// What the check knows of the process of a server that does not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// The check started it and watched it: still running, no panic in its log.
    StillRunning,
    /// The check was given an address only: whether the process crashed cannot be seen.
    NotWatched,
}

/// A `GET` of the fast route that got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unanswered {
    /// The contract point probed just before, which it followed; `None` when it was the
    /// check's first request (so the server never answered at all).
    pub after: Option<String>,
    pub path: String,
    pub failure: NoResponse,
}

impl Stopped {
    /// Whether it is a crash: the process exited or a thread panicked.
    pub fn is_crash(&self) -> bool {
        matches!(self, Stopped::Exited { .. } | Stopped::Panicked { .. })
    }

    /// The `GET` that got no answer, if one did.
    pub fn unanswered(&self) -> Option<&Unanswered> {
        match self {
            Stopped::Exited { unanswered, .. } | Stopped::Panicked { unanswered, .. } => {
                unanswered.as_ref()
            }
            Stopped::NotAnswering { unanswered, .. } => Some(unanswered),
        }
    }
}

impl std::fmt::Display for Stopped {
    /// What happened, without a verdict ("crashed", "stopped answering"): the tools choose
    /// those words by the kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Exited {
                status,
                last_words,
                unanswered,
            } => {
                write!(f, "the process exited ({status})")?;
                match unanswered {
                    Some(Unanswered {
                        after: Some(after), ..
                    }) => write!(f, " after \"{after}\"")?,
                    Some(Unanswered {
                        after: None, path, ..
                    }) => write!(f, " without answering GET {path}")?,
                    None => {}
                }
                if !last_words.is_empty() {
                    write!(f, "; its last words: {}", last_words.join(" / "))?;
                }
                Ok(())
            }
            Stopped::Panicked { line, unanswered } => {
                write!(f, "a thread panicked: {line}")?;
                match unanswered {
                    Some(unanswered) => write!(f, "; {unanswered}"),
                    None => Ok(()),
                }
            }
            // Where the process is watched, it is known not to have crashed: the failure's
            // guess ("did it crash?") would contradict that. Where it is not, the guess is
            // the best the check can offer.
            Stopped::NotAnswering {
                unanswered,
                process: Process::StillRunning,
            } => write!(f, "{unanswered}"),
            Stopped::NotAnswering {
                unanswered,
                process: Process::NotWatched,
            } => unanswered.describe(f, &unanswered.failure.to_string()),
        }
    }
}

impl Unanswered {
    fn describe(&self, f: &mut std::fmt::Formatter<'_>, failure: &str) -> std::fmt::Result {
        match &self.after {
            Some(after) => write!(f, "after \"{after}\", GET {} failed: {failure}", self.path),
            None => write!(f, "GET {} got no answer: {failure}", self.path),
        }
    }
}

impl std::fmt::Display for Unanswered {
    /// "after "garbage gets 400", GET / failed: …", or "GET / got no answer: …" for the first
    /// request; the failure without a guess at the cause (see [`NoResponse::words`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.describe(f, &self.failure.words())
    }
}

/// A process's last words: its panic and the panic's message, where it panicked (a backtrace,
/// with `RUST_BACKTRACE=1`, comes after them and says less); else its last three lines.
pub(super) fn last_words(log: &str) -> Vec<String> {
    if let Some(panic) = panic_message(log) {
        return vec![panic];
    }
    let mut last: Vec<String> = log.lines().rev().take(3).map(String::from).collect();
    last.reverse();
    last
}

/// The first panic in a log, with its message: Rust prints `thread 'x' panicked at
/// src/main.rs:5:9:` and the message on the next line (before 1.73, on the same line).
pub(super) fn panic_message(log: &str) -> Option<String> {
    let mut lines = log.lines();
    let line = lines.find(|line| line.contains("panicked"))?;
    match lines.next() {
        Some(message) if line.trim_end().ends_with(':') && !message.starts_with("note:") => {
            Some(format!("{} {}", line.trim_end(), message.trim()))
        }
        _ => Some(line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `RUST_BACKTRACE=1`, the frames come last: the last words are still the panic.
    #[test]
    fn last_words_are_the_panic_and_its_message() {
        let log = "GET / -> 200 in 0 ms on main #1\n\
                   thread 'worker #2' panicked at src/main.rs:40:9:\n\
                   empty request\n\
                   stack backtrace:\n   0: rust_begin_unwind\n   1: core::panicking\n";
        assert_eq!(
            last_words(log),
            ["thread 'worker #2' panicked at src/main.rs:40:9: empty request"]
        );
        let old_style = "thread 'main' panicked at 'boom', src/main.rs:3:5\nnote: run with\n";
        assert_eq!(
            panic_message(old_style).as_deref(),
            Some("thread 'main' panicked at 'boom', src/main.rs:3:5")
        );
        assert_eq!(last_words("a\nb\nc\nd\n"), ["b", "c", "d"]);
    }
}
