//! Ctrl-C stops every process the demo (or the lab) started, and none is started after it.
//!
//! Every server (and the cargo build) is registered here while it runs. Normally its owner
//! stops it when done, by dropping it (`ServerProcess` kills its process by PID and reaps it).
//! On Ctrl-C (or SIGTERM, SIGHUP) the handler marks the registry as stopping, takes whatever
//! is registered, stops it, and ends the process.
//!
//! No orphans, by construction:
//! - Stopping is a state of the one registry, set under the lock that registers processes,
//!   and the servers and builds are *spawned* while that lock is held ([`start_server`],
//!   [`spawn_build`]). So a process is either started before the handler takes the lock (and
//!   the handler then finds and stops it) or refused after (it never exists). A run thread that
//!   goes on to its next binary after Ctrl-C gets an error instead of a server.
//! - Where the OS allows, the processes also die with this one when it is killed outright
//!   (SIGKILL, a crash), which no handler sees: see [`parent_death`].

mod parent_death;

use std::io::{self, Write};
use std::path::Path;
use std::process::{self, Child, ChildStderr, ChildStdout, Command};
use std::sync::{Mutex, MutexGuard};

use measure::ServerProcess;

/// Something the demo started and must stop.
enum Running {
    Server(ServerProcess),
    Build(Child),
}

impl Running {
    fn stop(self) {
        match self {
            // Dropping a ServerProcess kills it and waits for it.
            Running::Server(server) => drop(server),
            Running::Build(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The one registry: what runs, and whether stopping has begun.
struct Registry {
    /// Set once, by the Ctrl-C handler, under this lock: nothing is registered after it.
    stopping: bool,
    running: Vec<(u64, Running)>,
    next_id: u64,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    stopping: false,
    running: Vec::new(),
    next_id: 1,
});

/// The error of a start refused because Ctrl-C (or SIGTERM) has begun stopping everything.
pub const STOPPING: &str =
    "not started: stopping (Ctrl-C or a termination signal), every process it started is stopped";

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock must not keep us from stopping servers.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `spawn` and registers what it started, both under the registry's lock, unless stopping
/// has begun: then nothing is spawned and the error is [`STOPPING`]. `spawn` must be quick
/// (start a process, not wait for it): the Ctrl-C handler waits for this lock.
fn spawn_registered<T>(spawn: impl FnOnce() -> io::Result<(Running, T)>) -> io::Result<(u64, T)> {
    let mut registry = registry();
    if registry.stopping {
        return Err(io::Error::new(io::ErrorKind::Interrupted, STOPPING));
    }
    let (item, extra) = spawn()?;
    let id = registry.next_id;
    registry.next_id += 1;
    registry.running.push((id, item));
    Ok((id, extra))
}

fn unregister(id: u64) -> Option<Running> {
    let mut registry = registry();
    let index = registry.running.iter().position(|(key, _)| *key == id)?;
    Some(registry.running.remove(index).1)
}

/// Installs the Ctrl-C handler. If it cannot be installed, the demo still runs: the terminal
/// sends Ctrl-C to the servers too, so they stop with it.
pub fn install_ctrl_c_handler() -> Result<(), String> {
    ctrlc::set_handler(|| {
        let items: Vec<_> = {
            let mut registry = registry();
            registry.stopping = true;
            registry.running.drain(..).collect()
        };
        let count = items.len();
        for (_, item) in items {
            item.stop();
        }
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "\ninterrupted: stopped {count} process{} it had started",
            if count == 1 { "" } else { "es" }
        );
        process::exit(130)
    })
    .map_err(|err| format!("cannot catch Ctrl-C ({err}); servers stop with the terminal's Ctrl-C"))
}

/// Starts the server `bin --port 0 ARGS…` as [`ServerProcess::start`] does, registered from
/// the moment it exists (refused once stopping has begun), set to die with this process where
/// the OS allows, and waits for its `Listening on` line.
pub fn start_server(bin: &Path, args: &[&str]) -> io::Result<TrackedServer> {
    start_server_logging_to(bin, args, None)
}

/// Like [`start_server`], with the server's stderr (its request log) going to `log` if given,
/// as [`ServerProcess::start_logging_to`] does, instead of into this process's memory.
pub fn start_server_logging_to(
    bin: &Path,
    args: &[&str],
    log: Option<std::fs::File>,
) -> io::Result<TrackedServer> {
    let mut command = Command::new(bin);
    command.args(["--port", "0"]).args(args);
    start_server_command(command, bin, log)
}

/// Like [`start_server_logging_to`], for a `command` (running `bin --port 0` and its flags)
/// the caller has set more of: an environment variable, say.
pub fn start_server_command(
    mut command: Command,
    bin: &Path,
    log: Option<std::fs::File>,
) -> io::Result<TrackedServer> {
    parent_death::kill_with_parent(&mut command);
    let (id, (pid, first_line)) = spawn_registered(|| {
        let (server, first_line) =
            ServerProcess::spawn_command(command, bin, log, parent_death::spawn)?;
        let pid = server.pid();
        Ok((Running::Server(server), (pid, first_line)))
    })?;
    let mut tracked = TrackedServer {
        id,
        addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        pid,
    };
    // Waited for outside the lock (up to 30 s): Ctrl-C meanwhile stops the server, and the
    // wait then ends with the closed pipe. On an error, dropping `tracked` stops it.
    tracked.addr = first_line.wait()?;
    Ok(tracked)
}

/// Spawns a `cargo build` (its stdout and stderr as `command` sets them), registered from the
/// moment it exists (refused once stopping has begun), set to die with this process where the
/// OS allows; returns it with its pipes, taken out for the caller to read.
pub fn spawn_build(
    mut command: Command,
) -> io::Result<(TrackedChild, Option<ChildStdout>, Option<ChildStderr>)> {
    parent_death::kill_with_parent(&mut command);
    let (id, (stdout, stderr)) = spawn_registered(|| {
        let mut child = parent_death::spawn(command)?;
        let pipes = (child.stdout.take(), child.stderr.take());
        Ok((Running::Build(child), pipes))
    })?;
    Ok((TrackedChild { id }, stdout, stderr))
}

/// A running server, stopped (by its PID) when this is dropped or on Ctrl-C.
pub struct TrackedServer {
    id: u64,
    pub addr: std::net::SocketAddr,
    pub pid: u32,
}

impl TrackedServer {
    /// Runs `f` on the server, if it has not been stopped yet.
    pub fn with<T>(&self, f: impl FnOnce(&mut ServerProcess) -> T) -> Option<T> {
        let mut registry = registry();
        let server = registry
            .running
            .iter_mut()
            .find_map(|(key, item)| match item {
                Running::Server(server) if *key == self.id => Some(server),
                _ => None,
            })?;
        Some(f(server))
    }
}

impl Drop for TrackedServer {
    fn drop(&mut self) {
        if let Some(item) = unregister(self.id) {
            item.stop();
        }
    }
}

/// A running `cargo build`, killed on Ctrl-C.
pub struct TrackedChild {
    id: u64,
}

impl TrackedChild {
    /// Takes the child back to wait for it.
    pub fn take(self) -> Option<Child> {
        let item = unregister(self.id);
        std::mem::forget(self);
        match item {
            Some(Running::Build(child)) => Some(child),
            Some(other) => {
                other.stop();
                None
            }
            None => None,
        }
    }
}

impl Drop for TrackedChild {
    fn drop(&mut self) {
        if let Some(item) = unregister(self.id) {
            item.stop();
        }
    }
}

/// Runs `command` (the program `program`) in this process's place, as the commands that hand
/// over to another program do (the release xtask of `lab` and `bench`, the book's server).
/// On Unix with `exec`: the PID stays, so Ctrl-C or a kill reaches the program itself.
/// Windows has no `exec`, so there it runs as a child, and the console's Ctrl-C reaches both:
/// this process then waits for the child to finish cleaning up (see [`outlive_ctrl_c`]) and
/// exits 130, as a command stopped by Ctrl-C does, instead of giving the prompt back while
/// the child still prints.
pub fn run_in_place(mut command: Command, program: &Path) -> process::ExitCode {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = command.exec(); // Returns only if it failed.
        eprintln!("error: cannot run {}: {err}", program.display());
        process::ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    {
        let interrupted = outlive_ctrl_c();
        match command.status() {
            Ok(_) if interrupted.load(std::sync::atomic::Ordering::SeqCst) => {
                process::ExitCode::from(INTERRUPTED_EXIT_CODE)
            }
            Ok(status) => exit_code(status.code()),
            Err(err) => {
                eprintln!("error: cannot run {}: {err}", program.display());
                process::ExitCode::FAILURE
            }
        }
    }
}

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT's 2), on every OS alike.
#[cfg_attr(unix, allow(dead_code))]
pub const INTERRUPTED_EXIT_CODE: u8 = 130;

/// From now on, Ctrl-C does not end this process: it is only recorded, in the flag returned.
/// For a parent on Windows whose child gets the same Ctrl-C from the console and must be
/// waited for. Installed once; a second call returns the same flag.
#[cfg(not(unix))]
pub fn outlive_ctrl_c() -> &'static std::sync::atomic::AtomicBool {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if let Err(err) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)) {
            eprintln!(
                "warning: cannot catch Ctrl-C ({err}): it would end this command before the \
                 program it runs has cleaned up"
            );
        }
    });
    &INTERRUPTED
}

/// A child's exit code passed on (0, 1 or 2); a child stopped without one (a kill from
/// outside may leave none) counts as a failure.
#[cfg_attr(unix, allow(dead_code))]
fn exit_code(code: Option<i32>) -> process::ExitCode {
    match code.and_then(|code| u8::try_from(code).ok()) {
        Some(code) => process::ExitCode::from(code),
        None => process::ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitCode;

    #[test]
    fn a_childs_exit_code_is_passed_on() {
        assert_eq!(exit_code(Some(0)), ExitCode::SUCCESS);
        assert_eq!(exit_code(Some(2)), ExitCode::from(2));
        assert_eq!(exit_code(None), ExitCode::FAILURE);
        assert_eq!(exit_code(Some(-1)), ExitCode::FAILURE);
    }
}
