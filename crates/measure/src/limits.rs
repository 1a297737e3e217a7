//! The system's limits on a process that the tools run into.
//!
//! Open files: the bench's 10,000 waiting connections need more descriptors than many systems
//! give a process by default, and so do the fault tests' floods of idle clients at macOS's
//! default of 256 (`harness::faults`); [`raise_open_files`] raises the limit as far as allowed.
//!
//! Threads: the bench's c10k gives stage 2 a thread per waiting connection, and macOS caps
//! the threads of one process at a few thousand (`kern.num_taskthreads`), so asking for
//! 10,000 there fails; [`thread_limit`] says how many the system allows, where it says so.

/// The open-files limit after trying to raise it to the hard limit (children inherit it, so
/// the servers get it too), and a note on what happened. `None` where there is no such limit.
pub fn raise_open_files() -> (Option<u64>, String) {
    #[cfg(unix)]
    {
        let before = rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .ok();
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(now) => {
                let note = match before {
                    Some(before) if before < now => {
                        format!("open-files limit raised from {before} to {now}")
                    }
                    _ => format!("open-files limit {now} (the most this system allows)"),
                };
                (Some(now), note)
            }
            Err(err) => (
                before,
                format!(
                    "open-files limit {} (cannot raise it: {err})",
                    before.map_or("unknown".to_string(), |b| b.to_string())
                ),
            ),
        }
    }
    #[cfg(not(unix))]
    {
        (None, "no open-files limit to raise on this OS".to_string())
    }
}

/// The most threads one process may have on this system, and where that was read; `None`
/// where the system sets no such number (Windows: memory is the bound) or would not say.
pub fn thread_limit() -> Option<(u64, &'static str)> {
    #[cfg(target_os = "linux")]
    {
        // The system-wide ceiling, and the per-user one (which counts the user's every
        // thread, so it is an upper bound for one process): the lower of the two.
        let system = crate::system::sysctl("kernel/threads-max")
            .and_then(|text| text.parse::<u64>().ok())
            .map(|limit| (limit, "/proc/sys/kernel/threads-max"));
        let user = rlimit::getrlimit(rlimit::Resource::NPROC)
            .ok()
            .map(|(soft, _hard)| soft)
            .filter(|&soft| soft != rlimit::INFINITY)
            .map(|limit| (limit, "ulimit -u"));
        system
            .into_iter()
            .chain(user)
            .min_by_key(|&(limit, _)| limit)
    }
    #[cfg(target_os = "macos")]
    {
        // A process's own ceiling: 4096 or more depending on the machine's memory.
        let output = std::process::Command::new("sysctl")
            .args(["-n", "kern.num_taskthreads"])
            .output()
            .ok()?;
        let limit = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .ok()?;
        Some((limit, "sysctl kern.num_taskthreads"))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        None
    }
}

// Only where the system says a number.
#[cfg(all(test, any(target_os = "linux", target_os = "macos")))]
mod tests {
    use super::*;

    #[test]
    fn this_system_says_how_many_threads_a_process_may_have() {
        let (limit, source) = thread_limit().expect("Linux and macOS say it");
        // Far above what this test process has, and named where it was read.
        assert!(limit >= 64, "{limit} from {source}");
        assert!(
            [
                "/proc/sys/kernel/threads-max",
                "ulimit -u",
                "sysctl kern.num_taskthreads"
            ]
            .contains(&source),
            "{source}"
        );
    }
}
