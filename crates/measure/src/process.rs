//! Starting and stopping a real server process.

use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The signals [`ServerProcess::send_signal`] can send on this OS: Ctrl-C (`INT`) and `TERM`
/// on Unix, Ctrl-C alone on Windows (as Ctrl-Break), none elsewhere.
pub const SIGNALS_HERE: &[&str] = if cfg!(unix) {
    &["INT", "TERM"]
} else if cfg!(windows) {
    &["INT"]
} else {
    &[]
};

/// How long a server may take to print its `Listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server binary. Dropping it kills the process (by its PID) and reaps it.
pub struct ServerProcess {
    child: Child,
    /// Set once, by [`FirstLine::wait`].
    addr: Arc<OnceLock<SocketAddr>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread that reads stderr: it ends when the process has closed it (by exiting).
    stderr_reader: Option<thread::JoinHandle<()>>,
}

impl ServerProcess {
    /// Starts `bin` with `--port 0` and the given extra arguments, and waits for its
    /// `Listening on http://HOST:PORT` line.
    pub fn start(bin: impl AsRef<Path>, args: &[&str]) -> io::Result<ServerProcess> {
        let bin = bin.as_ref();
        let mut command = Command::new(bin);
        command.args(["--port", "0"]).args(args);
        ServerProcess::start_command(command, bin, None)
    }

    /// Like [`ServerProcess::start`], but the server's stderr (its request log) goes straight
    /// to `log`, such as a file, and is not kept: under load, reading it into this process's
    /// memory would take CPU from the server being measured. `stderr_text` is then empty.
    pub fn start_logging_to(
        bin: impl AsRef<Path>,
        args: &[&str],
        log: std::fs::File,
    ) -> io::Result<ServerProcess> {
        let bin = bin.as_ref();
        let mut command = Command::new(bin);
        command.args(["--port", "0"]).args(args);
        ServerProcess::start_command(command, bin, Some(log))
    }

    /// Starts `command`, which runs `bin` with all its arguments (through a shell that sets a
    /// limit first, say), and waits for its `Listening on` line; its stderr goes to `log` if
    /// given, else it is kept for [`ServerProcess::stderr_text`].
    pub fn start_command(
        command: Command,
        bin: &Path,
        log: Option<std::fs::File>,
    ) -> io::Result<ServerProcess> {
        let (server, first_line) =
            ServerProcess::spawn_command(command, bin, log, |mut command| command.spawn())?;
        // On an error the server is dropped here: killed and reaped.
        first_line.wait()?;
        Ok(server)
    }

    /// The first half of [`ServerProcess::start_command`]: `spawn` starts the process (the
    /// caller's way: on a thread of its choice, or while it holds a lock that registers the
    /// process), and this returns at once, with the line to wait for. The process is owned,
    /// and stopped when dropped, from this moment on; its [`ServerProcess::addr`] is known
    /// once [`FirstLine::wait`] has read it.
    pub fn spawn_command(
        mut command: Command,
        bin: &Path,
        log: Option<std::fs::File>,
        spawn: impl FnOnce(Command) -> io::Result<Child>,
    ) -> io::Result<(ServerProcess, FirstLine)> {
        let stderr_to = match log {
            Some(file) => Stdio::from(file),
            None => Stdio::piped(),
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_to);
        // On Windows, a process group of its own: the one way to send it Ctrl-C (as
        // Ctrl-Break, see [`ServerProcess::send_signal`]) without sending it to this process
        // too. A console's Ctrl-C then no longer reaches the server by itself: whoever
        // started it stops it (the demo's and the lab's Ctrl-C handlers, `Drop` here).
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            crate::ctrl_break::have_a_console();
            command.creation_flags(crate::ctrl_break::NEW_PROCESS_GROUP);
        }
        let mut child = spawn(command).map_err(|err| {
            io::Error::new(err.kind(), format!("cannot start {}: {err}", bin.display()))
        })?;

        // Keep all of stderr (the request log) so tests can read it, and so the server never
        // blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut stderr_reader = None;
        if let Some(mut pipe) = child.stderr.take() {
            let stderr = Arc::clone(&stderr);
            stderr_reader = Some(thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(count @ 1..) = pipe.read(&mut chunk) {
                    if let Ok(mut log) = stderr.lock() {
                        log.extend_from_slice(&chunk[..count]);
                    }
                }
            }));
        }

        // Read the first stdout line on a thread, so a server that never prints cannot hang us.
        let stdout = child.stdout.take();
        let (line_tx, line_rx) = mpsc::channel();
        if let Some(stdout) = stdout {
            thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let _ = line_tx.send(reader.read_line(&mut line).map(|_| line));
                // Keep draining stdout until the server exits.
                let _ = io::copy(&mut reader, &mut io::sink());
            });
        } else {
            let _ = line_tx.send(Err(io::Error::other("no stdout pipe")));
        }

        let addr = Arc::new(OnceLock::new());
        let first_line = FirstLine {
            line: line_rx,
            bin: bin.to_path_buf(),
            stderr: Arc::clone(&stderr),
            addr: Arc::clone(&addr),
        };
        let server = ServerProcess {
            child,
            addr,
            stderr,
            stderr_reader,
        };
        Ok((server, first_line))
    }

    /// The address the server really listens on (`0.0.0.0:0` until its `Listening on` line
    /// has been read, which [`ServerProcess::start`] always waits for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
            .get()
            .copied()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The process ID, for the demo's output.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to stderr so far (its request log).
    pub fn stderr_text(&self) -> String {
        let bytes = self
            .stderr
            .lock()
            .map(|log| log.clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Everything the server wrote to stderr, once it has exited: waits up to `timeout` for
    /// the last of it to be read, so a crashed server's last words are not lost to a race.
    pub fn stderr_text_after_exit(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while let Some(reader) = &self.stderr_reader {
            if reader.is_finished() || Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.stderr_text()
    }

    /// Waits until the stderr log contains `needle`, for at most `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr_text().contains(needle) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// `Some(status)` if the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a signal such as `INT` (Ctrl-C) or `TERM` to the process, with `kill(2)` through
    /// `nix`. Windows has no signals: there `INT` is sent as Ctrl-Break to the server's own
    /// process group ([`crate::ctrl_break`]), which the servers take as Ctrl-C, and any other
    /// name is an error (see [`SIGNALS_HERE`]).
    #[cfg(unix)]
    pub fn send_signal(&self, name: &str) -> io::Result<()> {
        use nix::sys::signal;
        use nix::unistd::Pid;

        let signal = signal_named(name)?;
        let pid = i32::try_from(self.pid())
            .map_err(|_| io::Error::other(format!("PID {} is out of range", self.pid())))?;
        signal::kill(Pid::from_raw(pid), signal).map_err(|errno| {
            io::Error::other(format!("kill -{name} {} failed: {errno}", self.pid()))
        })
    }

    #[cfg(windows)]
    pub fn send_signal(&self, name: &str) -> io::Result<()> {
        match name {
            "INT" => crate::ctrl_break::send_ctrl_break(self.pid()),
            _ => Err(io::Error::other(format!(
                "Windows has no SIG{name} to send; Ctrl-C (INT) is sent as Ctrl-Break"
            ))),
        }
    }

    #[cfg(not(any(unix, windows)))]
    pub fn send_signal(&self, name: &str) -> io::Result<()> {
        Err(io::Error::other(format!(
            "cannot send SIG{name}: this OS has no way to send Ctrl-C to another process"
        )))
    }

    /// Kills the process, and every process it started (a wrapper script's server, say, which
    /// would otherwise keep the port), and waits for it to end. The family is found before the
    /// kill: after it, the children belong to init. Linux and macOS; on Windows, the process
    /// alone.
    pub fn stop(&mut self) {
        if self.exit_status().is_none() {
            let family = descendants(self.pid());
            let _ = self.child.kill();
            kill_all(&family);
        }
        let _ = self.child.wait();
    }
}

/// Every process that `pid` started, and that they started, as the OS tells it now.
fn descendants(pid: u32) -> Vec<u32> {
    let parents = parent_of_each_process();
    let mut family = vec![pid];
    let mut next = 0;
    while next < family.len() {
        let parent = family[next];
        family.extend(
            parents
                .iter()
                .filter(|&&(_, of)| of == parent)
                .map(|&(child, _)| child),
        );
        next += 1;
    }
    family.remove(0);
    family
}

/// (process, its parent) for every process: from `/proc/*/stat` on Linux, `ps` on macOS;
/// none elsewhere.
fn parent_of_each_process() -> Vec<(u32, u32)> {
    #[cfg(target_os = "linux")]
    {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                // The state, then the parent.
                let parent = crate::system::proc_stat_fields(&stat)?
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some((pid, parent))
            })
            .collect()
    }
    #[cfg(target_os = "macos")]
    {
        let Ok(output) = Command::new("ps").args(["-A", "-o", "pid=,ppid="]).output() else {
            return Vec::new();
        };
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let mut numbers = line.split_whitespace().map(|n| n.parse::<u32>().ok());
                Some((numbers.next()??, numbers.next()??))
            })
            .collect()
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        Vec::new()
    }
}

#[cfg(unix)]
fn kill_all(pids: &[u32]) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for &pid in pids {
        if let Ok(pid) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_all(_pids: &[u32]) {}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `Listening on http://HOST:PORT` line a server spawned by
/// [`ServerProcess::spawn_command`] is to print first.
pub struct FirstLine {
    line: mpsc::Receiver<io::Result<String>>,
    bin: std::path::PathBuf,
    stderr: Arc<Mutex<Vec<u8>>>,
    addr: Arc<OnceLock<SocketAddr>>,
}

impl FirstLine {
    /// Waits for the line, up to 30 s, and returns (and records in the server) the address
    /// it names; an error says what the server printed instead, with its stderr.
    pub fn wait(self) -> io::Result<SocketAddr> {
        let bin = self.bin.display();
        let line = match self.line.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{bin} printed nothing within {START_TIMEOUT:?}"),
                ));
            }
        };
        let addr = parse_listening_line(&line).ok_or_else(|| {
            let bytes = self
                .stderr
                .lock()
                .map(|log| log.clone())
                .unwrap_or_default();
            let log = String::from_utf8_lossy(&bytes);
            io::Error::other(format!(
                "{bin} did not print `Listening on http://HOST:PORT` first; it printed {line:?}, \
                 and on stderr: {log:?}"
            ))
        })?;
        let _ = self.addr.set(addr);
        Ok(addr)
    }
}

/// The signal `INT`, `TERM` or another name without its `SIG`; an error names the unknown one.
#[cfg(unix)]
fn signal_named(name: &str) -> io::Result<nix::sys::signal::Signal> {
    format!("SIG{name}").parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a signal name such as INT or TERM"),
        )
    })
}

/// Reads `Listening on http://127.0.0.1:4321` (or `http://[::1]:4321`).
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.trim_end()
        .strip_prefix("Listening on http://")?
        .parse()
        .ok()
}

/// How long a fresh server gets to answer its first `GET /` (see [`warm_up`]).
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the server at `addr` one `GET /` and waits up to [`WARM_UP_TIMEOUT`] for its 200.
/// A process's first request pays for its start-up (code paged in, a runtime's threads
/// spawned); sent before a measurement, it keeps that cost out of what is measured. The
/// error says what came instead of the 200: `status 500`, or the client's error.
pub fn warm_up(addr: SocketAddr) -> Result<(), String> {
    let root = crate::client::get_request("/");
    let request = crate::client::Request::new(&root).within(WARM_UP_TIMEOUT);
    let answer = crate::client::exchange(addr, &request, Instant::now());
    match &answer.response {
        Ok(response) if response.status == 200 => Ok(()),
        Ok(response) => Err(format!("status {}", response.status)),
        Err(err) => Err(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        let v4 = parse_listening_line("Listening on http://127.0.0.1:4321\n");
        assert_eq!(v4, Some(SocketAddr::from(([127, 0, 0, 1], 4321))));
        let v6 = parse_listening_line("Listening on http://[::1]:80\n").expect("IPv6");
        assert_eq!(v6.port(), 80);
        assert_eq!(parse_listening_line("Listening on 127.0.0.1:1"), None);
    }

    #[cfg(unix)]
    #[test]
    fn signals_are_named_without_sig() {
        use nix::sys::signal::Signal;
        assert_eq!(signal_named("INT").ok(), Some(Signal::SIGINT));
        assert_eq!(signal_named("TERM").ok(), Some(Signal::SIGTERM));
        let err = signal_named("BOGUS").expect_err("not a signal");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_warm_up_wants_a_200() {
        use std::io::Write;
        // A server that answers every connection with `status`, once per connection.
        let answering = |status: &'static str| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            let addr = listener.local_addr().expect("its address");
            thread::spawn(move || {
                if let Ok((mut stream, _)) = listener.accept() {
                    let mut head = [0u8; 1024];
                    let _ = stream.read(&mut head);
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                }
            });
            addr
        };
        assert_eq!(warm_up(answering("200 OK")), Ok(()));
        assert_eq!(
            warm_up(answering("500 Internal Server Error")),
            Err("status 500".to_string())
        );
        // Nothing listening: the client's error, not a status.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            listener.local_addr().expect("its address")
        };
        let refused = warm_up(closed).expect_err("nothing listens");
        assert!(!refused.starts_with("status"), "{refused}");
    }
}
