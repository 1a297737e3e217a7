//! The book server's parsing and paths, without sockets.

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
    assert_eq!(resolve(&root, "/"), Served::File(root.join("index.html")));
    assert_eq!(
        resolve(&root, "/chapter/"),
        Served::File(chapter.join("index.html"))
    );
    assert_eq!(resolve(&root, "/nothing.html"), Served::Missing);
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
