//! Handling one connection with blocking I/O: read the request head, do the work, answer.
//!
//! Stage 1 calls this on its only thread; stage 2 calls the very same function on the
//! workers of a thread pool. Parsing, routing and the response bytes come from `server_core`,
//! so this file is only the I/O, and every read and write here *blocks its thread*.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use server_core::linger::{LINGER_BYTES, LINGER_TIME};
use server_core::{Config, HeadBuffer, HeadProgress, Reply, Work, counted_and_logged};

// ANCHOR: handler
/// Serves one connection and logs how it went. An I/O error (a client that resets or
/// disappears) is logged, never returned: it must not stop the server.
pub fn handle_connection(mut stream: TcpStream, config: &Config) {
    counted_and_logged(|| serve(&mut stream, config));
}

fn serve(stream: &mut TcpStream, config: &Config) -> io::Result<Option<Reply>> {
    let Some(reply) = read_request_head(stream, config.read_timeout)? else {
        return Ok(None); // The client closed, or sent nothing in time.
    };
    match reply.work {
        // A blocking sleep: this thread can do nothing else until it ends.
        Work::Sleep | Work::Block => thread::sleep(config.sleep),
        Work::Cpu => drop(server_core::cpu_work()),
        Work::None => {}
    }
    // A client that stops reading must not hold this thread forever either.
    stream.set_write_timeout(Some(config.read_timeout))?;
    stream.write_all(&reply.to_bytes())?;
    if reply.needs_lingering_close() {
        linger(stream);
    }
    Ok(Some(reply))
}
// ANCHOR_END: handler

/// The client of a refused request may still be sending, and closing with its bytes unread
/// would reset the connection and lose the answer: shut down our half, then read and drop
/// what comes until the client closes (bounded: see `server_core::linger`). The answer is
/// already written, so an error now only ends the wait.
fn linger(stream: &mut TcpStream) {
    let deadline = Instant::now() + LINGER_TIME;
    let _ = stream.shutdown(Shutdown::Write);
    let mut unread = (&*stream).take(LINGER_BYTES);
    let mut scratch = [0; 4096];
    loop {
        let time_left = deadline.saturating_duration_since(Instant::now());
        if time_left.is_zero() || stream.set_read_timeout(Some(time_left)).is_err() {
            return;
        }
        match unread.read(&mut scratch) {
            Ok(0) => return, // The client closed, or LINGER_BYTES are read.
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Reads until the whole head has arrived (the client may send it in many pieces), within
/// one deadline for the whole head: a client sending a byte a second must not hold the
/// thread forever. The buffer is dropped on return, before any waiting.
fn read_request_head(stream: &mut TcpStream, timeout: Duration) -> io::Result<Option<Reply>> {
    let deadline = Instant::now() + timeout;
    let mut head = HeadBuffer::new();
    loop {
        let time_left = deadline.saturating_duration_since(Instant::now());
        if time_left.is_zero() {
            return Ok(head.timed_out());
        }
        stream.set_read_timeout(Some(time_left))?;
        let count = match stream.read(head.free_space()) {
            Ok(count) => count,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // A read timeout is `WouldBlock` on Unix and `TimedOut` on Windows.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(head.timed_out());
            }
            Err(err) => return Err(err),
        };
        match head.filled(count) {
            HeadProgress::NeedMore => continue,
            HeadProgress::SendContinue(bytes) => stream.write_all(bytes)?,
            HeadProgress::ClosedWithoutRequest => return Ok(None),
            HeadProgress::Ready(reply) => return Ok(Some(reply)),
        }
    }
}
