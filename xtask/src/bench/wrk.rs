//! `cargo xtask bench --compare-wrk`: the same servers measured by an outside client, wrk,
//! in the same rounds, and nginx beside axum as a second yardstick. Both are Debian packages
//! (`apt-get install wrk nginx`); where one is missing, the comparison says it was skipped.
//!
//! - [`wrk`]: runs `wrk -t2 -c16 -d T --latency -H 'Connection: close'` on a server and reads
//!   its requests/s and errors.
//! - [`Nginx`]: nginx started with a generated configuration (below, and in the book's chapter
//!   "What it costs") in a directory of its own, serving `shared-assets/hello.html` with two
//!   workers and an access log in a file; stopped by its PID when dropped.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// wrk's threads: as many as the bench's own client runs on, with as many connections as it
/// has clients, so that the two clients differ in their code, not in their shape.
pub const WRK_THREADS: usize = measure::load::CLIENT_THREADS;

/// Where a program is on `PATH` (and in /usr/sbin, where Debian puts nginx), if anywhere.
pub fn find(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")]);
    dirs.into_iter()
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// What one wrk run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct WrkRun {
    pub per_second: f64,
    /// Socket errors (connect, read, write, timeout) and non-2xx answers wrk counted.
    pub errors: u64,
}

/// `wrk -t2 -cC -dT --latency -H 'Connection: close' http://ADDR/`.
pub fn wrk(
    wrk: &Path,
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
) -> Result<WrkRun, String> {
    let output = Command::new(wrk)
        .arg(format!("-t{}", WRK_THREADS.min(connections)))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .args(["-H", "Connection: close"])
        .arg(format!("http://{addr}/"))
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", wrk.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output: {text:?}"))
}

fn parse_wrk(text: &str) -> Option<WrkRun> {
    let per_second = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "Socket errors: connect 0, read 3, write 0, timeout 0"
            errors += rest
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += rest.trim().parse::<u64>().unwrap_or(0);
        }
    }
    Some(WrkRun { per_second, errors })
}

/// nginx's configuration: two workers, the stages' page at `/` with the same Content-Type,
/// `Connection: close` (keepalive off), and an access line per request written to a file.
pub fn nginx_conf(dir: &Path, port: u16, root: &Path) -> String {
    let dir = dir.display();
    let root = root.display();
    format!(
        "\
daemon off;
master_process on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout 0;
    server_tokens off;
    etag off;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = / {{
            types {{ }}
            default_type \"text/html; charset=utf-8\";
            try_files /hello.html =404;
        }}
    }}
}}
"
    )
}

/// A running nginx, stopped by its PID (the master, which stops its workers) when dropped.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
}

impl Nginx {
    /// Starts nginx on a free port of 127.0.0.1 with [`nginx_conf`] in `dir`, serving the
    /// pages in `assets`, and waits until it accepts a connection.
    pub fn start(nginx: &Path, dir: &Path, assets: &Path) -> Result<Nginx, String> {
        // nginx's workers drop root to an unprivileged user, who may not be able to read a
        // checkout in a private folder (a fresh `mktemp -d` clone is 0700): serve copies of
        // the pages from nginx's own folder instead.
        let root = dir.join("root");
        std::fs::create_dir_all(&root).map_err(|err| format!("cannot make {root:?}: {err}"))?;
        for page in ["hello.html", "404.html"] {
            std::fs::copy(assets.join(page), root.join(page))
                .map_err(|err| format!("cannot copy {page} into {root:?}: {err}"))?;
        }
        // A free port: bind 0, note it, let it go (another process could take it meanwhile;
        // then nginx fails to start and says so).
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map_err(|err| format!("cannot find a free port: {err}"))?
            .port();
        let conf = dir.join("nginx.conf");
        std::fs::File::create(&conf)
            .and_then(|mut file| file.write_all(nginx_conf(dir, port, &root).as_bytes()))
            .map_err(|err| format!("cannot write {conf:?}: {err}"))?;
        let mut child = Command::new(nginx)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", nginx.display()))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut message = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = io::Read::read_to_string(&mut err, &mut message);
                }
                return Err(format!("nginx exited ({status}): {}", message.trim()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("nginx did not accept connections within 10 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx { child, addr })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: nginx's master stops its workers and exits ("fast shutdown").
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  2 threads and 16 connections\n\
                    \x20 Socket errors: connect 0, read 3, write 1, timeout 0\n\
                    \x20 Non-2xx or 3xx responses: 2\nRequests/sec:  20408.57\n";
        assert_eq!(
            parse_wrk(text),
            Some(WrkRun {
                per_second: 20408.57,
                errors: 6
            })
        );
        assert_eq!(parse_wrk("nothing"), None);
    }

    /// Needs wrk and nginx (Debian: `apt-get install wrk nginx`); says so where they are not.
    #[test]
    fn wrk_measures_nginx_serving_the_hello_page() {
        let (Some(wrk_path), Some(nginx_path)) = (find("wrk"), find("nginx")) else {
            eprintln!("skipped: wrk or nginx is not installed (apt-get install wrk nginx)");
            return;
        };
        let dir = std::env::temp_dir().join(format!("xtask-nginx-test-{}", std::process::id()));
        let assets = crate::checkout::workspace_root()
            .expect("the checkout")
            .join("shared-assets");
        let nginx = Nginx::start(&nginx_path, &dir, &assets).expect("nginx starts");
        let answer = measure::client::get(nginx.addr, "/");
        let response = answer.response.expect("nginx answers");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(response.header("connection"), Some("close"));
        assert_eq!(
            response.body_text(),
            include_str!("../../../shared-assets/hello.html")
        );
        let run = wrk(&wrk_path, nginx.addr, 4, Duration::from_secs(1)).expect("wrk runs");
        assert!(run.per_second > 0.0);
        assert_eq!(run.errors, 0);
        drop(nginx);
        let logged = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
        assert!(logged.lines().count() > 1, "one access line per request");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
