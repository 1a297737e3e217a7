//! Throughput: closed-loop load (connections back to back, on an event loop per thread) and
//! open-loop load (requests on a fixed schedule, on blocking threads).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::{Counts, LoadError, REQUEST_TIMEOUT, one_request, one_request_async};
use crate::client;

/// One run of closed-loop load.
pub struct LoadRun {
    pub counts: Counts,
    /// The latency of every answered request, unsorted.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl LoadRun {
    pub fn per_second(&self) -> f64 {
        self.counts.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The threads the closed-loop clients run on: as many as wrk's `-t2`, each driving its
/// share of the connections without blocking. A thread per client (16 blocking threads on a
/// 2-core machine) made the scheduler, not the server, decide part of the result: the
/// servers' ratios to the reference came out 10-20 % above wrk's. See the chapter "What it
/// costs".
pub const CLIENT_THREADS: usize = 2;

/// `clients` connections send `GET /` on a new connection each, back to back, for
/// `duration`, spread over [`CLIENT_THREADS`] threads, each running a single-threaded tokio
/// runtime (wrk's design: an event loop per thread, no work moving between them). A request
/// still in flight at the end finishes (within its 5 s timeout) and counts. `Err` if a
/// thread's runtime could not start.
pub fn closed_loop(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
) -> Result<LoadRun, String> {
    let request: Arc<[u8]> = client::get_request("/").into();
    let started = Instant::now();
    let deadline = started + duration;
    let threads = CLIENT_THREADS.clamp(1, clients.max(1));
    let results: Vec<Result<(Counts, Vec<Duration>), String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                // The first `clients % threads` threads take one connection more.
                let share = clients / threads + usize::from(index < clients % threads);
                let request = Arc::clone(&request);
                scope.spawn(move || closed_loop_thread(addr, request, share, deadline))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a client thread panicked".to_string()))
            })
            .collect()
    });
    let results: Result<Vec<_>, String> = results.into_iter().collect();
    Ok(merged(results?, started.elapsed()))
}

/// One client thread of [`closed_loop`]: `connections` tasks on a current-thread runtime,
/// each sending its next request as soon as its last one is answered, until `deadline`.
fn closed_loop_thread(
    addr: SocketAddr,
    request: Arc<[u8]>,
    connections: usize,
    deadline: Instant,
) -> Result<(Counts, Vec<Duration>), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the client's tokio runtime: {err}"))?;
    Ok(runtime.block_on(async move {
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let request = Arc::clone(&request);
                tokio::spawn(async move {
                    let mut counts = Counts::default();
                    let mut latencies = Vec::with_capacity(64 * 1024);
                    let mut buffer = Vec::with_capacity(2048);
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let answer = one_request_async(
                            addr,
                            &request,
                            REQUEST_TIMEOUT,
                            REQUEST_TIMEOUT,
                            &mut buffer,
                        );
                        match answer.await {
                            Ok(_) => {
                                counts.ok += 1;
                                latencies.push(sent.elapsed());
                            }
                            Err(LoadError::Connect) => {
                                counts.add(LoadError::Connect);
                                // Do not spin on a server that is gone.
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            Err(failure) => counts.add(failure),
                        }
                    }
                    (counts, latencies)
                })
            })
            .collect();
        let mut counts = Counts::default();
        let mut latencies = Vec::new();
        for task in tasks {
            match task.await {
                Ok((part, times)) => {
                    counts.merge(&part);
                    latencies.extend(times);
                }
                // A task cannot panic here; if one did, it counts as a failed request.
                Err(_) => counts.add(LoadError::Other),
            }
        }
        (counts, latencies)
    }))
}

/// One run's result from its client threads' counts and latencies.
fn merged(results: Vec<(Counts, Vec<Duration>)>, elapsed: Duration) -> LoadRun {
    let mut counts = Counts::default();
    let mut latencies = Vec::new();
    for (part, times) in results {
        counts.merge(&part);
        latencies.extend(times);
    }
    LoadRun {
        counts,
        latencies,
        elapsed,
    }
}

/// Open-loop load: request `i` is due at `start + i / rate`, for `duration`, whatever the
/// server does. `clients` threads take the requests in order; a thread sleeps until the next
/// one is due, and when every thread is busy the due requests wait, so a server that stalls
/// is charged for every request that would have been sent meanwhile. Each latency counts
/// from when its request was due (as wrk2 and oha's latency correction do), not from when a
/// thread got to send it. A request still in flight at the end finishes and counts.
///
/// Unlike [`closed_loop`], these are blocking threads: a thread's `sleep` wakes within tens
/// of microseconds of the due time, while tokio's timer has a resolution of a millisecond,
/// which would be charged to every request as latency.
pub fn open_loop(addr: SocketAddr, clients: usize, rate: u64, duration: Duration) -> LoadRun {
    let request = client::get_request("/");
    let period = Duration::from_secs(1).div_f64(rate.max(1) as f64);
    let started = Instant::now();
    let slots = (duration.as_secs_f64() * rate as f64).round() as u64;
    let next = AtomicU64::new(0);
    let results: Vec<(Counts, Vec<Duration>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (request, next) = (&request, &next);
                scope.spawn(move || {
                    let mut counts = Counts::default();
                    let mut latencies = Vec::with_capacity(64 * 1024);
                    let mut buffer = Vec::with_capacity(2048);
                    loop {
                        let slot = next.fetch_add(1, Ordering::Relaxed);
                        if slot >= slots {
                            break;
                        }
                        let due = started + period.mul_f64(slot as f64);
                        let now = Instant::now();
                        if due > now {
                            thread::sleep(due - now);
                        }
                        match one_request(addr, request, &mut buffer) {
                            Ok(()) => {
                                counts.ok += 1;
                                latencies.push(due.elapsed());
                            }
                            Err(failure) => counts.add(failure),
                        }
                    }
                    (counts, latencies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    merged(results, started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn open_loop_sends_on_schedule_and_times_from_it() {
        // A listener that answers every request from memory, on this thread's loopback.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let server = thread::spawn(move || {
            let mut answered = 0;
            while answered < 50 {
                let Ok((mut stream, _)) = listener.accept() else {
                    break;
                };
                let mut head = [0u8; 1024];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                answered += 1;
            }
        });
        // 50 requests due over 0.5 s: the run cannot end before the last is due.
        let run = open_loop(addr, 2, 100, Duration::from_millis(500));
        server.join().expect("the listener ends");
        assert_eq!(run.counts.ok, 50, "{}", run.counts.describe_errors());
        assert_eq!(run.latencies.len(), 50);
        assert!(
            run.elapsed >= Duration::from_millis(490),
            "{:?}",
            run.elapsed
        );
    }

    #[test]
    fn closed_loop_counts_every_answer_of_every_connection() {
        // A listener that answers the first 40 requests with 200 and the rest with 503, until
        // the run is over and one last connection tells it to stop.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let over = Arc::new(AtomicBool::new(false));
        let server = thread::spawn({
            let over = Arc::clone(&over);
            move || {
                let mut answered = 0;
                while !over.load(Ordering::SeqCst) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        break;
                    };
                    let mut head = [0u8; 1024];
                    let _ = stream.read(&mut head);
                    let status = if answered < 40 { "200 OK" } else { "503 Busy" };
                    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    answered += 1;
                }
            }
        });
        // Three connections on the two client threads (two on one, one on the other).
        let run = closed_loop(addr, 3, Duration::from_millis(300)).expect("the client starts");
        over.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(addr);
        server.join().expect("the listener ends");
        assert_eq!(run.counts.ok, 40, "{}", run.counts.describe_errors());
        assert_eq!(run.latencies.len(), 40);
        assert!(
            run.counts.wrong_status > 0,
            "{}",
            run.counts.describe_errors()
        );
        assert_eq!(run.counts.errors(), run.counts.wrong_status);
        assert!(
            run.elapsed >= Duration::from_millis(300),
            "{:?}",
            run.elapsed
        );
    }
}
