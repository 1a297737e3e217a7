//! Grading a running server from outside: which concurrency model it behaves like, and which
//! points of the contract it keeps. `cargo xtask check` and the workshop's `check STEP` print
//! a [`Report`]; the stages' tests assert on its [`Model`].
//!
//! Nothing here reads the server's code or log: every finding is a measured time, so a server
//! written in any language can be graded, and a student cannot pass by writing the right
//! words. The probes, in order:
//!
//! 1. `GET /` must be answered; nothing else can be measured otherwise.
//! 2. The slow route's delay: given, or measured by one request alone.
//! 3. The ramp: slow requests are sent one by one, and after each, a fast one. The first fast
//!    request that waits until a slow one finished tells how many requests the server serves
//!    at once: 1 is one at a time, N a pool of N; none waiting up to a bound is concurrent.
//! 4. `/cpu` requests at once against one alone: parallel across cores, or taking turns.
//! 5. The contract: an unknown path, `POST`, then bad input (garbage, a huge head, an empty
//!    connection), each followed by a `GET /` that must still be answered: a server that
//!    stops answering has crashed.
//!
//! Every probe is bounded in count and in time: a server that hangs makes a probe fail, never
//! the check hang.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::client::{self, Exchange};
use crate::process::ServerProcess;

/// What to probe, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// A route that answers after a delay without using a core (`/sleep` here).
    pub slow_path: String,
    /// A route that answers at once (`/`).
    pub fast_path: String,
    /// The slow route's delay, when known; otherwise it is measured.
    pub slow: Option<Duration>,
    /// The most slow requests the ramp keeps pending before it calls a server concurrent.
    pub max_pending: usize,
    /// The CPU-bound route (`/cpu` here); a server without it cannot be told parallel.
    pub cpu_path: String,
    /// Whether to measure parallelism at all (it takes the longest, and a check of a limit
    /// does not need it).
    pub measure_cpu: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            slow_path: "/sleep".into(),
            fast_path: "/".into(),
            slow: None,
            max_pending: 12,
            cpu_path: "/cpu".into(),
            measure_cpu: true,
        }
    }
}

/// How the server treats a fast request while slow ones are pending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// A fast request waits behind one slow request (stages 1 and 3).
    OneAtATime,
    /// `size` slow requests are served at once; one more makes a fast request wait (stage 2's
    /// pool, or stage 4 and 5 with `--max-connections`).
    Pool { size: usize },
    /// With `pending` slow requests pending, fast ones were still answered at once (stages 4
    /// and 5; or a pool larger than `pending`, which looks the same from outside).
    Concurrent { pending: usize },
    /// Nothing could be concluded, and why.
    Unknown { reason: String },
}

/// What the `/cpu` probe found.
#[derive(Clone, Debug, PartialEq)]
pub enum Cpu {
    /// Requests at once got more work done per second than one alone: several cores.
    Parallel { speedup: f64 },
    /// Requests at once took turns: one thread (or one core).
    OneThread { speedup: f64 },
    /// Not measured, and why.
    CannotTell { reason: String },
}

/// One point of the contract, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractPoint {
    pub what: String,
    /// `Ok` with what was seen, or `Err` with what went wrong.
    pub outcome: Result<String, String>,
}

/// Everything a check found.
#[derive(Clone, Debug)]
pub struct Report {
    pub addr: SocketAddr,
    pub model: Model,
    /// The model's evidence, in plain words and numbers.
    pub evidence: Vec<String>,
    pub cpu: Cpu,
    pub contract: Vec<ContractPoint>,
    /// Set when the server stopped answering (or its process exited): what happened.
    pub crashed: Option<String>,
}

impl Report {
    /// Whether every contract point held and the server is still up.
    pub fn contract_kept(&self) -> bool {
        self.crashed.is_none() && self.contract.iter().all(|point| point.outcome.is_ok())
    }

    /// The model in a few words: "one at a time", "a pool of 4", "concurrent".
    pub fn model_name(&self) -> String {
        match &self.model {
            Model::OneAtATime => "one at a time".into(),
            Model::Pool { size } => format!("a pool of {size}"),
            Model::Concurrent { .. } => match self.cpu {
                Cpu::Parallel { .. } => "concurrent and parallel".into(),
                Cpu::OneThread { .. } => "concurrent on one thread".into(),
                Cpu::CannotTell { .. } => "concurrent".into(),
            },
            Model::Unknown { .. } => "unknown".into(),
        }
    }

    /// The report as the terminal shows it, without colour: the model with its evidence,
    /// then the contract as a pass/fail list.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Behaves like: {}", self.model_name());
        if let Model::Unknown { reason } = &self.model {
            let _ = writeln!(text, "  {reason}");
        }
        for line in &self.evidence {
            let _ = writeln!(text, "  {line}");
        }
        // Whether a pool or a concurrent server is also parallel; the evidence has the
        // numbers when it was measured.
        if let (Model::Pool { .. } | Model::Concurrent { .. }, Cpu::CannotTell { reason }) =
            (&self.model, &self.cpu)
        {
            let _ = writeln!(text, "  parallel or not: cannot tell, {reason}");
        }
        let _ = writeln!(text, "\nContract:");
        for point in &self.contract {
            match &point.outcome {
                Ok(seen) => {
                    let _ = writeln!(text, "  pass  {}: {seen}", point.what);
                }
                Err(problem) => {
                    let _ = writeln!(text, "  FAIL  {}: {problem}", point.what);
                }
            }
        }
        if let Some(crash) = &self.crashed {
            let _ = writeln!(text, "  FAIL  the server crashed: {crash}");
        }
        text
    }
}

/// Probes the server at `addr`.
pub fn check(addr: SocketAddr, options: &Options) -> Report {
    check_with(addr, options, &mut |_| None)
}

/// Probes a server process started by the harness, and also watches the process itself: an
/// exit, or a panic in its log, is a crash even if the port still answers.
pub fn check_process(server: &mut ServerProcess, options: &Options) -> Report {
    let addr = server.addr();
    let mut report = check_with(addr, options, &mut |stopped_answering| {
        // A server that stopped answering may still be exiting: give it a moment to finish.
        let status = if stopped_answering {
            server.wait_for_exit(Duration::from_secs(2))
        } else {
            server.exit_status()
        };
        status.map(|status| {
            let log = server.stderr_text();
            let last_lines: Vec<_> = log.lines().rev().take(3).collect();
            let last_lines: Vec<_> = last_lines.into_iter().rev().collect();
            format!(
                "the process exited ({status}); its last words: {}",
                last_lines.join(" / ")
            )
        })
    });
    if report.crashed.is_none() {
        if let Some(status) = server.exit_status() {
            report.crashed = Some(format!("the process exited ({status})"));
        } else if let Some(line) = server
            .stderr_text()
            .lines()
            .find(|line| line.contains("panicked"))
        {
            report.crashed = Some(format!("a thread panicked: {line}"));
        }
    }
    report
}

/// The probes, with `exited` telling whether a process we started is gone (and how); its
/// argument says the server stopped answering, so it may be worth waiting for the exit.
fn check_with(
    addr: SocketAddr,
    options: &Options,
    exited: &mut dyn FnMut(bool) -> Option<String>,
) -> Report {
    let mut report = Report {
        addr,
        model: Model::Unknown {
            reason: String::new(),
        },
        evidence: Vec::new(),
        cpu: Cpu::CannotTell {
            reason: "not measured".into(),
        },
        contract: Vec::new(),
        crashed: None,
    };

    // 1. A fast request alone: without an answer, nothing else can be measured.
    let fast = request(addr, &options.fast_path, PROBE_TIMEOUT);
    let answered = fast_answer_point(&mut report, &options.fast_path, &fast);
    if !answered {
        report.model = Model::Unknown {
            reason: format!(
                "GET {} was not answered, so nothing else could be measured",
                options.fast_path
            ),
        };
        report.crashed = exited(true);
        return report;
    }

    // 2. The slow route's delay, then 3. the ramp.
    let slow = match options.slow {
        Some(slow) => Ok(slow),
        None => measure_slow(addr, &options.slow_path),
    };
    match slow {
        Ok(slow) => {
            let (model, evidence) = ramp(addr, options, slow);
            report.model = model;
            report.evidence = evidence;
        }
        Err(reason) => report.model = Model::Unknown { reason },
    }

    // 4. Parallel or not; one at a time is never parallel, and an unknown model stays unknown.
    report.cpu = match report.model {
        Model::Pool { .. } | Model::Concurrent { .. } if !options.measure_cpu => Cpu::CannotTell {
            reason: "not measured this time".into(),
        },
        Model::Pool { .. } | Model::Concurrent { .. } => measure_cpu(addr, &options.cpu_path),
        Model::OneAtATime => Cpu::CannotTell {
            reason: "one at a time is never parallel".into(),
        },
        Model::Unknown { .. } => Cpu::CannotTell {
            reason: "the model is unknown".into(),
        },
    };
    match &report.cpu {
        Cpu::Parallel { speedup } => report.evidence.push(format!(
            "{CPU_BATCH} CPU-bound requests at once did {speedup:.2}× the work per second of \
             one alone: they ran in parallel on several cores"
        )),
        Cpu::OneThread { speedup } => report.evidence.push(format!(
            "{CPU_BATCH} CPU-bound requests at once did only {speedup:.2}× the work per second \
             of one alone: they took turns on one thread"
        )),
        Cpu::CannotTell { .. } => {}
    }

    // 5. The contract, bad input last: a crash must not hide the model.
    contract_points(&mut report, options);
    if let Some(exit) = exited(report.crashed.is_some()) {
        report.crashed = Some(match report.crashed.take() {
            Some(crash) => format!("{crash}; {exit}"),
            None => exit,
        });
    }
    report
}

/// How long any one probe request may take beyond the slow route's delay.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest slow route the ramp accepts: longer would make the check take minutes.
const LONGEST_SLOW: Duration = Duration::from_secs(30);
/// The shortest: below it, waiting cannot be told from a busy machine's noise.
const SHORTEST_SLOW: Duration = Duration::from_millis(200);
/// How many `/cpu` requests are sent at once.
const CPU_BATCH: usize = 4;

/// Sends `GET path` and reads the answer, within `timeout` for connecting and each read.
fn request(addr: SocketAddr, path: &str, timeout: Duration) -> Exchange {
    send_within(addr, &client::get_request(path), timeout)
}

/// Sends raw bytes and reads the answer (to its `Content-Length`, or the close).
fn send_within(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Exchange {
    let scheduled = Instant::now();
    client::timed(scheduled, |timing| {
        let mut stream = connect_and_send(addr, bytes, timeout)?;
        timing.connect = Some(scheduled.elapsed());
        client::read_announced_response(&mut stream, scheduled, timing)
    })
}

fn connect_and_send(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> io::Result<TcpStream> {
    let mut stream = client::connect_within(addr, timeout)?;
    stream.write_all(bytes)?;
    Ok(stream)
}

/// Checks the first answer to the fast path; returns whether there was one at all.
fn fast_answer_point(report: &mut Report, fast_path: &str, fast: &Exchange) -> bool {
    let what = format!("GET {fast_path} gets 200 with Content-Type, Content-Length and a body");
    let response = match &fast.response {
        Ok(response) => response,
        Err(err) => {
            report.contract.push(ContractPoint {
                what,
                outcome: Err(describe_failure(err)),
            });
            return false;
        }
    };
    let length = response
        .header("Content-Length")
        .and_then(|value| value.trim().parse::<usize>().ok());
    let outcome = if response.status != 200 {
        Err(format!("got {}", response.status))
    } else if response.header("Content-Type").is_none() {
        Err("no Content-Type header".into())
    } else if length != Some(response.body.len()) {
        Err(format!(
            "Content-Length says {:?}, the body has {} bytes",
            response.header("Content-Length"),
            response.body.len()
        ))
    } else if response.body.is_empty() {
        Err("an empty body".into())
    } else {
        Ok(format!(
            "200, {} bytes in {}",
            response.body.len(),
            millis(fast.latency())
        ))
    };
    report.contract.push(ContractPoint { what, outcome });
    true
}

/// Why a request got no response, in words a student can act on.
fn describe_failure(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there (did the server crash or not start?)".into()
        }
        io::ErrorKind::UnexpectedEof => "the server closed the connection without answering".into(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            "no answer in time: the server accepted but never answered".into()
        }
        io::ErrorKind::ConnectionReset => {
            "the server reset the connection without answering (did it crash?)".into()
        }
        _ => {
            // A reply that is not HTTP quotes all it got: the start says enough.
            let text = err.to_string();
            match text.char_indices().nth(160) {
                Some((cut, _)) => format!("{} …", &text[..cut]),
                None => text,
            }
        }
    }
}

/// Measures the slow route alone: the delay the ramp's judgements are made against.
fn measure_slow(addr: SocketAddr, slow_path: &str) -> Result<Duration, String> {
    let exchange = request(addr, slow_path, LONGEST_SLOW);
    let status = match &exchange.response {
        Ok(response) => response.status,
        Err(err) => {
            return Err(format!(
                "GET {slow_path} (the slow route) failed: {}",
                describe_failure(err)
            ));
        }
    };
    let slow = exchange.latency();
    if status != 200 {
        return Err(format!(
            "GET {slow_path} answered {status}: give the path of a route that answers after \
             a delay with --slow-path"
        ));
    }
    if slow < SHORTEST_SLOW {
        return Err(format!(
            "GET {slow_path} answered in {}, too fast to tell a request that waits behind it \
             from a busy machine: use a route that takes at least {}",
            millis(slow),
            millis(SHORTEST_SLOW)
        ));
    }
    Ok(slow)
}

/// A slow request in flight: sent from this thread, its answer read on another.
struct Pending {
    reader: JoinHandle<Exchange>,
}

impl Pending {
    fn send(addr: SocketAddr, slow_path: &str, timeout: Duration) -> io::Result<Pending> {
        let scheduled = Instant::now();
        let mut stream = connect_and_send(addr, &client::get_request(slow_path), timeout)?;
        let reader = thread::spawn(move || {
            client::timed(scheduled, |timing| {
                client::read_announced_response(&mut stream, scheduled, timing)
            })
        });
        Ok(Pending { reader })
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
fn ramp(addr: SocketAddr, options: &Options, slow: Duration) -> (Model, Vec<String>) {
    let timeout = slow * 2 + PROBE_TIMEOUT;
    // A fast answer within this is "at once"; a later one is checked against the slow ones.
    let at_once = slow / 4;
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
                Err(err) => {
                    let reason = format!(
                        "slow request {count} could not be sent: {}",
                        describe_failure(&err)
                    );
                    return (Model::Unknown { reason }, Vec::new());
                }
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
                if let Some(early) = finished
                    .iter()
                    .map(Exchange::latency)
                    .min()
                    .filter(|l| *l < slow / 2)
                {
                    let reason = format!(
                        "GET {} was answered in {}, but should take {}: does the route wait, \
                         and is --slow-ms right?",
                        options.slow_path,
                        millis(early),
                        millis(slow)
                    );
                    return (Model::Unknown { reason }, Vec::new());
                }
                start_with = count;
                break; // Start a new round, with `count` at once.
            }
            let fast = request(addr, &options.fast_path, timeout);
            if let Err(err) = &fast.response {
                let reason = format!(
                    "with {count} slow requests pending, GET {} failed: {}",
                    options.fast_path,
                    describe_failure(err)
                );
                return (Model::Unknown { reason }, Vec::new());
            }
            let latency = fast.latency();
            if latency < at_once {
                fastest_at_each.push(latency);
                if count == options.max_pending {
                    return concurrent(count, &fastest_at_each);
                }
                continue;
            }
            // Slow to answer: did it wait for a slow request to finish, or was the machine
            // just busy? It waited if its answer came with or after the first slow one's.
            // ("With": the two client threads wake in either order when both answers come
            // within microseconds, so a tenth of the delay is allowed.)
            let answered = fast.scheduled + fast.timing.first_byte.unwrap_or(fast.timing.done);
            let freed = first_answer(pending);
            if freed.is_some_and(|freed| answered + slow / 10 >= freed) {
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
    let reason = format!(
        "the slow requests finished before the ramp reached {} of them: GET {} takes {}, \
         too short for this machine; give a longer delay (--slow-ms)",
        options.max_pending,
        options.slow_path,
        millis(slow)
    );
    (Model::Unknown { reason }, Vec::new())
}

fn concurrent(pending: usize, fastest_at_each: &[Duration]) -> (Model, Vec<String>) {
    let slowest = fastest_at_each.iter().max().copied().unwrap_or_default();
    let evidence = vec![
        format!(
            "with {pending} slow requests pending, fast requests were still answered at once \
             (the slowest in {})",
            millis(slowest)
        ),
        format!(
            "(a pool of more than {pending} threads would look the same: the check stops \
             at {pending})"
        ),
    ];
    (Model::Concurrent { pending }, evidence)
}

fn full_at(
    count: usize,
    waited: Duration,
    slow: Duration,
    fastest_at_each: &[Duration],
) -> (Model, Vec<String>) {
    if count == 1 {
        let evidence = vec![format!(
            "a fast request waited {} behind one slow request (which takes {})",
            seconds(waited),
            seconds(slow)
        )];
        return (Model::OneAtATime, evidence);
    }
    let answered_at_once = fastest_at_each.last().copied().unwrap_or_default();
    let evidence = vec![
        format!(
            "with {} slow request{} pending, a fast request was answered in {}",
            count - 1,
            if count == 2 { "" } else { "s" },
            millis(answered_at_once)
        ),
        format!(
            "with {count} pending, a fast request waited {}, until a slow one finished",
            seconds(waited)
        ),
    ];
    (Model::Pool { size: count }, evidence)
}

/// `/cpu` alone, then [`CPU_BATCH`] at once, up to five times. An attempt looks parallel
/// when the batch did clearly more work per second than one request alone, *and* its answers
/// came close together (one thread answers them one after another: the last after about
/// four times as long as the first). Two such attempts make the verdict parallel.
///
/// Both measures are needed on a busy machine: a stall while "alone" is measured makes one
/// thread look faster in a batch, and a stall of the first batch request makes its answers
/// look close together; one stall cannot fool both, and two attempts must agree.
fn measure_cpu(addr: SocketAddr, cpu_path: &str) -> Cpu {
    // Two checks in one process (tests run in parallel) must not share the cores they measure.
    let _cores_are_ours = CPU_PROBE.lock().unwrap_or_else(PoisonError::into_inner);
    let timeout = LONGEST_SLOW;
    let mut parallel_attempts = 0;
    let mut best_speedup = 0.0_f64;
    for _attempt in 0..5 {
        // The fastest of two alone is the cost of one request on an idle server.
        let mut alone = Duration::MAX;
        for _ in 0..2 {
            let exchange = request(addr, cpu_path, timeout);
            match exchange.response.as_ref().map(|response| response.status) {
                Ok(200) => alone = alone.min(exchange.latency()),
                Ok(status) => {
                    return Cpu::CannotTell {
                        reason: format!(
                            "because GET {cpu_path} answered {status}: without a CPU-bound \
                             route, waiting requests use no core, so one thread and many \
                             look the same from outside"
                        ),
                    };
                }
                Err(err) => {
                    return Cpu::CannotTell {
                        reason: format!("GET {cpu_path} failed: {}", describe_failure(err)),
                    };
                }
            }
        }
        let started = Instant::now();
        let batch: Vec<_> = (0..CPU_BATCH)
            .map(|_| {
                let path = cpu_path.to_string();
                thread::spawn(move || request(addr, &path, timeout))
            })
            .collect();
        let latencies: Vec<Duration> = batch
            .into_iter()
            .filter_map(|handle| handle.join().ok())
            .filter(|exchange| exchange.status() == 200)
            .map(|exchange| exchange.latency())
            .collect();
        if latencies.len() != CPU_BATCH {
            return Cpu::CannotTell {
                reason: format!("not every one of {CPU_BATCH} GET {cpu_path} at once was answered"),
            };
        }
        let together = started.elapsed();
        let first = latencies.iter().min().copied().unwrap_or_default();
        let last = latencies.iter().max().copied().unwrap_or_default();
        let attempt = CpuAttempt {
            speedup: (alone.as_secs_f64() * CPU_BATCH as f64) / together.as_secs_f64(),
            spread: last.as_secs_f64() / first.as_secs_f64().max(f64::EPSILON),
        };
        if attempt.looks_parallel() {
            parallel_attempts += 1;
            if parallel_attempts == 2 {
                return Cpu::Parallel {
                    speedup: attempt.speedup,
                };
            }
        }
        best_speedup = best_speedup.max(attempt.speedup);
    }
    Cpu::OneThread {
        speedup: best_speedup,
    }
}

/// What one batch of `/cpu` requests showed.
#[derive(Clone, Copy, Debug)]
struct CpuAttempt {
    /// The batch's work per second, relative to one request alone.
    speedup: f64,
    /// How much later the last answer of the batch came than the first.
    spread: f64,
}

impl CpuAttempt {
    fn looks_parallel(self) -> bool {
        self.speedup >= PARALLEL_SPEEDUP && self.spread <= PARALLEL_SPREAD
    }
}

static CPU_PROBE: Mutex<()> = Mutex::new(());

/// The work per second a batch must reach, relative to one request alone, to count as
/// parallel: one thread reaches at most 1.0, two cores up to 2.0.
const PARALLEL_SPEEDUP: f64 = 1.3;
/// How much later than the first the last answer of a parallel batch may come: one thread
/// answers 4 requests at about 1, 2, 3 and 4 times one request's cost (a spread of 4); two
/// cores at about 1, 1, 2 and 2 (a spread of 2), more cores closer still.
const PARALLEL_SPREAD: f64 = 3.0;

/// The contract's other points, bad input last; each piece of bad input is followed by a
/// `GET` that must still be answered.
fn contract_points(report: &mut Report, options: &Options) {
    let addr = report.addr;
    let status_point = |what: &str, request: &[u8], expected: &[u16]| {
        let exchange = send_within(addr, request, PROBE_TIMEOUT);
        let outcome = match &exchange.response {
            Ok(response) if expected.contains(&response.status) => {
                Ok(format!("{}", response.status))
            }
            Ok(response) => Err(format!(
                "got {}, expected {}",
                response.status,
                list(expected)
            )),
            Err(err) => Err(describe_failure(err)),
        };
        ContractPoint {
            what: what.to_string(),
            outcome,
        }
    };
    let mut huge_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    huge_head.resize(9 * 1024, b'p');
    huge_head.extend_from_slice(b"\r\n\r\n");
    let unknown_path = client::get_request("/no-such-page-here");
    let probes: [(&str, &[u8], &[u16]); 5] = [
        ("an unknown path gets 404", &unknown_path, &[404]),
        (
            "POST gets 405 (only GET and HEAD are served)",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            &[405],
        ),
        ("garbage gets 400", b"hello there\r\n\r\n", &[400]),
        ("a 9 KiB head gets 431", &huge_head, &[431, 400, 413]),
        ("a connection closed without a request", b"", &[]),
    ];
    for (what, input, expected) in probes {
        let point = if input.is_empty() {
            let outcome = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)
                .map(drop)
                .map(|()| "closed".to_string())
                .map_err(|err| describe_failure(&err));
            ContractPoint {
                what: what.to_string(),
                outcome,
            }
        } else {
            status_point(what, input, expected)
        };
        report.contract.push(point);
        // And the server must still answer, whatever it made of that.
        let after = request(addr, &options.fast_path, PROBE_TIMEOUT);
        if let Err(err) = &after.response {
            report.crashed = Some(format!(
                "after \"{what}\", GET {} failed: {}",
                options.fast_path,
                describe_failure(err)
            ));
            return;
        }
    }
    report.contract.push(ContractPoint {
        what: "the server still answers after all of that".into(),
        outcome: Ok("yes".into()),
    });
}

fn list(statuses: &[u16]) -> String {
    let words: Vec<_> = statuses.iter().map(u16::to_string).collect();
    words.join(" or ")
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
