//! What the operating system tells about a server process and the machine, for the bench and
//! the workshop's probes: a process's resident memory and threads ([`ProcStatus`], polled by a
//! [`Sampler`]), and a few machine facts.
//!
//! [`ProcStatus::read`] asks `/proc/PID/status` on Linux; `ps` on macOS (no peak there: the
//! most seen while polling); PowerShell's `Get-Process` on Windows (working set and its peak).
//! Elsewhere, or if the tool fails: `None`, which the tools show as "not measured".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Whether [`ProcStatus::read`] has a way to ask this OS at all.
pub const MEASURED_HERE: bool = cfg!(any(target_os = "linux", target_os = "macos", windows));

/// A process's memory and threads, as the OS tells them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// Resident memory now, in KiB (VmRSS).
    pub rss_kib: u64,
    /// The most resident memory so far, in KiB (VmHWM).
    pub peak_kib: u64,
    pub threads: u64,
}

impl ProcStatus {
    /// `None` where this OS is not one of the three, its tool failed, or the process is gone.
    #[cfg(target_os = "linux")]
    pub fn read(pid: u32) -> Option<ProcStatus> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        parse_status(&text)
    }

    /// macOS has no `/proc`: `ps` gives the resident set (KiB), and `ps -M` a line per thread.
    /// There is no peak, so the peak is the resident set now (the sampler keeps the most).
    #[cfg(target_os = "macos")]
    pub fn read(pid: u32) -> Option<ProcStatus> {
        let run = |args: &[&str]| -> Option<String> {
            let output = std::process::Command::new("ps").args(args).output().ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let pid = pid.to_string();
        let rss = run(&["-o", "rss=", "-p", &pid])?;
        let threads = run(&["-M", "-p", &pid])?;
        parse_ps(&rss, &threads)
    }

    /// Windows: the working set, its peak and the thread count from PowerShell's Get-Process.
    #[cfg(windows)]
    pub fn read(pid: u32) -> Option<ProcStatus> {
        let script = format!(
            "$p = Get-Process -Id {pid}; \"$($p.WorkingSet64) $($p.PeakWorkingSet64) \
             $($p.Threads.Count)\""
        );
        let output = std::process::Command::new("powershell")
            .args(["-NoProfile", "-NonInteractive", "-Command", &script])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        parse_get_process(&String::from_utf8_lossy(&output.stdout))
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    pub fn read(_pid: u32) -> Option<ProcStatus> {
        None
    }
}

/// `ps -o rss=` (KiB) and `ps -M` (a header, then a line per thread), on macOS.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn parse_ps(rss: &str, threads: &str) -> Option<ProcStatus> {
    let rss_kib = rss.trim().parse().ok()?;
    let threads = threads
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    (threads > 0).then_some(ProcStatus {
        rss_kib,
        peak_kib: rss_kib,
        threads,
    })
}

/// `WORKING_SET PEAK_WORKING_SET THREADS`, in bytes, from Get-Process on Windows.
#[cfg_attr(not(windows), allow(dead_code))]
fn parse_get_process(text: &str) -> Option<ProcStatus> {
    let mut numbers = text.split_whitespace().map(|word| word.parse::<u64>().ok());
    let (rss, peak, threads) = (numbers.next()??, numbers.next()??, numbers.next()??);
    Some(ProcStatus {
        rss_kib: rss / 1024,
        peak_kib: peak / 1024,
        threads,
    })
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_status(text: &str) -> Option<ProcStatus> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|line| line.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(ProcStatus {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
        threads: field("Threads:")?,
    })
}

/// Polls a process's status while a run goes on, keeping the most of each figure.
pub struct Sampler {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<ProcStatus>>,
}

impl Sampler {
    const EVERY: Duration = Duration::from_millis(20);
    /// A sampler stops by itself after this, whatever happens.
    const AT_MOST: Duration = Duration::from_secs(600);

    pub fn start(pid: u32) -> Sampler {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let thread = thread::spawn(move || {
            let started = Instant::now();
            let mut most = ProcStatus::default();
            while !flag.load(Ordering::Relaxed) && started.elapsed() < Self::AT_MOST {
                if let Some(now) = ProcStatus::read(pid) {
                    most.rss_kib = most.rss_kib.max(now.rss_kib);
                    most.peak_kib = most.peak_kib.max(now.peak_kib);
                    most.threads = most.threads.max(now.threads);
                }
                thread::sleep(Self::EVERY);
            }
            most
        });
        Sampler {
            done,
            thread: Some(thread),
        }
    }

    /// Stops polling and returns the most of each figure (all zero if nothing was read).
    pub fn finish(mut self) -> ProcStatus {
        self.done.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// A value from `/proc/sys`, such as `net/core/somaxconn` (Linux only).
pub fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .ok()
        .map(|text| text.trim().to_string())
}

/// The processor's name, where the OS says it simply (Linux).
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_status_is_read() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status(text),
            Some(ProcStatus {
                rss_kib: 1024,
                peak_kib: 2048,
                threads: 3
            })
        );
        assert_eq!(parse_status("Name: x\n"), None);
    }

    #[test]
    fn macos_ps_and_windows_get_process_are_read() {
        let threads = "USER   PID   TT  %CPU STAT PRI     STIME     UTIME COMMAND\n\
                       me    123 s000   0.0 S    31T   0:00.00   0:00.01 stage-5\n\
                       \x20           123         0.0 S    31T   0:00.00   0:00.00\n";
        assert_eq!(
            parse_ps("  2048\n", threads),
            Some(ProcStatus {
                rss_kib: 2048,
                peak_kib: 2048,
                threads: 2
            })
        );
        assert_eq!(parse_ps("", threads), None);
        assert_eq!(
            parse_get_process("4194304 8388608 5\r\n"),
            Some(ProcStatus {
                rss_kib: 4096,
                peak_kib: 8192,
                threads: 5
            })
        );
        assert_eq!(parse_get_process("4194304\r\n"), None);
    }

    /// The Linux path, on the test's own process.
    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_measured_on_linux() {
        let status = ProcStatus::read(std::process::id()).expect("/proc is there on Linux");
        assert!(status.rss_kib > 0 && status.peak_kib >= status.rss_kib);
        assert!(status.threads >= 1);
    }
}
