//! `book serve`: the built pages over HTTP, with std's `TcpListener` and a thread per
//! connection. mdBook's own `serve` feature would add axum, tokio and a websocket to the
//! builder's first build for a live reload; this rebuilds instead when a source has changed
//! since the last build and a page is asked for, so reloading the page in the browser shows
//! the edit.
//!
//! It runs on laptops that also browse the web, so it answers only what names it: a `Host`
//! header of the loopback names with its port (or the `--host` given with `--allow-remote`),
//! else 403, which is what stops a DNS-rebinding page from reading the book's files through
//! the browser. It caps the connections served at once (503 past it), gives a client
//! [`HEAD_TIMEOUT`] for its whole request head, never serves a file that a symbolic link
//! places outside the built book, and may not be framed by another site.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// A browser sends its whole request head at once; a client that has not within this, however
/// it drips the bytes, is closed (a slow-loris client would otherwise hold a thread forever).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// A request head longer than this is refused (the pages need a short GET, nothing more).
const MAX_HEAD: usize = 8 * 1024;
/// Connections served at once, each on a thread of its own; past it a connection gets a 503.
/// A browser opens about 6 to one server; a few tabs and a reload stay well under this.
const MAX_CONNECTIONS: usize = 64;
/// How long an answer may take to be written to a client that does not read it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The headers on every answer: no other site may frame the pages (clickjacking), and the
/// browser takes each file as the type it is sent as.
const SAFETY_HEADERS: &str = "X-Frame-Options: DENY\r\n\
     Content-Security-Policy: frame-ancestors 'none'\r\n\
     X-Content-Type-Options: nosniff\r\n";

/// The book being served: where its sources are, where its pages are, and when they were built.
struct Site {
    docs: PathBuf,
    out: PathBuf,
    built: Mutex<SystemTime>,
    /// The `Host` header values it answers, lower case: see [`allowed_hosts`].
    hosts: Vec<String>,
    limits: Limits,
}

/// What one client may take: [`HEAD_TIMEOUT`] and [`MAX_CONNECTIONS`] (smaller in the tests).
#[derive(Clone, Copy)]
struct Limits {
    head_timeout: Duration,
    max_connections: usize,
}

const LIMITS: Limits = Limits {
    head_timeout: HEAD_TIMEOUT,
    max_connections: MAX_CONNECTIONS,
};

/// The address to listen on, refusing one that is not loopback unless `allow_remote`, as
/// `cargo xtask lab` does: whoever reaches the server reads every file of the book (and its
/// rebuilds run on this machine). The error is one line that says what to do.
pub fn listen_address(host: &str, port: u16, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr = match host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|err| format!("cannot resolve --host {host:?}: {err}"))?
            .next()
            .ok_or_else(|| format!("--host {host:?} resolves to no address"))?,
    };
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "--host {host} is not loopback: anyone who can reach it could read the book and \
             make this machine rebuild it, so the book is served only on 127.0.0.1 or ::1 \
             unless you add --allow-remote"
        ));
    }
    Ok(addr)
}

/// The `Host` header values the server answers, lower case: the loopback names and addresses
/// with its port (and without it on port 80, where browsers leave it out), and `remote_host`,
/// the `--host` given with `--allow-remote`, the same way. Anything else is a page that is
/// not this book's, such as a DNS-rebinding attacker's, and gets a 403.
fn allowed_hosts(port: u16, remote_host: Option<&str>) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "[::1]".to_string(),
    ];
    if let Some(host) = remote_host {
        let host = host.to_ascii_lowercase();
        // An IPv6 address is written in brackets in a Host header.
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        if !names.contains(&host) {
            names.push(host);
        }
    }
    let mut hosts: Vec<String> = names.iter().map(|name| format!("{name}:{port}")).collect();
    if port == 80 {
        hosts.extend(names);
    }
    hosts
}

pub fn run(docs: &Path, host: &str, port: u16, allow_remote: bool) -> ExitCode {
    let addr = match listen_address(host, port, allow_remote) {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let started = SystemTime::now();
    let out = match crate::build(docs) {
        Ok(out) => out,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(err) if err.kind() == io::ErrorKind::AddrInUse => {
            eprintln!(
                "error: port {port} on {host} is already in use (another `cargo xtask book \
                 --serve`?); stop it, or pick another port with --port {} or --port 0",
                port.wrapping_add(1).max(1)
            );
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("error: cannot listen on {host}:{port}: {err}; check --host and --port");
            return ExitCode::FAILURE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(bound) => bound,
        Err(err) => {
            eprintln!("error: listening, but cannot read the local address: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("Serving the book at http://{bound}/ (Ctrl-C stops it)");
    println!(
        "Edit a chapter in {} and reload the page: it is rebuilt first.",
        docs.join("src").display()
    );
    let remote_host = (allow_remote && !addr.ip().is_loopback()).then_some(host);
    let site = Arc::new(Site {
        docs: docs.to_path_buf(),
        out,
        built: Mutex::new(started),
        hosts: allowed_hosts(bound.port(), remote_host),
        limits: LIMITS,
    });
    serve(&listener, &site);
    ExitCode::SUCCESS
}

/// Counts a connection being served while it lives.
struct Serving(Arc<AtomicUsize>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts connections until the process ends, each answered on a thread of its own, at most
/// [`MAX_CONNECTIONS`] at once.
fn serve(listener: &TcpListener, site: &Arc<Site>) {
    let serving = Arc::new(AtomicUsize::new(0));
    let limit = site.limits.max_connections;
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if serving.fetch_add(1, Ordering::Relaxed) >= limit {
                    serving.fetch_sub(1, Ordering::Relaxed);
                    refuse_busy(stream, limit);
                    continue;
                }
                let guard = Serving(Arc::clone(&serving));
                let site = Arc::clone(site);
                let spawned = thread::Builder::new().spawn(move || {
                    let _guard = guard;
                    if let Err(err) = answer(&site, stream) {
                        eprintln!("a connection failed: {err}");
                    }
                });
                if let Err(err) = spawned {
                    eprintln!("cannot start a thread for a connection ({err}); it was closed");
                }
            }
            // One failed accept (a client that reset at once) is skipped; running out of
            // descriptors is not expected with the cap, so a pause is enough.
            Err(err) => {
                eprintln!("accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// The 503 of a connection past the cap, written without reading its request (it is small
/// and fits the socket's buffer; a client that does not read it loses it), then closed.
fn refuse_busy(mut stream: TcpStream, limit: usize) {
    let body = format!(
        "503 Service Unavailable: this book server already serves {limit} \
         connections at once, its limit; close some tabs or wait a moment, then reload.\n"
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(answer_head(503, "text/plain; charset=utf-8", body.len()).as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    // A request already here is read and dropped, so that closing does not reset the
    // connection (which can lose the answer); without waiting, which would stall accepting.
    if stream.set_nonblocking(true).is_ok() {
        let _ = stream.read(&mut [0u8; 4096]);
    }
}

/// Closes after an answer sent before the whole request was read: says the end first, then
/// reads and drops what the client still sends for a moment, so the close does not reset the
/// connection before the client has read the answer.
fn close_gently(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut chunk = [0u8; 4096];
    // At most 500 ms and 16 reads: the client's bytes are dropped, not served.
    for _ in 0..16 {
        if Instant::now() >= deadline || matches!(stream.read(&mut chunk), Ok(0) | Err(_)) {
            break;
        }
    }
}

/// The status line and headers of an answer of `length` bytes, ending with the blank line.
fn answer_head(status: u16, content_type: &str, length: usize) -> String {
    let reason = String::from_utf8_lossy(&status_text(status)).into_owned();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\nCache-Control: no-cache\r\n{SAFETY_HEADERS}\
         Connection: close\r\n\r\n"
    )
}

/// Reads one request and answers it, then closes the connection.
fn answer(site: &Site, mut stream: TcpStream) -> io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let limit = site.limits.head_timeout;
    let head = match read_head(&mut stream, limit)? {
        Head::Complete(head) => head,
        Head::TimedOut => {
            let body = format!(
                "408 Request Timeout: the request head did not arrive within {} ms\n",
                limit.as_millis()
            );
            stream
                .write_all(answer_head(408, "text/plain; charset=utf-8", body.len()).as_bytes())?;
            stream.write_all(body.as_bytes())?;
            stream.flush()?;
            close_gently(stream);
            return Ok(());
        }
        Head::Closed => return Ok(()), // Closed before a whole head: nothing to answer.
    };
    let (status, content_type, body, head_only) = match parse_request_line(&head) {
        Err(status) => (
            status,
            "text/plain; charset=utf-8",
            status_text(status),
            false,
        ),
        Ok(request) => match host_refusal(&head, &site.hosts) {
            Some(refusal) => (
                403,
                "text/plain; charset=utf-8",
                refusal.into_bytes(),
                request.head_only,
            ),
            None => match resolve(&site.out, &request.path) {
                Served::File(file) => {
                    if is_page(&file) {
                        rebuild_if_changed(site);
                    }
                    match fs::read(&file) {
                        Ok(bytes) => (200, content_type(&file), bytes, request.head_only),
                        Err(_) => not_found(site, request.head_only),
                    }
                }
                Served::OutsideLink => {
                    let body = format!(
                        "403 Forbidden: {} is a symbolic link that leads out of the built book; \
                         the book server serves only files inside it. Replace the link with \
                         the file itself.\n",
                        request.path
                    );
                    (
                        403,
                        "text/plain; charset=utf-8",
                        body.into_bytes(),
                        request.head_only,
                    )
                }
                Served::Missing => not_found(site, request.head_only),
            },
        },
    };
    stream.write_all(answer_head(status, content_type, body.len()).as_bytes())?;
    if !head_only {
        stream.write_all(&body)?;
    }
    stream.flush()
}

fn not_found(site: &Site, head_only: bool) -> (u16, &'static str, Vec<u8>, bool) {
    let page = fs::read(site.out.join("404.html")).unwrap_or_else(|_| status_text(404));
    (404, "text/html; charset=utf-8", page, head_only)
}

/// Why a request's `Host` header is refused, as the 403's body, or `None` if it names this
/// server (one of `hosts`, case aside).
fn host_refusal(head: &str, hosts: &[String]) -> Option<String> {
    let values: Vec<&str> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim())
        .collect();
    let welcome = hosts.first().map_or("127.0.0.1", String::as_str);
    let why = match values.as_slice() {
        [one] if hosts.iter().any(|host| host.eq_ignore_ascii_case(one)) => return None,
        [] => "the request has no Host header".to_string(),
        [one] => format!("the request is for Host {one:?}, not this server's name"),
        _ => "the request has more than one Host header".to_string(),
    };
    Some(format!(
        "403 Forbidden: {why}. This book server answers only requests for its own address \
         (http://{welcome}/ and the other loopback names with its port), so that a web page \
         from elsewhere cannot read the book through a name pointed at this machine. Open \
         http://{welcome}/, or serve with --host NAME --allow-remote to be reached as NAME.\n",
        welcome = welcome.replace("localhost", "127.0.0.1"),
    ))
}

/// How reading a request head ended.
enum Head {
    Complete(String),
    /// The whole head did not arrive within the time limit.
    TimedOut,
    /// The client closed (or reset) first.
    Closed,
}

/// The bytes up to the end of the request head, read within `limit` in all (not per read: a
/// client that drips a byte at a time gets no more time). A head over [`MAX_HEAD`] is cut
/// there: its request line is all that is read.
fn read_head(stream: &mut TcpStream, limit: Duration) -> io::Result<Head> {
    let deadline = Instant::now() + limit;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Head::TimedOut);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(Head::Closed),
            Ok(count) => head.extend_from_slice(&chunk[..count]),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Head::TimedOut);
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return Ok(Head::Closed),
            Err(err) => return Err(err),
        }
    }
    Ok(Head::Complete(String::from_utf8_lossy(&head).into_owned()))
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    /// The path, percent-decoded, without the query or the fragment.
    path: String,
    head_only: bool,
}

/// Reads `GET /path?query HTTP/1.1`; an error is the status to answer with.
fn parse_request_line(head: &str) -> Result<Request, u16> {
    let line = head.lines().next().unwrap_or_default();
    let mut words = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(400);
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Err(405),
    };
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let path = percent_decode(path).ok_or(400u16)?;
    Ok(Request { path, head_only })
}

/// `%20` and friends decoded; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What a URL path names under the built book.
#[derive(Debug, PartialEq, Eq)]
enum Served {
    File(PathBuf),
    /// A file there, but reached through a symbolic link that leads out of the book.
    OutsideLink,
    /// Nothing, or a path that tries to leave the book (`..`, a drive, a backslash trick).
    Missing,
}

/// The file under `root` that `url_path` names (a folder's `index.html`), if it is really
/// inside `root` once every symbolic link on the way is followed.
fn resolve(root: &Path, url_path: &str) -> Served {
    let Some(relative) = relative_file(url_path) else {
        return Served::Missing;
    };
    let mut file = root.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    if !file.is_file() {
        return Served::Missing;
    }
    match (fs::canonicalize(root), fs::canonicalize(&file)) {
        (Ok(root), Ok(real)) if real.starts_with(&root) => Served::File(file),
        (Ok(_), Ok(_)) => Served::OutsideLink,
        _ => Served::Missing,
    }
}

/// `url_path` as a path relative to the site's root, with nothing but plain names in it.
fn relative_file(url_path: &str) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for part in url_path.split('/').filter(|part| !part.is_empty()) {
        // A backslash or a colon would mean a separator or a drive on Windows.
        if part.contains(['\\', ':']) {
            return None;
        }
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) => relative.push(name),
            (Some(Component::CurDir), None) => {}
            _ => return None,
        }
    }
    Some(relative)
}

/// Whether a rebuild is worth checking for before sending `file`: the pages, not their assets.
fn is_page(file: &Path) -> bool {
    file.extension().is_some_and(|ext| ext == "html")
}

/// Rebuilds the book if a file under its folder (other than the built pages) changed after
/// the last build. A failed rebuild is reported and the previous pages are served.
fn rebuild_if_changed(site: &Site) {
    let Ok(mut built) = site.built.lock() else {
        return;
    };
    let changed = newest_change(&site.docs, &site.out);
    if changed.is_none_or(|changed| changed <= *built) {
        return;
    }
    let now = SystemTime::now();
    match crate::build(&site.docs) {
        Ok(_) => eprintln!("a source changed: rebuilt the book"),
        Err(err) => eprintln!("a source changed, and the rebuild failed: {err}"),
    }
    *built = now;
}

/// The latest modification time of any file under `dir`, leaving out the folder `skip`.
fn newest_change(dir: &Path, skip: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path == skip {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let time = if metadata.is_dir() {
            newest_change(&path, skip)
        } else {
            metadata.modified().ok()
        };
        newest = newest.max(time);
    }
    newest
}

fn content_type(file: &Path) -> &'static str {
    let ext = file
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("woff") => "font/woff",
        Some("woff2") => "font/woff2",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The reason phrase of a status, as the body of a plain error answer.
fn status_text(status: u16) -> Vec<u8> {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        503 => "Service Unavailable",
        _ => "Error",
    }
    .as_bytes()
    .to_vec()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod socket_tests;
