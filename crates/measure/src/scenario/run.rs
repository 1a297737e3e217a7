//! Sending a plan: a client thread per request, each asleep until its moment, every request
//! timed from that moment; and the events a watcher hears as it happens.

use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use super::{Plan, Role};
use crate::client::{self, Exchange, Request, Timing};
use crate::system::{BatchWatch, BesideBatch};

/// What happened to one planned request.
#[derive(Debug)]
pub struct Sent {
    pub role: Role,
    pub path: &'static str,
    pub exchange: Exchange,
}

impl Sent {
    /// Whether the server closed the connection without sending a byte. For an idle client
    /// that is the expected end (after `--read-timeout-ms`); for a request it is a failure.
    pub fn closed_by_server(&self) -> bool {
        let timing = &self.exchange.timing;
        matches!(&self.exchange.response,
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof)
            && timing.connect.is_some()
            && timing.first_byte.is_none()
    }

    /// Why the request did not end as its role should, or `None` if it did: a `200 OK` for
    /// a request, a close by the server without a response for an idle client.
    pub fn error(&self) -> Option<String> {
        match (&self.exchange.response, self.role) {
            (_, Role::Idle) if self.closed_by_server() => None,
            (Ok(response), Role::Idle) => Some(format!(
                "the idle client got a response (status {}) to no request",
                response.status
            )),
            (Ok(response), _) if response.status == 200 => None,
            (Ok(response), _) => Some(format!("status {}", response.status)),
            (Err(err), Role::Idle)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Some(format!(
                    "the server did not close the idle connection within {}",
                    seconds(self.exchange.timing.done)
                ))
            }
            (Err(err), _) => Some(err.to_string()),
        }
    }

    /// When the request's bar starts, after its scheduled moment: an idle client from its
    /// connection, since it waits for nothing before that; a request from its schedule.
    pub fn start(&self) -> Duration {
        match self.role {
            Role::Idle => self.exchange.timing.connect.unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    /// How long the request took: for a request its latency, from its scheduled moment to
    /// its complete answer; for an idle client how long the server kept it open.
    pub fn duration(&self) -> Duration {
        self.exchange.latency().saturating_sub(self.start())
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// The results of a plan, in the plan's order.
#[derive(Debug)]
pub struct Run {
    /// The start of the first phase: every `exchange.scheduled` is at or after it.
    pub start: Instant,
    pub requests: Vec<Sent>,
    /// What the machine and the server did beside a CPU batch (the cpu scenario).
    pub beside_batch: BesideBatch,
}

impl Run {
    /// When a request was scheduled, counted from the start of the run.
    pub fn offset(&self, sent: &Sent) -> Duration {
        sent.exchange
            .scheduled
            .saturating_duration_since(self.start)
    }
}

/// How long before the first request every client thread is started, so starting threads
/// never delays a request.
const LEAD: Duration = Duration::from_millis(20);

/// What [`run_watched`] reports while a plan runs, from the client threads, as it happens.
#[derive(Debug)]
pub enum RequestEvent<'a> {
    /// Request `index` (its place in [`Plan::requests`]) is being sent now: its client
    /// thread woke at its scheduled moment, `at` after the start of the run.
    Sending { index: usize, at: Duration },
    /// Request `index` ended (answered, failed, or an idle client closed), `at` after the
    /// start of the run was its scheduled moment.
    Ended {
        index: usize,
        at: Duration,
        sent: &'a Sent,
    },
}

/// Sends every request of `plan` to `addr` at its moment and waits for them all.
pub fn run(addr: SocketAddr, plan: &Plan) -> Run {
    run_watched(addr, None, plan, |_| {})
}

/// [`run`], telling `watch` when each request is sent and when it ends, from the client
/// threads (so `watch` must be quick: it is on the request's clock only after its end). Where
/// the server's process is known (`pid`), a CPU batch's phase also reads its CPU time.
pub fn run_watched(
    addr: SocketAddr,
    pid: Option<u32>,
    plan: &Plan,
    watch: impl Fn(RequestEvent<'_>) + Send + Sync + 'static,
) -> Run {
    let watch = std::sync::Arc::new(watch);
    let mut start = None;
    let mut requests = Vec::new();
    let mut index = 0;
    let mut beside_batch = BesideBatch::default();
    for phase in &plan.phases {
        let batch_size = phase.iter().filter(|p| p.role == Role::Batch).count();
        // Where it is needed, the calibration brackets the batch (before its phase is
        // scheduled, and after it).
        let batch_watch = (batch_size > 0)
            .then(|| BatchWatch::calibrated(pid, crate::available_cores().min(batch_size)));
        let phase_start = Instant::now() + LEAD;
        let run_start = *start.get_or_insert(phase_start);
        let handles: Vec<_> = phase
            .iter()
            .map(|planned| {
                let scheduled = phase_start + planned.at;
                // An idle client sends nothing, and reads until the server closes.
                let bytes = match planned.role {
                    Role::Idle => Vec::new(),
                    _ => client::get_request(planned.path),
                };
                let timeout = plan.timeout;
                let (role, path, this) = (planned.role, planned.path, index);
                index += 1;
                let watch = std::sync::Arc::clone(&watch);
                let handle = thread::spawn(move || {
                    sleep_until(scheduled);
                    let at = scheduled.saturating_duration_since(run_start);
                    watch(RequestEvent::Sending { index: this, at });
                    let exchange =
                        client::exchange(addr, &Request::new(&bytes).within(timeout), scheduled);
                    let sent = Sent {
                        role,
                        path,
                        exchange,
                    };
                    watch(RequestEvent::Ended {
                        index: this,
                        at,
                        sent: &sent,
                    });
                    sent
                });
                (planned, scheduled, handle)
            })
            .collect();
        // A batch's CPU time and the machine's idle time are read from the moment it is due.
        let batch_watch = batch_watch.map(|batch_watch| {
            sleep_until(phase_start);
            batch_watch.start()
        });
        for (planned, scheduled, handle) in handles {
            // A client thread only panics on a bug; record that as a failed request.
            let sent = handle.join().unwrap_or_else(|_| Sent {
                role: planned.role,
                path: planned.path,
                exchange: Exchange {
                    scheduled,
                    timing: Timing {
                        done: scheduled.elapsed(),
                        ..Timing::default()
                    },
                    response: Err(io::Error::other("the client thread panicked")),
                },
            });
            requests.push(sent);
        }
        if let Some(batch_watch) = batch_watch {
            beside_batch = batch_watch.finish();
        }
    }
    Run {
        start: start.unwrap_or_else(Instant::now),
        requests,
        beside_batch,
    }
}

fn sleep_until(moment: Instant) {
    let now = Instant::now();
    if moment > now {
        thread::sleep(moment - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpStream;

    use crate::scenario::{Scenario, Settings};

    /// A listener on loopback whose one connection `serve` handles; the thread ends with it.
    fn one_connection(
        serve: impl FnOnce(TcpStream) + Send + 'static,
    ) -> (SocketAddr, thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let handle = thread::spawn(move || {
            if let Ok((stream, _)) = listener.accept() {
                serve(stream);
            }
        });
        (addr, handle)
    }

    /// An idle client against `addr`, as [`run`] sends one.
    fn idle(addr: SocketAddr, timeout: Duration) -> Sent {
        let request = Request::new(b"").within(timeout);
        Sent {
            role: Role::Idle,
            path: "",
            exchange: client::exchange(addr, &request, Instant::now()),
        }
    }

    #[test]
    fn an_idle_client_ends_when_the_server_closes_it() {
        let (addr, server) = one_connection(|stream| {
            thread::sleep(Duration::from_millis(50));
            drop(stream);
        });
        let sent = idle(addr, Duration::from_secs(5));
        server.join().expect("the server thread");
        assert!(sent.closed_by_server(), "{sent:?}");
        assert_eq!(sent.error(), None);
        assert!(sent.exchange.timing.done >= Duration::from_millis(50));
        assert!(sent.duration() <= sent.exchange.latency());
        // The same end for a request that was sent is a failure.
        let fast = Sent {
            role: Role::Fast,
            ..sent
        };
        assert!(fast.error().is_some());
    }

    #[test]
    fn an_idle_client_that_gets_an_answer_or_no_close_fails() {
        let (addr, server) = one_connection(|mut stream| {
            let _ = stream.write_all(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
        });
        let sent = idle(addr, Duration::from_secs(5));
        server.join().expect("the server thread");
        assert!(!sent.closed_by_server());
        let error = sent
            .error()
            .expect("an answer is not what an idle client expects");
        assert!(error.contains("status 408"), "{error}");

        let (addr, server) = one_connection(|stream| {
            thread::sleep(Duration::from_millis(400));
            drop(stream);
        });
        let sent = idle(addr, Duration::from_millis(100));
        server.join().expect("the server thread");
        let error = sent.error().expect("a connection left open fails");
        assert!(error.contains("did not close"), "{error}");
    }

    #[test]
    fn a_watched_run_reports_each_request_sent_then_ended() {
        use std::sync::Mutex;
        // A server that answers every connection at once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        thread::spawn(move || {
            for stream in listener.incoming().take(3).flatten() {
                let mut stream = stream;
                let mut head = [0u8; 1024];
                let _ = std::io::Read::read(&mut stream, &mut head);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nX-Served-By: t #1\r\nContent-Length: 0\r\n\r\n",
                );
            }
        });
        let plan = Scenario::Slow.plan(&Settings {
            delay: Duration::from_millis(200),
            fast: 2,
            workers: 4,
        });
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&seen);
        let run = run_watched(addr, None, &plan, move |progress| {
            let entry = match progress {
                RequestEvent::Sending { index, .. } => (index, "sending", None),
                RequestEvent::Ended { index, sent, .. } => {
                    (index, "ended", Some(sent.exchange.status()))
                }
            };
            log.lock().expect("the test's log").push(entry);
        });
        assert_eq!(run.requests.len(), 3);
        let seen = seen.lock().expect("the test's log").clone();
        assert_eq!(seen.len(), 6, "{seen:?}");
        for index in 0..3 {
            let sending = seen.iter().position(|e| *e == (index, "sending", None));
            let ended = seen.iter().position(|e| *e == (index, "ended", Some(200)));
            assert!(sending.is_some() && sending < ended, "{index}: {seen:?}");
        }
    }
}
