//! Handling one connection with blocking I/O: read the request head, do the work, answer.
//!
//! Stage 1 calls this on its only thread; stage 2 calls the very same function on the
//! workers of a thread pool. Parsing, routing and the response bytes come from `server_core`,
//! so this file is only the I/O, and every read and write here *blocks its thread*.

use std::io::{self, Read, Write};
use std::thread;
use std::time::Instant;

use server_core::{Config, HeadBuffer, HeadProgress, Reply, Work, log_connection};

/// Serves one connection and logs how it went. An I/O error (a client that resets or
/// disappears) is logged, never returned: it must not stop the server.
pub fn handle_connection(mut stream: impl Read + Write, config: &Config) {
    let started = Instant::now();
    let outcome = serve(&mut stream, config);
    log_connection(started, &outcome);
}

fn serve(stream: &mut (impl Read + Write), config: &Config) -> io::Result<Option<Reply>> {
    let Some(reply) = read_request_head(stream)? else {
        return Ok(None); // The client closed without asking anything.
    };
    match reply.work {
        // A blocking sleep: this thread can do nothing else until it ends.
        Work::Sleep | Work::Block => thread::sleep(config.sleep),
        Work::Cpu => drop(server_core::cpu_work()),
        Work::None => {}
    }
    stream.write_all(&reply.to_bytes())?;
    Ok(Some(reply))
}

/// Reads until the whole head has arrived (the client may send it in many pieces).
/// The buffer is dropped on return, before any waiting.
fn read_request_head(stream: &mut impl Read) -> io::Result<Option<Reply>> {
    let mut head = HeadBuffer::new();
    loop {
        let count = match stream.read(head.free_space()) {
            Ok(count) => count,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        match head.filled(count) {
            HeadProgress::NeedMore => continue,
            HeadProgress::ClosedWithoutRequest => return Ok(None),
            HeadProgress::Ready(reply) => return Ok(Some(reply)),
        }
    }
}
