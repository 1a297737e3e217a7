//! Which thread served each request, as a mark the timeline and the page can show. The
//! threads of one binary's run get the letters a, b, c… in the order they first answered, so
//! "concurrent on one thread" (stage 4: every bar marked `a`) and "parallel" (stage 5: `a`
//! and `b`) are seen, not only inferred from the times.

use measure::scenario::{Run, Sent};
use measure::summary::threads_that_served;

/// The threads of one run, each with its letter.
pub struct ThreadMarks {
    threads: Vec<String>,
}

/// The mark of a thread past the 26th (no stage of the demo gets near it).
const MANY: char = '+';

impl ThreadMarks {
    pub fn of(run: &Run) -> ThreadMarks {
        ThreadMarks {
            threads: threads_that_served(run.requests.iter()),
        }
    }

    /// The letter of the thread that served `sent`, or `None` when no response named one
    /// (a failed request, an idle client).
    pub fn mark(&self, sent: &Sent) -> Option<char> {
        let thread = sent.exchange.served_by()?;
        let index = self.threads.iter().position(|seen| seen == thread)?;
        Some(letter(index))
    }

    /// What each letter stands for: `a main #1 · b worker #3`.
    pub fn key(&self) -> String {
        self.threads
            .iter()
            .enumerate()
            .map(|(index, thread)| format!("{} {thread}", letter(index)))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }
}

pub fn letter(index: usize) -> char {
    u8::try_from(index)
        .ok()
        .filter(|&index| index < 26)
        .map_or(MANY, |index| char::from(b'a' + index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    use measure::client::{Exchange, Response, Timing};
    use measure::scenario::Role;

    fn sent(thread: Option<&str>, done_ms: u64, start: Instant) -> Sent {
        let response = match thread {
            Some(thread) => Ok(Response {
                reset_after: false,
                status: 200,
                headers: vec![("X-Served-By".to_string(), thread.to_string())],
                body: Vec::new(),
            }),
            None => Err(std::io::Error::other("reset")),
        };
        Sent {
            role: Role::Fast,
            path: "/",
            exchange: Exchange {
                scheduled: start,
                timing: Timing {
                    done: Duration::from_millis(done_ms),
                    ..Timing::default()
                },
                response,
            },
        }
    }

    #[test]
    fn threads_get_letters_in_the_order_they_first_answered() {
        let start = Instant::now();
        let run = Run {
            start,
            requests: vec![
                sent(Some("worker #3"), 2000, start),
                sent(Some("worker #4"), 1, start),
                sent(None, 5, start),
                sent(Some("worker #4"), 2, start),
            ],
            beside_batch: Default::default(),
        };
        let marks = ThreadMarks::of(&run);
        let letters: Vec<Option<char>> = run.requests.iter().map(|s| marks.mark(s)).collect();
        assert_eq!(letters, [Some('b'), Some('a'), None, Some('a')]);
        assert_eq!(marks.key(), "a worker #4 · b worker #3");
        assert_eq!((letter(25), letter(26)), ('z', MANY));
    }
}
