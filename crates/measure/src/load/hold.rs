//! Thousands of waiting connections: concurrent slow requests, all on one thread of a tokio
//! runtime, so that the client holds sockets, not threads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{Counts, LoadError, one_request_async};
use crate::client;

/// One run of many concurrent slow requests.
pub struct HoldRun {
    pub counts: Counts,
    /// The latency of every answered request, from its scheduled moment, unsorted.
    pub latencies: Vec<Duration>,
    /// Connects that took longer than [`SLOW_CONNECT`]: on Linux, a SYN that the kernel
    /// dropped because the listen queue was full, and that the client sent again a second
    /// later.
    pub slow_connects: u64,
    /// The client could not run at all (its runtime did not start).
    pub client_error: Option<String>,
}

/// A connect slower than this was, on loopback, a retransmitted SYN.
pub const SLOW_CONNECT: Duration = Duration::from_millis(900);

/// `n` concurrent `GET /sleep`, the connects spread evenly over `spread`. Each connection
/// may take `connect_timeout` to connect and `answer_timeout` more for the whole answer.
pub fn hold(
    addr: SocketAddr,
    n: usize,
    spread: Duration,
    connect_timeout: Duration,
    answer_timeout: Duration,
) -> HoldRun {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            return HoldRun {
                counts: Counts::default(),
                latencies: Vec::new(),
                slow_connects: 0,
                client_error: Some(format!("cannot start the client's tokio runtime: {err}")),
            };
        }
    };
    let request: Arc<[u8]> = client::get_request("/sleep").into();
    let outcomes = runtime.block_on(async move {
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|index| {
                let request = Arc::clone(&request);
                let offset = spread.mul_f64(index as f64 / n.max(1) as f64);
                tokio::spawn(async move {
                    let at = start + offset;
                    tokio::time::sleep_until(at).await;
                    let mut response = Vec::with_capacity(1024);
                    let outcome = one_request_async(
                        addr,
                        &request,
                        connect_timeout,
                        answer_timeout,
                        &mut response,
                    )
                    .await;
                    (outcome, at.elapsed())
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(n);
        for task in tasks {
            // A task cannot panic here; if it did, it counts as a failed request.
            outcomes.push(
                task.await
                    .unwrap_or((Err(LoadError::Other), Duration::ZERO)),
            );
        }
        outcomes
    });
    let mut run = HoldRun {
        counts: Counts::default(),
        latencies: Vec::with_capacity(n),
        slow_connects: 0,
        client_error: None,
    };
    for (outcome, latency) in outcomes {
        match outcome {
            Ok(connect_time) => {
                run.counts.ok += 1;
                run.latencies.push(latency);
                if connect_time > SLOW_CONNECT {
                    run.slow_connects += 1;
                }
            }
            Err(failure) => run.counts.add(failure),
        }
    }
    run
}
