//! Faults from outside the process: more idle clients than the server has file descriptors,
//! and (in [`crate::fuzz`]) random bytes, pieces, pauses, half-closes and resets.
//!
//! The descriptor test starts a server with a low open-files limit set for it alone (`sh -c
//! 'ulimit -n 40 && exec "$0" "$@"'`: no `pre_exec`, so no `unsafe`), connects 80 clients
//! that send nothing, and watches it for 2 s: how much CPU it burns, how much it logs, whether
//! it is still alive, and whether it answers `GET /` once those clients leave. A server that
//! logs and retries a failing `accept` at once spins a core and writes megabytes a second
//! (see `server_core::accept`). Unix only: elsewhere the tests are ignored.
//!
//! The idle clients are sockets of the test process too, and the tests run eight at a time
//! (`.cargo/config.toml`): six floods of 80 at once need more than macOS's default limit of
//! 256, and failed there ("Too many open files"). So the test process first raises its own
//! limit as far as the system allows, and the floods then take their descriptors from a
//! budget sized from the limit it got ([`FloodDescriptors`]): at 256, two run at once and the
//! others wait their turn, before their server starts, so the waiting is not measured.
//!
//! [`flood_with_idle_clients`] measures; the checks below assert. The pitfalls chapter's
//! table comes from `cargo test -p harness --test faults_table -- --ignored --nocapture`.

// The flood needs `ulimit`: elsewhere only the types and the ignored tests remain.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use server_core::limits::OpenFiles;

use crate::suite::Target;
use measure::ServerProcess;
use measure::client::{self, Request};

/// What a flood is: how many descriptors the server may hold, how many idle clients, how long.
#[derive(Clone, Copy, Debug)]
pub struct Flood {
    pub open_files: u32,
    pub idle_clients: usize,
    pub window: Duration,
}

impl Default for Flood {
    fn default() -> Self {
        Flood {
            open_files: 40,
            idle_clients: 80,
            window: Duration::from_secs(2),
        }
    }
}

/// What a server did under a flood.
#[derive(Debug)]
pub struct FloodReport {
    /// Idle clients whose connect succeeded (the kernel's listen queue takes them all,
    /// whether or not the server accepts them).
    pub connected: usize,
    /// CPU time (user and system) the server used from the first connect to the window's end.
    pub cpu: Duration,
    /// How long that was.
    pub elapsed: Duration,
    /// Bytes and lines the server wrote to stderr in that time.
    pub log_bytes: usize,
    pub log_lines: usize,
    /// The first few of those lines.
    pub log_sample: Vec<String>,
    /// Everything on stderr before the flood (the start-up notes).
    pub startup_log: String,
    /// The status of `GET /` after the idle clients left, or why there was none.
    pub served_after: Result<u16, String>,
    /// Whether the process was still running at the end.
    pub alive: bool,
}

impl FloodReport {
    /// CPU time as a percentage of one core over the window.
    pub fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Log lines per second over the window.
    pub fn lines_per_second(&self) -> f64 {
        self.log_lines as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Starts `bin --port 0 ARGS` with a soft open-files limit of `open_files`, for it alone.
#[cfg(unix)]
pub fn start_with_open_files(
    bin: &str,
    open_files: u32,
    args: &[&str],
) -> io::Result<ServerProcess> {
    let mut command = Command::new("sh");
    // `exec` keeps the PID: the process we measure and stop is the server itself.
    command
        .arg("-c")
        .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(["--port", "0"])
        .args(args);
    ServerProcess::start_command(command, Path::new(bin), None)
}

/// Descriptors of the test process kept out of the floods' budget: beside the floods, a fault
/// test file runs the fuzz (a server's three pipes and one connection at a time per test,
/// eight tests at a time) and the test runner's own few. At 256 this leaves room for two
/// floods at once.
pub const KEPT_FOR_THE_REST: u64 = 64;
/// Descriptors a flood holds besides its idle clients: the server's three pipes, the
/// connection of `GET /` afterwards.
const FLOOD_OVERHEAD: usize = 4;

/// The test process's descriptors that floods may hold at once, handed out so that floods
/// running side by side never need more than the open-files limit allows.
pub struct FloodDescriptors {
    /// The whole budget, and what is free of it now.
    total: usize,
    free: Mutex<usize>,
    returned: Condvar,
}

impl FloodDescriptors {
    /// The one budget of this process: its open-files limit, raised first as far as the system
    /// allows (the servers started after inherit it), less [`KEPT_FOR_THE_REST`].
    pub fn of_this_process() -> &'static FloodDescriptors {
        static BUDGET: OnceLock<FloodDescriptors> = OnceLock::new();
        BUDGET.get_or_init(|| {
            let (limit, _note) = measure::limits::raise_open_files();
            // No limit to read (Windows, `unlimited`): no reason to hold floods back.
            let total = limit.map_or(usize::MAX, |limit| {
                usize::try_from(limit.saturating_sub(KEPT_FOR_THE_REST)).unwrap_or(usize::MAX)
            });
            FloodDescriptors::new(total)
        })
    }

    fn new(total: usize) -> FloodDescriptors {
        FloodDescriptors {
            total,
            free: Mutex::new(total),
            returned: Condvar::new(),
        }
    }

    /// Waits until `count` descriptors are free and takes them, until the ticket is dropped;
    /// an error if the whole budget is smaller, since waiting would never end.
    pub fn take(&self, count: usize) -> io::Result<DescriptorTicket<'_>> {
        if count > self.total {
            return Err(io::Error::other(format!(
                "a flood needs {count} descriptors and this process's open-files limit leaves \
                 {} for floods (raise it: ulimit -n 1024)",
                self.total
            )));
        }
        let mut free = self.lock();
        while *free < count {
            free = self
                .returned
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= count;
        Ok(DescriptorTicket {
            budget: self,
            count,
        })
    }

    /// What is free now.
    pub fn free(&self) -> usize {
        *self.lock()
    }

    // A test that panicked while holding the lock left the count whole: it changes only
    // under the lock, in one statement.
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Descriptors taken from a [`FloodDescriptors`], given back when dropped.
pub struct DescriptorTicket<'budget> {
    budget: &'budget FloodDescriptors,
    count: usize,
}

impl Drop for DescriptorTicket<'_> {
    fn drop(&mut self) {
        *self.budget.lock() += self.count;
        self.budget.returned.notify_all();
    }
}

/// Floods `bin` (started with `args` under `flood.open_files`) with idle clients; measures.
/// Waits first for the descriptors it needs in this process ([`FloodDescriptors`]).
#[cfg(unix)]
pub fn flood_with_idle_clients(bin: &str, args: &[&str], flood: Flood) -> io::Result<FloodReport> {
    let _descriptors =
        FloodDescriptors::of_this_process().take(flood.idle_clients + FLOOD_OVERHEAD)?;
    let mut server = start_with_open_files(bin, flood.open_files, args)?;
    let addr = server.addr();
    let pid = server.pid();
    // Let the start-up notes arrive, so they are not counted as the flood's log.
    thread::sleep(Duration::from_millis(100));
    let startup_log = server.stderr_text();
    let cpu_before = cpu_time(pid)?;
    let started = Instant::now();

    let mut idle = Vec::new();
    for _ in 0..flood.idle_clients {
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            idle.push(stream);
        }
    }
    let connected = idle.len();
    thread::sleep(flood.window.saturating_sub(started.elapsed()));
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    let elapsed = started.elapsed();
    let during = server.stderr_text();
    let during = during.get(startup_log.len()..).unwrap_or("").to_string();

    drop(idle);
    let served_after = get_within(addr, Duration::from_secs(10));
    let alive = server.exit_status().is_none();
    Ok(FloodReport {
        connected,
        cpu,
        elapsed,
        log_bytes: during.len(),
        log_lines: during.lines().count(),
        log_sample: during.lines().take(3).map(str::to_string).collect(),
        startup_log,
        served_after,
        alive,
    })
}

/// `GET /`, with `timeout` for the whole exchange's every step.
fn get_within(addr: SocketAddr, timeout: Duration) -> Result<u16, String> {
    let root = client::get_request("/");
    let exchange = client::exchange(addr, &Request::new(&root).within(timeout), Instant::now());
    match exchange.response {
        Ok(response) => Ok(response.status),
        Err(err) => Err(err.to_string()),
    }
}

/// The CPU time (user and system, all threads) the process `pid` has used.
#[cfg(target_os = "linux")]
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    // /proc/PID/stat: "pid (comm) state ..."; utime and stime are fields 14 and 15, in clock
    // ticks of USER_HZ, which Linux fixes at 100 for every program that reads /proc.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other(format!("unexpected /proc/{pid}/stat: {stat}")))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<u64>().ok())
            .ok_or_else(|| io::Error::other(format!("no CPU times in /proc/{pid}/stat: {stat}")))
    };
    // Field 3 (the state) is the first after the name: utime is at index 14 - 3.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 10))
}

/// The CPU time of `pid`, from `ps -o time=` (`[[DD-]HH:]MM:SS[.ss]`), on Unix without /proc.
#[cfg(all(unix, not(target_os = "linux")))]
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let output = Command::new("ps")
        .args(["-o", "time=", "-p", &pid.to_string()])
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_ps_time(text.trim())
        .ok_or_else(|| io::Error::other(format!("cannot read `ps -o time=`: {text:?}")))
}

/// Reads `ps`'s `[[DD-]HH:]MM:SS[.ss]`.
pub fn parse_ps_time(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once('-') {
        Some((days, clock)) => (days.parse::<f64>().ok()?, clock),
        None => (0.0, text),
    };
    let mut seconds = 0.0;
    for part in clock.split(':') {
        seconds = seconds * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(Duration::from_secs_f64(days * 86_400.0 + seconds))
}

// ---- The checks ---------------------------------------------------------------------------

/// The bound the tests assert: wide, because the machine may be busy. The target (a few
/// percent of a core) is what the pitfalls chapter measures and reports.
pub const MAX_CPU_PERCENT: f64 = 30.0;
/// At most this many log lines a second under the flood (the policy writes one).
pub const MAX_LINES_PER_SECOND: f64 = 5.0;

/// Asserts what a flood must find: little CPU, a short log, alive, serving afterwards.
pub fn assert_survived(bin: &str, what: &str, report: &FloodReport) {
    println!(
        "{bin} ({what}): {} idle clients connected; {:.1}% of a core; {} log lines ({} bytes) \
         in {:.1} s; GET / afterwards: {:?}; alive: {}; first lines: {:?}",
        report.connected,
        report.cpu_percent(),
        report.log_lines,
        report.log_bytes,
        report.elapsed.as_secs_f64(),
        report.served_after,
        report.alive,
        report.log_sample,
    );
    assert!(report.alive, "{bin} ({what}) exited under the flood");
    assert!(
        report.cpu_percent() < MAX_CPU_PERCENT,
        "{bin} ({what}) used {:.1}% of a core while clients waited: a busy accept loop?",
        report.cpu_percent()
    );
    assert!(
        report.lines_per_second() <= MAX_LINES_PER_SECOND,
        "{bin} ({what}) logged {} lines in {:.1} s; first: {:?}",
        report.log_lines,
        report.elapsed.as_secs_f64(),
        report.log_sample
    );
    assert_eq!(
        report.served_after,
        Ok(200),
        "{bin} ({what}) must answer GET / once the idle clients leave"
    );
}

/// 80 idle clients against a 40-descriptor limit, with the default flags: no spin, a short
/// log, and `GET /` served once they leave. Stages 4 and 5 do not even reach the limit, since
/// their default `--max-connections` is below it (they say so at start-up).
#[cfg(unix)]
pub fn idle_clients_beyond_the_open_files_limit_do_not_spin(target: &Target) {
    let flood = Flood::default();
    let report = flood_with_idle_clients(target.bin, &[], flood)
        .unwrap_or_else(|err| panic!("could not flood {}: {err}", target.bin));
    if target.has_max_connections() {
        let limit = OpenFiles::Limit(flood.open_files.into());
        let expected = format!(
            "(--max-connections {}: the open-files limit (ulimit -n) is {}",
            limit.default_max_connections().0,
            flood.open_files
        );
        assert!(
            report.startup_log.contains(&expected),
            "{}: {}",
            target.bin,
            report.startup_log
        );
    }
    assert_survived(target.bin, "default flags", &report);
}

/// Stages 4 and 5 with `--max-connections` above what the limit holds: a warning at start-up,
/// then the same outcome, this time by backing off on `accept` errors.
#[cfg(unix)]
pub fn too_many_max_connections_are_warned_about_and_back_off(target: &Target) {
    if !target.has_max_connections() {
        println!("not applicable: {} has no --max-connections", target.bin);
        return;
    }
    let report =
        flood_with_idle_clients(target.bin, &["--max-connections", "1000"], Flood::default())
            .unwrap_or_else(|err| panic!("could not flood {}: {err}", target.bin));
    assert!(
        report
            .startup_log
            .contains("warning: --max-connections 1000 is more than the open-files limit"),
        "{}: {}",
        target.bin,
        report.startup_log
    );
    assert!(
        report
            .log_sample
            .iter()
            .any(|line| line.contains("accept failed")),
        "{}: accepts should have failed and been logged: {:?}",
        target.bin,
        report.log_sample
    );
    assert_survived(target.bin, "--max-connections 1000", &report);
}

#[cfg(not(unix))]
pub fn idle_clients_beyond_the_open_files_limit_do_not_spin(_target: &Target) {
    unreachable!("ignored where there is no `ulimit`");
}

#[cfg(not(unix))]
pub fn too_many_max_connections_are_warned_about_and_back_off(_target: &Target) {
    unreachable!("ignored where there is no `ulimit`");
}

/// Expands to the fault tests of one server binary: the descriptor flood (Unix only; ignored
/// elsewhere) and the socket fuzz (see [`crate::fuzz`]). A test file of its own per stage, so
/// the CPU measured is not shared with the conformance suite's load.
///
/// ```ignore
/// harness::fault_tests!(stage_1, "stage-1");
/// ```
#[macro_export]
macro_rules! fault_tests {
    ($module:ident, $name:literal) => {
        mod $module {
            fn target() -> $crate::suite::Target {
                $crate::suite::target($name, env!(concat!("CARGO_BIN_EXE_", $name)))
            }

            #[test]
            #[cfg_attr(not(unix), ignore = "needs a Unix shell's `ulimit -n`")]
            fn idle_clients_beyond_the_open_files_limit_do_not_spin() {
                $crate::faults::idle_clients_beyond_the_open_files_limit_do_not_spin(&target());
            }

            #[test]
            #[cfg_attr(not(unix), ignore = "needs a Unix shell's `ulimit -n`")]
            fn too_many_max_connections_are_warned_about_and_back_off() {
                $crate::faults::too_many_max_connections_are_warned_about_and_back_off(&target());
            }

            #[test]
            fn a_socket_fuzz_finds_no_crash_and_no_malformed_answer() {
                $crate::fuzz::socket_fuzz(&target());
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_times_are_read() {
        assert_eq!(parse_ps_time("0:00.05"), Some(Duration::from_millis(50)));
        assert_eq!(parse_ps_time("01:02:03"), Some(Duration::from_secs(3723)));
        assert_eq!(
            parse_ps_time("1-00:00:01"),
            Some(Duration::from_secs(86_401))
        );
        assert_eq!(parse_ps_time("soon"), None);
    }

    #[test]
    fn floods_wait_for_descriptors_and_never_take_more_than_the_budget() {
        let budget = FloodDescriptors::new(170);
        let first = budget.take(84).expect("room for one");
        let second = budget.take(84).expect("room for two");
        assert_eq!(budget.free(), 2);
        let Err(err) = budget.take(171) else {
            panic!("more than the whole budget can never be taken");
        };
        assert!(
            err.to_string().contains("a flood needs 171 descriptors"),
            "{err}"
        );
        // A third waits until one of the first two is given back.
        let (third_taken, taken) = std::sync::mpsc::channel();
        thread::scope(|scope| {
            scope.spawn(|| {
                let third = budget.take(84).expect("room once one is back");
                third_taken.send(()).expect("the test waits");
                drop(third);
            });
            assert!(
                taken.recv_timeout(Duration::from_millis(200)).is_err(),
                "a third flood took descriptors the first two hold"
            );
            drop(first);
            taken
                .recv_timeout(Duration::from_secs(10))
                .expect("the third flood goes once the first is done");
        });
        drop(second);
        assert_eq!(budget.free(), 170);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_time(std::process::id()).is_ok());
    }
}
