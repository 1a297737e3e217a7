//! What the book server refuses, over real sockets: a foreign Host, too many connections, a head
//! dripped slowly, a symbolic link out of the book.

use super::*;

/// A built book in a temporary folder: `index.html`, and `leak.txt`, a symbolic link
/// (on Unix) to a file outside it. Removed when dropped.
struct TempBook {
    root: PathBuf,
}

impl TempBook {
    fn new(name: &str) -> TempBook {
        let root =
            std::env::temp_dir().join(format!("book-serve-socket-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("book")).expect("a temporary folder");
        fs::write(root.join("book/index.html"), "<p>the book</p>").expect("write a page");
        fs::write(root.join("secret.txt"), "outside the book").expect("write a file");
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("secret.txt"), root.join("book/leak.txt"))
            .expect("make a symbolic link");
        TempBook { root }
    }
}

impl Drop for TempBook {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Serves `book` on a free loopback port, on a thread of its own, with `limits`.
fn serve_book(book: &TempBook, limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("its address");
    let site = Arc::new(Site {
        docs: book.root.clone(),
        out: book.root.join("book"),
        // Nothing changes after this: no rebuild is tried.
        built: Mutex::new(SystemTime::now() + Duration::from_secs(3600)),
        hosts: allowed_hosts(addr.port(), None),
        limits,
    });
    thread::spawn(move || serve(&listener, &site));
    addr
}

const TEST_LIMITS: Limits = Limits {
    head_timeout: Duration::from_millis(1500),
    max_connections: 4,
};

/// Sends `request` and reads the whole answer (the server closes after it).
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn get(addr: SocketAddr, path: &str, host: Option<&str>) -> String {
    let host = host.map_or(String::new(), |host| format!("Host: {host}\r\n"));
    exchange(addr, &format!("GET {path} HTTP/1.1\r\n{host}\r\n"))
}

#[test]
fn only_a_host_that_names_the_server_is_answered() {
    let book = TempBook::new("host");
    let addr = serve_book(&book, TEST_LIMITS);
    let port = addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let answer = get(addr, "/", Some(&host));
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "{host}: {answer}"
        );
        assert!(answer.contains("X-Frame-Options: DENY\r\n"), "{answer}");
        assert!(
            answer.contains("Content-Security-Policy: frame-ancestors 'none'\r\n"),
            "{answer}"
        );
        assert!(answer.ends_with("<p>the book</p>"), "{answer}");
    }
    for (host, says) in [
        (
            Some(format!("evil.example:{port}")),
            "not this server's name",
        ),
        (Some("127.0.0.1".to_string()), "not this server's name"),
        (
            Some(format!("127.0.0.1:{}", port ^ 1)),
            "not this server's name",
        ),
        (
            Some(format!("localhost.evil.example:{port}")),
            "not this server's name",
        ),
        (None, "no Host header"),
    ] {
        let answer = get(addr, "/", host.as_deref());
        assert!(
            answer.starts_with("HTTP/1.1 403 Forbidden\r\n"),
            "{host:?}: {answer}"
        );
        assert!(answer.contains(says), "{host:?}: {answer}");
        assert!(answer.contains("Open http://127.0.0.1:"), "{answer}");
        assert!(answer.contains("X-Frame-Options: DENY\r\n"), "{answer}");
        assert!(!answer.contains("the book</p>"), "{answer}");
    }
    let two = exchange(
        addr,
        &format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n\r\n"),
    );
    assert!(two.contains("more than one Host header"), "{two}");
}

#[test]
fn connections_past_the_cap_get_a_503_and_the_server_recovers() {
    let book = TempBook::new("cap");
    let addr = serve_book(&book, TEST_LIMITS);
    // Idle connections that send nothing, each holding a thread until its head time runs out.
    let held: Vec<TcpStream> = (0..TEST_LIMITS.max_connections)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // Accepted in order: once the server has taken them all, the next is over the cap.
    thread::sleep(Duration::from_millis(200));
    // Read without sending: the 503 comes before any request is read.
    let mut extra = TcpStream::connect(addr).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a timeout");
    let mut refused = String::new();
    let _ = extra.read_to_string(&mut refused);
    assert!(
        refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{refused}"
    );
    assert!(
        refused.contains("already serves 4 connections at once"),
        "{refused}"
    );
    for stream in &held {
        let _ = stream.shutdown(Shutdown::Both);
    }
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = get(addr, "/", Some(&format!("127.0.0.1:{}", addr.port())));
        if answer.starts_with("HTTP/1.1 200 OK\r\n") {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {answer}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_head_dripped_slowly_is_closed_at_the_time_limit() {
    let book = TempBook::new("slow");
    let addr = serve_book(&book, TEST_LIMITS);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a timeout");
    let started = Instant::now();
    stream.write_all(b"GET / HTTP/1.1\r\n").expect("send");
    // A header byte every 300 ms: each read is quick, the whole head never ends.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    let closed_at = loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still open after 10 s"
        );
        let _ = stream.write_all(b"X");
        match stream.read(&mut chunk) {
            Ok(0) => break started.elapsed(),
            Ok(count) => answer.extend_from_slice(&chunk[..count]),
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => {
                break started.elapsed();
            }
            Err(_) => thread::sleep(Duration::from_millis(200)),
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(
        closed_at >= TEST_LIMITS.head_timeout
            && closed_at < TEST_LIMITS.head_timeout + Duration::from_secs(2),
        "closed after {closed_at:?}, the limit is {:?}",
        TEST_LIMITS.head_timeout
    );
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_book_is_not_served() {
    let book = TempBook::new("link");
    let addr = serve_book(&book, TEST_LIMITS);
    let host = format!("127.0.0.1:{}", addr.port());
    let answer = get(addr, "/leak.txt", Some(&host));
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.contains("/leak.txt is a symbolic link"), "{answer}");
    assert!(!answer.contains("outside the book"), "{answer}");
    // A link that stays inside the book is served.
    std::os::unix::fs::symlink(
        book.root.join("book/index.html"),
        book.root.join("book/home.html"),
    )
    .expect("make a symbolic link");
    let answer = get(addr, "/home.html", Some(&host));
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}
