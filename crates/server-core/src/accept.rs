//! What an accept loop does when `accept` fails: skip, or pause, and say so once a second.
//!
//! A failed `accept` is one of two very different things:
//!
//! - **One connection's trouble** (`ECONNABORTED`: the client reset before we took it; an
//!   interrupted call; a network error Linux hands to the next `accept`): that client is gone,
//!   the next `accept` is fine. Skip it at once.
//! - **The process or the system ran out of something** (`EMFILE`: this process has as many
//!   files open as its limit allows; `ENFILE`: the whole system has; `ENOBUFS`, `ENOMEM`). The
//!   connection is *not* lost: Linux keeps it in the listen queue, so the very next `accept`
//!   fails the same way, at once, forever. A loop that only logs and goes on spins a core and
//!   writes megabytes of the same line a second, until something else closes a file. Pause
//!   instead: 10 ms, doubling up to 1 s, and back to full speed after the first success.
//!   (hyper sleeps 1 s after such an error; async-std's book has a page on this accept loop.)
//!
//! Either way the log gets at most one line a second, with a count:
//! `(accept failed 312 times in the last 1.0 s: Too many open files (os error 24); pausing
//! accepts for 1000 ms)`.
//!
//! [`AcceptErrors`] decides and counts. Its core, [`AcceptErrors::failed`] and
//! [`AcceptErrors::accepted`], does no I/O and takes the time as an argument, so it is tested
//! without sleeping; [`AcceptErrors::check`] writes the log line to stderr. [`crate::incoming`] applies it to a listener's accepts and
//! takes the pauses (blocking with `thread::sleep`, async on the runtime's timer).

use std::io;
use std::time::{Duration, Instant};

/// The first pause after an error that means "out of something".
pub const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: the server answers again at most this long after a descriptor frees up.
pub const MAX_PAUSE: Duration = Duration::from_secs(1);
/// At most one log line per this much time.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// What kind of failure an `accept` error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// One connection's trouble: skip it, accept the next at once.
    Connection,
    /// Out of file descriptors or memory: pause, the connection stays queued.
    Resources,
    /// Anything else: we cannot tell it goes away by itself, so pause as for resources
    /// rather than risk a hot loop.
    Other,
}

impl Failure {
    /// Sorts an error from `accept`.
    pub fn of(err: &io::Error) -> Failure {
        use io::ErrorKind::*;
        match err.kind() {
            ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
            | TimedOut | NetworkDown | NetworkUnreachable | HostUnreachable => {
                return Failure::Connection;
            }
            OutOfMemory => return Failure::Resources,
            _ => {}
        }
        match err.raw_os_error() {
            Some(code) if codes::RESOURCES.contains(&code) => Failure::Resources,
            Some(code) if codes::CONNECTION.contains(&code) => Failure::Connection,
            _ => Failure::Other,
        }
    }
}

/// The raw error numbers std has no `ErrorKind` for.
#[cfg(unix)]
mod codes {
    use nix::errno::Errno;

    /// Out of descriptors (the process's, the system's), buffers or memory.
    pub const RESOURCES: [i32; 4] = [
        Errno::EMFILE as i32,
        Errno::ENFILE as i32,
        Errno::ENOBUFS as i32,
        Errno::ENOMEM as i32,
    ];
    /// Errors of a connection that Linux passes on to the `accept` that takes it
    /// (`man 2 accept`: "should be treated like EAGAIN by retrying").
    pub const CONNECTION: [i32; 4] = [
        Errno::EPROTO as i32,
        Errno::ENOPROTOOPT as i32,
        Errno::EHOSTDOWN as i32,
        Errno::EOPNOTSUPP as i32,
    ];
}

/// Winsock's numbers (`WSAEMFILE`, `WSAENOBUFS`), written out to need no bindings crate.
#[cfg(not(unix))]
mod codes {
    pub const RESOURCES: [i32; 2] = [10024, 10055];
    pub const CONNECTION: [i32; 0] = [];
}

/// What to do after one failed `accept`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// How long to stop accepting; zero means skip and accept again at once.
    pub pause: Duration,
    /// A line for the log, at most one per [`REPORT_EVERY`].
    pub log: Option<String>,
}

/// The state of one accept loop's errors: the current back-off and what is not yet logged.
#[derive(Debug, Default)]
pub struct AcceptErrors {
    /// The last pause, while accepts keep failing; `None` at full speed.
    backoff: Option<Duration>,
    /// When the last line was logged.
    last_report: Option<Instant>,
    /// Failures since that line, the first of them, and the latest error's text.
    unreported: u64,
    unreported_since: Option<Instant>,
    latest: String,
}

impl AcceptErrors {
    pub fn new() -> AcceptErrors {
        AcceptErrors::default()
    }

    // ANCHOR: failed
    /// An `accept` failed at `now`: how long to pause, and maybe a log line.
    pub fn failed(&mut self, err: &io::Error, now: Instant) -> Verdict {
        let failure = Failure::of(err);
        let pause = match failure {
            Failure::Connection => Duration::ZERO,
            Failure::Resources | Failure::Other => match self.backoff {
                None => FIRST_PAUSE,
                Some(last) => (last * 2).min(MAX_PAUSE),
            },
        };
        if !pause.is_zero() {
            self.backoff = Some(pause);
        }
        self.unreported += 1;
        self.unreported_since.get_or_insert(now);
        self.latest = err.to_string();
        let action = match failure {
            Failure::Connection => "skipped; accepting the next one".to_string(),
            Failure::Resources | Failure::Other => {
                format!("pausing accepts for {} ms", pause.as_millis())
            }
        };
        let log = self.report_if_due(now, &action);
        Verdict { pause, log }
    }
    // ANCHOR_END: failed

    /// An `accept` succeeded at `now`: back to full speed. The failures not yet logged are,
    /// if a line is due, with a note that accepting works again.
    pub fn accepted(&mut self, now: Instant) -> Option<String> {
        self.backoff = None;
        if self.unreported == 0 {
            return None;
        }
        self.report_if_due(now, "accepting again")
    }

    /// One `accept`'s result, judged now: `Ok` passes the stream through; `Err` is the pause
    /// to take before the next accept (zero: none). Logs to stderr.
    pub fn check<S>(&mut self, accepted: io::Result<S>) -> Result<S, Duration> {
        let now = Instant::now();
        match accepted {
            Ok(stream) => {
                if let Some(line) = self.accepted(now) {
                    eprintln!("{line}");
                }
                Ok(stream)
            }
            Err(err) => {
                let verdict = self.failed(&err, now);
                if let Some(line) = verdict.log {
                    eprintln!("{line}");
                }
                Err(verdict.pause)
            }
        }
    }

    fn report_if_due(&mut self, now: Instant, action: &str) -> Option<String> {
        let due = self
            .last_report
            .is_none_or(|last| now.saturating_duration_since(last) >= REPORT_EVERY);
        if !due {
            return None;
        }
        let since = self.unreported_since.unwrap_or(now);
        let line = match self.unreported {
            1 => format!("(accept failed: {}; {action})", self.latest),
            count => format!(
                "(accept failed {count} times in the last {:.1} s: {}; {action})",
                now.saturating_duration_since(since).as_secs_f64(),
                self.latest
            ),
        };
        self.last_report = Some(now);
        self.unreported = 0;
        self.unreported_since = None;
        Some(line)
    }
}

/// The two kinds of `accept` error, made up for tests here and in [`crate::incoming`].
#[cfg(test)]
pub(crate) mod test_errors {
    use std::io;

    /// Out of file descriptors: pause.
    pub fn emfile() -> io::Error {
        #[cfg(unix)]
        let code = nix::errno::Errno::EMFILE as i32;
        #[cfg(not(unix))]
        let code = 10024;
        io::Error::from_raw_os_error(code)
    }

    /// One client's trouble: skip.
    pub fn aborted() -> io::Error {
        io::Error::from(io::ErrorKind::ConnectionAborted)
    }
}

#[cfg(test)]
mod tests {
    use super::test_errors::{aborted, emfile};
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn errors_are_sorted() {
        assert_eq!(Failure::of(&emfile()), Failure::Resources);
        assert_eq!(Failure::of(&aborted()), Failure::Connection);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(Failure::of(&reset), Failure::Connection);
        let memory = io::Error::from(io::ErrorKind::OutOfMemory);
        assert_eq!(Failure::of(&memory), Failure::Resources);
        assert_eq!(Failure::of(&io::Error::other("?")), Failure::Other);
        #[cfg(unix)]
        for errno in [
            nix::errno::Errno::ENFILE,
            nix::errno::Errno::ENOBUFS,
            nix::errno::Errno::ENOMEM,
        ] {
            let err = io::Error::from_raw_os_error(errno as i32);
            assert_eq!(Failure::of(&err), Failure::Resources, "{err}");
        }
        #[cfg(unix)]
        {
            let err = io::Error::from_raw_os_error(nix::errno::Errno::ECONNABORTED as i32);
            assert_eq!(Failure::of(&err), Failure::Connection, "{err}");
            let err = io::Error::from_raw_os_error(nix::errno::Errno::EPROTO as i32);
            assert_eq!(Failure::of(&err), Failure::Connection, "{err}");
        }
    }

    #[test]
    fn out_of_descriptors_backs_off_doubling_to_a_second() {
        let mut errors = AcceptErrors::new();
        let start = Instant::now();
        let pauses: Vec<u64> = (0..10)
            .map(|_| errors.failed(&emfile(), start).pause.as_millis() as u64)
            .collect();
        assert_eq!(
            pauses,
            [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000],
            "10 ms, doubling, at most 1 s"
        );
    }

    #[test]
    fn a_success_goes_back_to_full_speed() {
        let mut errors = AcceptErrors::new();
        let now = Instant::now();
        errors.failed(&emfile(), now);
        errors.failed(&emfile(), now);
        assert_eq!(errors.failed(&emfile(), now).pause, ms(40));
        errors.accepted(now);
        assert_eq!(errors.failed(&emfile(), now).pause, FIRST_PAUSE);
    }

    #[test]
    fn a_connection_error_is_skipped_at_once() {
        let mut errors = AcceptErrors::new();
        let now = Instant::now();
        let verdict = errors.failed(&aborted(), now);
        assert_eq!(verdict.pause, Duration::ZERO);
        let line = verdict.log.expect("the first error is logged");
        assert!(line.starts_with("(accept failed: "), "{line}");
        assert!(
            line.ends_with("; skipped; accepting the next one)"),
            "{line}"
        );
        // It does not disturb a back-off in progress either.
        errors.failed(&emfile(), now);
        errors.failed(&aborted(), now);
        assert_eq!(errors.failed(&emfile(), now).pause, ms(20));
    }

    #[test]
    fn the_log_gets_one_line_a_second_with_a_count() {
        let mut errors = AcceptErrors::new();
        let start = Instant::now();
        let message = emfile().to_string();
        let first = errors.failed(&emfile(), start).log;
        assert_eq!(
            first,
            Some(format!(
                "(accept failed: {message}; pausing accepts for 10 ms)"
            ))
        );
        // 311 more failures in the next second: no line until a second has passed.
        for step in 1..=311 {
            let at = start + ms(3 * step);
            assert_eq!(errors.failed(&emfile(), at).log, None, "failure {step}");
        }
        let line = errors.failed(&emfile(), start + ms(1000)).log;
        // Counted from the first unlogged failure, 3 ms after the first line.
        let expected = format!(
            "(accept failed 312 times in the last 1.0 s: {message}; pausing accepts for 1000 ms)"
        );
        assert_eq!(line, Some(expected));
        assert_eq!(errors.failed(&emfile(), start + ms(1500)).log, None);
    }

    #[test]
    fn recovery_is_logged_within_the_same_limit() {
        let mut errors = AcceptErrors::new();
        let start = Instant::now();
        assert!(errors.failed(&emfile(), start).log.is_some());
        assert_eq!(errors.failed(&emfile(), start + ms(10)).log, None);
        assert_eq!(errors.failed(&emfile(), start + ms(30)).log, None);
        // A success within the second: nothing yet, the two failures stay counted.
        assert_eq!(errors.accepted(start + ms(70)), None);
        assert_eq!(errors.failed(&emfile(), start + ms(80)).pause, FIRST_PAUSE);
        let line = errors.accepted(start + ms(1500)).expect("a line is due");
        assert!(
            line.starts_with("(accept failed 3 times in the last 1.5 s: "),
            "{line}"
        );
        assert!(line.ends_with("; accepting again)"), "{line}");
        // Nothing left to say: successes stay quiet.
        assert_eq!(errors.accepted(start + ms(3000)), None);
    }

    #[test]
    fn check_passes_streams_through_and_returns_the_pause() {
        let mut errors = AcceptErrors::new();
        assert_eq!(errors.check(Ok::<u8, io::Error>(7)), Ok(7));
        assert_eq!(errors.check::<u8>(Err(emfile())), Err(FIRST_PAUSE));
        assert_eq!(errors.check::<u8>(Err(aborted())), Err(Duration::ZERO));
    }
}
