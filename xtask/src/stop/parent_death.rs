//! The servers (and builds) the demo and the lab start die with them, where the OS allows,
//! even when they are killed outright (SIGKILL, the OOM killer, a crash), which no Ctrl-C
//! handler sees.
//!
//! - **Linux**: each child asks the kernel for SIGKILL when its parent dies
//!   (`prctl(PR_SET_PDEATHSIG, SIGKILL)`, between `fork` and `exec`; it survives the `exec`).
//!   The kernel's "parent" is the *thread* that forked, not the process: a child spawned from
//!   a run thread would be killed when that thread ends, such as a hands-on server whose
//!   starting thread returns at once. So every tracked process is spawned from one thread
//!   that lives as long as the process ([`spawn`]); the signal then comes when the process
//!   ends, however it ends. A parent that dies between `fork` and the `prctl` is caught by
//!   comparing the parent PID after it: the child then exits instead of running.
//! - **macOS** has no parent-death signal, and a watcher inside the child (kqueue's
//!   `NOTE_EXIT` on the parent) would need code in the stage binaries, which are the
//!   student's. What holds there: Ctrl-C, SIGTERM and SIGHUP (closing the terminal) go through
//!   the handler, which stops every registered process and lets none start after it; a
//!   terminal's Ctrl-C also reaches the servers, which are in its process group. A SIGKILL of
//!   the lab leaves its servers running, to be stopped by hand (`kill PID`; the lab's page and
//!   the demo show each server's PID).
//! - **Windows** would do it with a Job Object (`JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, each
//!   child assigned to it): `windows-sys` is in Cargo.lock (through ctrlc), but its job-object
//!   API needs features not compiled now, unsafe FFI calls, and a Windows machine to test on,
//!   so it is not done. What holds: Ctrl-C, Ctrl-Break and closing the console window go
//!   through the handler as on macOS. The console's Ctrl-C does not reach the servers by
//!   itself: each runs in a process group of its own, so that Ctrl-C can be sent to it alone
//!   (`measure::ctrl_break`); the handler stops them.

use std::io;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::mpsc;

/// A command to spawn and where to send the child.
type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Sets `command` to be killed (SIGKILL) when this process dies, on Linux; elsewhere nothing
/// (see the module's note for what holds there).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn kill_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;

    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes two system calls (prctl, getppid),
    // allocates nothing, takes no lock, and touches no memory but its own copy of `parent`.
    unsafe {
        command.pre_exec(move || {
            let sigkill = libc::c_ulong::try_from(libc::SIGKILL).unwrap_or(9);
            if libc::prctl(libc::PR_SET_PDEATHSIG, sigkill, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent died before the prctl: the signal will never come, so do not run.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub fn kill_with_parent(_command: &mut Command) {}

/// Spawns `command` from the one long-lived spawner thread (see the module's note), and
/// returns the child. An error if that thread could not be started: spawning from the
/// calling thread instead would kill the child when that thread ends.
pub fn spawn(command: Command) -> io::Result<Child> {
    let spawner = spawner().ok_or_else(|| {
        io::Error::other(
            "cannot start the thread that starts servers (out of threads?); stop other \
             programs and try again",
        )
    })?;
    let (reply, child) = mpsc::channel();
    spawner.send((command, reply)).map_err(|_| {
        io::Error::other("the thread that starts servers has stopped (a bug): start again")
    })?;
    child.recv().map_err(|_| {
        io::Error::other("the thread that starts servers gave no answer (a bug): start again")
    })?
}

/// The spawner thread's queue, started on first use; `None` if the thread could not start.
fn spawner() -> Option<&'static mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (requests, incoming) = mpsc::channel::<SpawnRequest>();
            std::thread::Builder::new()
                .name("spawner".to_string())
                .spawn(move || {
                    // Ends only with the process: the sender is in a static, never dropped.
                    for (mut command, reply) in incoming {
                        let _ = reply.send(command.spawn());
                    }
                })
                .ok()
                .map(|_| requests)
        })
        .as_ref()
}
