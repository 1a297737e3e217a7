//! Writing to stdout or stderr when the reader may leave early: `cargo xtask diff 4 5 | head`
//! closes the pipe after ten lines, and `print!` would then panic. A reader that has all it
//! wants is not an error, so a write that fails is dropped.

use std::io::Write;

/// Writes `text` to stdout, and flushes it.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes `text` to stderr.
pub fn stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}
