//! `book serve`: the built pages over HTTP, with std's `TcpListener` and a thread per
//! connection. mdBook's own `serve` feature would add axum, tokio and a websocket to the
//! builder's first build for a live reload; this rebuilds instead when a source has changed
//! since the last build and a page is asked for, so reloading the page in the browser shows
//! the edit.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

/// A browser sends its request at once; a client that does not is closed after this.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A request head longer than this is refused (the pages need a short GET, nothing more).
const MAX_HEAD: usize = 8 * 1024;

/// The book being served: where its sources are, where its pages are, and when they were built.
struct Site {
    docs: PathBuf,
    out: PathBuf,
    built: Mutex<SystemTime>,
}

pub fn run(docs: &Path, host: &str, port: u16) -> ExitCode {
    let started = SystemTime::now();
    let out = match crate::build(docs) {
        Ok(out) => out,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind((host, port)) {
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
    match listener.local_addr() {
        Ok(addr) => println!("Serving the book at http://{addr}/ (Ctrl-C stops it)"),
        Err(err) => {
            eprintln!("error: listening, but cannot read the local address: {err}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "Edit a chapter in {} and reload the page: it is rebuilt first.",
        docs.join("src").display()
    );
    let site = Arc::new(Site {
        docs: docs.to_path_buf(),
        out,
        built: Mutex::new(started),
    });
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let site = Arc::clone(&site);
                thread::spawn(move || {
                    if let Err(err) = answer(&site, stream) {
                        eprintln!("a connection failed: {err}");
                    }
                });
            }
            // One failed accept (a client that reset at once) is skipped; running out of
            // descriptors is not expected from one reader's browser, so a pause is enough.
            Err(err) => {
                eprintln!("accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    ExitCode::SUCCESS
}

/// Reads one request and answers it, then closes the connection.
fn answer(site: &Site, mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let head = match read_head(&mut stream)? {
        Some(head) => head,
        None => return Ok(()), // Closed or timed out before a whole head: nothing to answer.
    };
    let (status, content_type, body, head_only) = match parse_request_line(&head) {
        Err(status) => (
            status,
            "text/plain; charset=utf-8",
            status_text(status),
            false,
        ),
        Ok(request) => {
            let file = resolve(&site.out, &request.path);
            if file.as_deref().is_some_and(is_page) {
                rebuild_if_changed(site);
            }
            match file.map(|file| fs::read(&file).map(|bytes| (file, bytes))) {
                Some(Ok((file, bytes))) => (200, content_type(&file), bytes, request.head_only),
                _ => {
                    let page =
                        fs::read(site.out.join("404.html")).unwrap_or_else(|_| status_text(404));
                    (404, "text/html; charset=utf-8", page, request.head_only)
                }
            }
        }
    };
    let reason = String::from_utf8_lossy(&status_text(status)).into_owned();
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if !head_only {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// The bytes up to the end of the request head, or `None` if the client closed or went quiet
/// first. A head over [`MAX_HEAD`] is cut there: its request line is all that is read.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(count) => head.extend_from_slice(&chunk[..count]),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(err),
        }
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
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

/// The file under `root` that `url_path` names (a folder's `index.html`), or `None` when there
/// is none or the path tries to leave `root` (`..`, a drive, a backslash trick).
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = relative_file(url_path)?;
    let file = root.join(relative);
    if file.is_dir() {
        let index = file.join("index.html");
        index.is_file().then_some(index)
    } else {
        file.is_file().then_some(file)
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
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
    .as_bytes()
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_request_line() {
        assert_eq!(
            parse_request_line("GET /ch%201.html?x=1#top HTTP/1.1\r\nHost: a\r\n\r\n"),
            Ok(Request {
                path: "/ch 1.html".into(),
                head_only: false
            })
        );
        assert_eq!(
            parse_request_line("HEAD / HTTP/1.0\r\n\r\n").map(|r| r.head_only),
            Ok(true)
        );
        assert_eq!(parse_request_line("POST / HTTP/1.1\r\n\r\n"), Err(405));
        assert_eq!(parse_request_line("GET /\r\n\r\n"), Err(400));
        assert_eq!(parse_request_line("GET x HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(parse_request_line("GET /%zz HTTP/1.1\r\n\r\n"), Err(400));
    }

    #[test]
    fn paths_never_leave_the_site() {
        assert_eq!(relative_file("/"), Some(PathBuf::new()));
        assert_eq!(
            relative_file("/stage-1/./index.html"),
            Some(Path::new("stage-1").join("index.html"))
        );
        assert_eq!(relative_file("/../secret"), None);
        assert_eq!(relative_file("/a/../../b"), None);
        assert_eq!(relative_file("/..\\x"), None);
        assert_eq!(relative_file("/C:/Windows"), None);
    }

    #[test]
    fn folders_get_their_index_and_missing_files_nothing() {
        let root = std::env::temp_dir().join(format!("book-serve-test-{}", std::process::id()));
        let chapter = root.join("chapter");
        fs::create_dir_all(&chapter).expect("a temporary folder");
        fs::write(root.join("index.html"), "home").expect("write a file");
        fs::write(chapter.join("index.html"), "chapter").expect("write a file");
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/chapter/"),
            Some(chapter.join("index.html"))
        );
        assert_eq!(resolve(&root, "/nothing.html"), None);
        assert!(newest_change(&root, &chapter).is_some());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(
            content_type(Path::new("a.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("fonts/x.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
        assert!(is_page(Path::new("a/b.html")));
        assert!(!is_page(Path::new("a/b.css")));
    }
}
