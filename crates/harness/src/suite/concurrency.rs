//! The lesson of each stage: does a fast request wait behind slow ones, behind a handler that
//! blocks its thread, or behind `--max-connections`?

use std::thread;
use std::time::Instant;

use measure::ServerProcess;
use measure::available_cores;
use measure::catalogue::Expected;
use measure::client::{self, Exchange, Request};
use measure::verdicts;

use super::{HEAD_START, Target, assert_hello_page, assert_still_serves, delay, served_by};

/// Sends `count` slow requests, then (after a head start) one fast `GET /`, and returns the
/// fast request's timing and the slow requests' exchanges.
pub fn fast_behind_slow(
    server: &ServerProcess,
    slow_path: &str,
    count: usize,
) -> (Exchange, Vec<Exchange>) {
    let addr = server.addr();
    // Connect and send the slow requests from this thread, in order, so the server has them
    // before the fast one; only the (long) wait for their answers happens on other threads.
    let slow: Vec<_> = (0..count)
        .map(|_| {
            let request = client::get_request(slow_path);
            let in_flight = client::start(addr, &Request::new(&request), Instant::now())
                .unwrap_or_else(|failed| panic!("send a slow request: {:?}", failed.response));
            thread::spawn(move || in_flight.finish())
        })
        .collect();
    thread::sleep(HEAD_START);
    let fast = client::get(addr, "/");
    assert_hello_page(&fast);
    let slow = slow
        .into_iter()
        .map(|handle| handle.join().expect("slow client"))
        .collect();
    (fast, slow)
}

/// The distinct threads that served these exchanges.
fn threads_of<'a>(exchanges: impl IntoIterator<Item = &'a Exchange>) -> Vec<&'a str> {
    let mut threads: Vec<&str> = exchanges.into_iter().map(served_by).collect();
    threads.sort_unstable();
    threads.dedup();
    threads
}

fn assert_fast_waited(fast: &Exchange, what: &str) {
    let timing = &fast.timing;
    let floor = verdicts::waited_floor(delay());
    assert!(
        timing.done >= floor,
        "{what}: the fast request should have waited at least {floor:?}, but took {:?}",
        timing.done
    );
    println!(
        "{what}: the fast request waited {:?} (delay {:?})",
        timing.done,
        delay()
    );
}

fn assert_fast_did_not_wait(fast: &Exchange, what: &str) {
    let timing = &fast.timing;
    let ceiling = verdicts::did_not_wait_ceiling(delay());
    assert!(
        timing.done < ceiling,
        "{what}: the fast request should have been answered within {ceiling:?}, but took {:?}",
        timing.done
    );
    println!(
        "{what}: the fast request took only {:?} (delay {:?})",
        timing.done,
        delay()
    );
}

/// The lesson of the stage: does a fast request wait behind slow ones?
pub fn concurrency_matches_the_stage(target: &Target) {
    let mut server = target.start();
    match target.expectation {
        Expected::OneAtATime => {
            let (fast, slow) = fast_behind_slow(&server, "/sleep", 1);
            assert_hello_page(&slow[0]);
            assert_fast_waited(&fast, "one at a time, 1 slow request pending");
            let threads = threads_of([&fast, &slow[0]]);
            assert_eq!(
                threads.len(),
                1,
                "one at a time, on one thread: {threads:?}"
            );
        }
        Expected::Pool { workers } => {
            let (fast, slow) = fast_behind_slow(&server, "/sleep", workers - 1);
            let what = format!("pool of {workers}, {} slow requests pending", workers - 1);
            assert_fast_did_not_wait(&fast, &what);
            // Each sleeping request holds its own worker, and the fast one got a free one.
            let sleeping = threads_of(&slow);
            assert_eq!(sleeping.len(), workers - 1, "a worker each: {sleeping:?}");
            let fast_thread = served_by(&fast);
            assert!(
                !sleeping.contains(&fast_thread),
                "the fast request was served by {fast_thread}, a worker that was sleeping"
            );
            let (fast, slow) = fast_behind_slow(&server, "/sleep", workers);
            slow.iter().for_each(assert_hello_page);
            let what = format!("pool of {workers}, {workers} slow requests pending");
            assert_fast_waited(&fast, &what);
            let threads = threads_of(slow.iter().chain([&fast]));
            assert_eq!(threads.len(), workers, "{workers} workers: {threads:?}");
        }
        Expected::ConcurrentOnOneThread | Expected::Parallel => {
            let (fast, slow) = fast_behind_slow(&server, "/sleep", 8);
            slow.iter().for_each(assert_hello_page);
            assert_fast_did_not_wait(&fast, "concurrent, 8 slow requests pending");
            if target.expectation == Expected::ConcurrentOnOneThread {
                // Concurrent, yet every answer came from the one thread that runs the task.
                let threads = threads_of(slow.iter().chain([&fast]));
                assert_eq!(threads.len(), 1, "all on one thread: {threads:?}");
            }
            // And the slow ones ran side by side, not one after another.
            let longest = slow.iter().map(Exchange::latency).max().unwrap_or_default();
            assert!(
                longest < delay() * 2,
                "8 sleeps took {longest:?}: they did not overlap"
            );
        }
    }
    assert_still_serves(&mut server);
}

/// The lesson of `/block`: a blocking call holds its thread. Only a server with another
/// thread free (a pool, or a multi-threaded executor) keeps answering.
pub fn a_blocking_handler_stalls_only_its_own_thread(target: &Target) {
    let mut server = target.start();
    let (fast, slow) = fast_behind_slow(&server, "/block", 1);
    assert_hello_page(&slow[0]);
    match target.expectation {
        Expected::OneAtATime => assert_fast_waited(&fast, "one at a time, /block pending"),
        Expected::ConcurrentOnOneThread => {
            assert_fast_waited(&fast, "one task on one thread, /block pending")
        }
        Expected::Pool { .. } => assert_fast_did_not_wait(&fast, "pool, /block pending"),
        Expected::Parallel if available_cores() < 2 => {
            println!("only one core here: a blocked thread may stall the rest; not checked");
        }
        Expected::Parallel => {
            assert_fast_did_not_wait(&fast, "multi-threaded, /block pending");
            // It was answered while the blocked thread was still blocked: by another thread.
            let (blocked, answered) = (served_by(&slow[0]), served_by(&fast));
            assert_ne!(
                blocked, answered,
                "the fast request came from the blocked thread"
            );
        }
    }
    assert_still_serves(&mut server);
}

/// Stages 4 and 5 serve at most `--max-connections` at once; the rest wait their turn.
pub fn max_connections_applies_backpressure(target: &Target) {
    if !target.has_max_connections() {
        return;
    }
    let mut server = target.start_with(&["--max-connections", "2"]);
    let (fast, _) = fast_behind_slow(&server, "/sleep", 1);
    assert_fast_did_not_wait(&fast, "--max-connections 2, 1 slow request pending");
    let (fast, slow) = fast_behind_slow(&server, "/sleep", 2);
    slow.iter().for_each(assert_hello_page);
    assert_fast_waited(&fast, "--max-connections 2, 2 slow requests pending");
    assert_still_serves(&mut server);
}
