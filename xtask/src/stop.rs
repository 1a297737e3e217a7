//! Ctrl-C stops every process the demo (or the lab) started.
//!
//! Every server (and the cargo build) is registered here while it runs. Normally its owner
//! stops it when done, by dropping it (`ServerProcess` kills its process by PID and reaps it).
//! On Ctrl-C the handler stops whatever is still registered, then ends the demo.

use std::io::Write;
use std::process::{self, Child};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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

static RUNNING: Mutex<Vec<(u64, Running)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn running() -> std::sync::MutexGuard<'static, Vec<(u64, Running)>> {
    // A panic while holding the lock must not keep us from stopping servers.
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn register(item: Running) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    running().push((id, item));
    id
}

fn unregister(id: u64) -> Option<Running> {
    let mut running = running();
    let index = running.iter().position(|(key, _)| *key == id)?;
    Some(running.remove(index).1)
}

/// Installs the Ctrl-C handler. If it cannot be installed, the demo still runs: the terminal
/// sends Ctrl-C to the servers too, so they stop with it.
pub fn install_ctrl_c_handler() -> Result<(), String> {
    ctrlc::set_handler(|| {
        let items: Vec<_> = running().drain(..).collect();
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

/// A running server, stopped (by its PID) when this is dropped or on Ctrl-C.
pub struct TrackedServer {
    id: u64,
    pub addr: std::net::SocketAddr,
    pub pid: u32,
}

impl TrackedServer {
    pub fn new(server: ServerProcess) -> TrackedServer {
        let (addr, pid) = (server.addr(), server.pid());
        let id = register(Running::Server(server));
        TrackedServer { id, addr, pid }
    }

    /// Runs `f` on the server, if it has not been stopped yet.
    pub fn with<T>(&self, f: impl FnOnce(&mut ServerProcess) -> T) -> Option<T> {
        let mut running = running();
        let server = running.iter_mut().find_map(|(key, item)| match item {
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
    pub fn new(child: Child) -> TrackedChild {
        TrackedChild {
            id: register(Running::Build(child)),
        }
    }

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
