//! The concurrency model, measured by the ramp: slow requests sent one by one, a fast one
//! after each, until a fast one waits for a slow one to finish (the server is full) or a
//! bound is reached (it is concurrent).

use std::net::SocketAddr;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{LONGEST_SLOW, NoResponse, Options, PROBE_TIMEOUT, probe, request};
use crate::client::{self, Exchange};
use crate::verdicts;

/// How the server treats a fast request while slow ones are pending, with what showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// A fast request waited `waited` behind one slow request, which takes `slow` (stages 1
    /// and 3).
    OneAtATime { waited: Duration, slow: Duration },
    /// `size` slow requests are served at once: with one fewer pending, a fast request was
    /// answered in `answered_at_once`; with `size`, it waited `waited`, until a slow one
    /// finished (stage 2's pool, or stages 4 and 5 with `--max-connections`).
    Pool {
        size: usize,
        answered_at_once: Duration,
        waited: Duration,
    },
    /// With `pending` slow requests pending, fast ones were still answered at once, the
    /// slowest in `slowest` (stages 4 and 5; or a pool larger than `pending`, which looks the
    /// same from outside).
    Concurrent { pending: usize, slowest: Duration },
    /// Nothing could be concluded, and why.
    Unknown(Unknown),
}

impl Model {
    /// How many requests the server was found to serve at once, if a limit was found: 1 for
    /// one at a time, the pool's size for a pool.
    pub fn limit(&self) -> Option<usize> {
        match self {
            Model::OneAtATime { .. } => Some(1),
            Model::Pool { size, .. } => Some(*size),
            Model::Concurrent { .. } | Model::Unknown(_) => None,
        }
    }
}

/// Why a model could not be measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// The fast route alone was not answered: nothing else can be measured.
    FastNotAnswered { path: String },
    /// The slow route alone failed.
    SlowFailed { path: String, failure: NoResponse },
    /// The slow route answered a status other than 200: it is not a slow route.
    SlowNotFound { path: String, status: u16 },
    /// The slow route answered too fast to tell waiting from a busy machine's noise.
    SlowTooShort {
        path: String,
        took: Duration,
        shortest: Duration,
    },
    /// A slow request of the ramp, with `pending` slow requests sent in all, was closed or
    /// reset without an answer (alone, the route had answered).
    RampSlowFailed {
        path: String,
        pending: usize,
        failure: NoResponse,
    },
    /// The `count`-th slow request of the ramp could not be sent.
    SlowNotSent { count: usize, failure: NoResponse },
    /// With `pending` slow requests pending, the fast route failed.
    FastFailed {
        path: String,
        pending: usize,
        failure: NoResponse,
    },
    /// A slow request of the ramp was answered in `took`, far less than `slow`: the route
    /// does not wait as long as announced.
    SlowAnsweredEarly {
        path: String,
        took: Duration,
        slow: Duration,
    },
    /// The slow requests kept finishing before the ramp reached `max_pending` of them.
    RampTooShort {
        path: String,
        max_pending: usize,
        slow: Duration,
    },
}
/// The shortest: below it, waiting cannot be told from a busy machine's noise.
pub const SHORTEST_SLOW: Duration = Duration::from_millis(200);

/// Measures the slow route alone: the delay the ramp's judgements are made against.
pub(super) fn measure_slow(addr: SocketAddr, slow_path: &str) -> Result<Duration, Unknown> {
    let path = slow_path.to_string();
    let exchange = request(addr, slow_path, LONGEST_SLOW);
    let status = match &exchange.response {
        Ok(response) => response.status,
        Err(err) => {
            let failure = NoResponse::of(err);
            return Err(Unknown::SlowFailed { path, failure });
        }
    };
    let took = exchange.latency();
    if status != 200 {
        return Err(Unknown::SlowNotFound { path, status });
    }
    if took < SHORTEST_SLOW {
        let shortest = SHORTEST_SLOW;
        return Err(Unknown::SlowTooShort {
            path,
            took,
            shortest,
        });
    }
    Ok(took)
}

/// A slow request in flight: sent from this thread, its answer read on another.
struct Pending {
    reader: JoinHandle<Exchange>,
}

impl Pending {
    fn send(addr: SocketAddr, slow_path: &str, timeout: Duration) -> Result<Pending, NoResponse> {
        let bytes = client::get_request(slow_path);
        let in_flight = client::start(addr, &probe(&bytes, timeout), Instant::now());
        match in_flight {
            Ok(in_flight) => Ok(Pending {
                reader: thread::spawn(move || in_flight.finish()),
            }),
            Err(failed) => Err(failed
                .response
                .err()
                .map_or(NoResponse::Closed, |err| NoResponse::of(&err))),
        }
    }
}

/// When the first of these slow requests got its answer.
fn first_answer(pending: Vec<Pending>) -> Option<Instant> {
    pending
        .into_iter()
        .filter_map(|pending| pending.reader.join().ok())
        .filter_map(|exchange| Some(exchange.scheduled + exchange.timing.first_byte?))
        .min()
}

/// The ramp: raise the number of pending slow requests one at a time, sending a fast request
/// after each, until a fast one waits (the server is full) or `max_pending` is reached.
pub(super) fn ramp(addr: SocketAddr, options: &Options, slow: Duration) -> Model {
    let timeout = slow * 2 + PROBE_TIMEOUT;
    // After each slow request, a moment for the server to take it in hand.
    let settle = Duration::from_millis(15).min(slow / 20);
    let mut fastest_at_each: Vec<Duration> = Vec::new();
    let mut start_with = 1;
    // A round ends early when a slow request finishes while the ramp is still climbing (the
    // delay is short for this server, or the machine is busy); a new round then starts with
    // as many slow requests at once as the last one reached. At most three rounds.
    for _round in 0..3 {
        let mut pending = Vec::new();
        for count in 1..=options.max_pending {
            match Pending::send(addr, &options.slow_path, timeout) {
                Ok(slow_request) => pending.push(slow_request),
                Err(failure) => return Model::Unknown(Unknown::SlowNotSent { count, failure }),
            }
            if count < start_with {
                continue; // Catching up to where the last round ended.
            }
            thread::sleep(settle);
            if pending.iter().any(|slow| slow.reader.is_finished()) {
                // Fewer than `count` are pending now. Too early to be the slow route at all?
                let finished: Vec<_> = pending
                    .into_iter()
                    .filter_map(|p| p.reader.join().ok())
                    .collect();
                // A slow request that got no answer at all (closed, reset) did not answer
                // early: it failed, and says nothing about the route's delay.
                if let Some(err) = finished.iter().find_map(|e| e.response.as_ref().err()) {
                    let path = options.slow_path.clone();
                    let failure = NoResponse::of(err);
                    let pending = count;
                    return Model::Unknown(Unknown::RampSlowFailed {
                        path,
                        pending,
                        failure,
                    });
                }
                let early = finished.iter().map(Exchange::latency).min();
                if let Some(took) = early.filter(|&took| verdicts::answered_too_early(took, slow)) {
                    let path = options.slow_path.clone();
                    return Model::Unknown(Unknown::SlowAnsweredEarly { path, took, slow });
                }
                start_with = count;
                break; // Start a new round, with `count` at once.
            }
            let fast = request(addr, &options.fast_path, timeout);
            if let Err(err) = &fast.response {
                return Model::Unknown(Unknown::FastFailed {
                    path: options.fast_path.clone(),
                    pending: count,
                    failure: NoResponse::of(err),
                });
            }
            let latency = fast.latency();
            if answered_at_once(latency, slow) {
                fastest_at_each.push(latency);
                if count == options.max_pending {
                    return concurrent(count, &fastest_at_each);
                }
                continue;
            }
            // Slow to answer: did it wait for a slow request to finish, or was the machine
            // just busy? It waited if its answer came with or after the first slow one's
            // (two client threads woken at the same moment can run in either order).
            let answered = fast.scheduled + fast.timing.first_byte.unwrap_or(fast.timing.done);
            let freed = first_answer(pending);
            if freed.is_some_and(|freed| answered + verdicts::same_moment(slow) >= freed) {
                return full_at(count, latency, slow, &fastest_at_each);
            }
            // The machine was busy: go on from here in a new round.
            start_with = count + 1;
            break;
        }
        if start_with > options.max_pending {
            return concurrent(options.max_pending, &fastest_at_each);
        }
    }
    Model::Unknown(Unknown::RampTooShort {
        path: options.slow_path.clone(),
        max_pending: options.max_pending,
        slow,
    })
}

/// The ramp's judgement of one fast request beside pending slow ones that take `slow`: it was
/// answered at once, or it is checked against when the slow ones were answered. The same
/// threshold the demo judges "did not wait" by.
pub fn answered_at_once(latency: Duration, slow: Duration) -> bool {
    verdicts::waiting(latency, slow) == verdicts::Waiting::DidNotWait
}

fn concurrent(pending: usize, fastest_at_each: &[Duration]) -> Model {
    let slowest = fastest_at_each.iter().max().copied().unwrap_or_default();
    Model::Concurrent { pending, slowest }
}

fn full_at(count: usize, waited: Duration, slow: Duration, fastest_at_each: &[Duration]) -> Model {
    if count == 1 {
        return Model::OneAtATime { waited, slow };
    }
    Model::Pool {
        size: count,
        answered_at_once: fastest_at_each.last().copied().unwrap_or_default(),
        waited,
    }
}
