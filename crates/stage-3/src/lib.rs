//! Handling one connection with async I/O: read the request head, do the work, answer.
//!
//! The same steps as stage 1's handler, with `.await` wherever stage 1 blocked. Stages 3, 4
//! and 5 all call these functions unchanged: what differs between them is only how many
//! connections are driven at once, and on how many threads.
//!
//! There is one handler per kind of async I/O. async-std, smol and mini-runtime share the
//! `futures-io` traits, so they share [`handle_futures_io_connection`] and differ only in
//! their timer (and in how async-std's stream shuts down its sending half); tokio has its own
//! traits, so it has its own copy of the same few lines.

use std::future::Future;
use std::io;
use std::thread;
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use server_core::linger::{LINGER_BYTES, LINGER_TIME};
use server_core::{
    Config, HeadBuffer, HeadProgress, Reply, Work, counted_and_logged_async, cpu_work,
};

/// async-std: the default runtime of stages 3 to 5, because the Async Book uses it.
/// It is discontinued (RUSTSEC-2025-0052): smol is its successor. Use smol or tokio for
/// new code.
pub mod on_async_std {
    use std::net::Shutdown;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use async_std::net::TcpStream;

    use super::*;

    pub fn handle_connection(stream: TcpStream, config: &Config) -> impl Future<Output = ()> {
        handle_futures_io_connection(SendingHalfCloses(stream), config, async_std::task::sleep)
    }

    /// async-std's stream, except that `close` shuts down its sending half, as smol's does:
    /// async-std's own `close` only flushes (async-io 2 changed it), and a lingering close
    /// must let the client see the end of the answer while the server still reads.
    struct SendingHalfCloses(TcpStream);

    impl AsyncRead for SendingHalfCloses {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for SendingHalfCloses {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(self.0.shutdown(Shutdown::Write))
        }
    }
}

/// smol: small, and async-std's successor. Same I/O traits as async-std, its own timer.
pub mod on_smol {
    use super::*;

    pub fn handle_connection(
        stream: impl AsyncRead + AsyncWrite + Unpin,
        config: &Config,
    ) -> impl Future<Output = ()> {
        let sleep = |delay| async move {
            smol::Timer::after(delay).await;
        };
        handle_futures_io_connection(stream, config, sleep)
    }
}

/// mini-runtime: the runtime of our own (crates/mini-runtime), small enough to read. The
/// same `futures-io` traits again, and its own timer.
pub mod on_mini {
    use super::*;

    pub fn handle_connection(
        stream: impl AsyncRead + AsyncWrite + Unpin,
        config: &Config,
    ) -> impl Future<Output = ()> {
        handle_futures_io_connection(stream, config, mini_runtime::sleep)
    }
}

/// tokio: the most used runtime. Its own I/O traits, so its own copy of the handler.
pub mod on_tokio {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    use super::*;

    /// Serves one connection and logs how it went; errors are logged, never returned.
    pub fn handle_connection(
        stream: impl AsyncRead + AsyncWrite + Unpin,
        config: &Config,
    ) -> impl Future<Output = ()> {
        counted_and_logged_async(serve(stream, config))
    }

    async fn serve(
        mut stream: impl AsyncRead + AsyncWrite + Unpin,
        config: &Config,
    ) -> io::Result<Option<Reply>> {
        let mut head = HeadBuffer::new();
        let read = read_request_head(&mut stream, &mut head);
        let reply = match tokio::time::timeout(config.read_timeout, read).await {
            Ok(read) => read?,
            Err(_elapsed) => head.timed_out(),
        };
        drop(head); // Let the buffer go before waiting: a sleeping connection holds little.
        let Some(reply) = reply else {
            return Ok(None); // The client closed, or sent nothing in time.
        };
        do_work(&reply, config, tokio::time::sleep).await;
        stream.write_all(&reply.to_bytes()).await?;
        if reply.needs_lingering_close() {
            // Boxed: held inline, tokio's copy would make every connection's future bigger.
            let _ = Box::pin(tokio::time::timeout(LINGER_TIME, linger(&mut stream))).await;
        }
        Ok(Some(reply))
    }

    /// As [`super::linger`], with tokio's traits.
    async fn linger(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> io::Result<()> {
        stream.shutdown().await?;
        let mut unread = stream.take(LINGER_BYTES);
        tokio::io::copy(&mut unread, &mut tokio::io::sink()).await?;
        Ok(())
    }

    async fn read_request_head(
        stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
        head: &mut HeadBuffer,
    ) -> io::Result<Option<Reply>> {
        loop {
            let count = stream.read(head.free_space()).await?;
            match head.filled(count) {
                HeadProgress::NeedMore => continue,
                // Boxed, as in `super::read_request_head`.
                HeadProgress::SendContinue(bytes) => Box::pin(stream.write_all(bytes)).await?,
                HeadProgress::ClosedWithoutRequest => return Ok(None),
                HeadProgress::Ready(reply) => return Ok(Some(reply)),
            }
        }
    }

    /// A multi-threaded tokio runtime, as `#[tokio::main]` would build. Every tokio stage
    /// starts the same one, so that the stages differ only in their accept loop.
    pub fn runtime() -> tokio::runtime::Runtime {
        let built = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build();
        built.unwrap_or_else(|err| {
            eprintln!("error: cannot start the tokio runtime: {err}");
            std::process::exit(1)
        })
    }
}

// ANCHOR: handler
/// Serves one connection over the `futures-io` traits (async-std, smol, mini-runtime) and
/// logs how it went. `sleep` is the runtime's timer. Errors are logged, never returned.
pub fn handle_futures_io_connection<F: Future<Output = ()>>(
    stream: impl AsyncRead + AsyncWrite + Unpin,
    config: &Config,
    sleep: impl Fn(Duration) -> F,
) -> impl Future<Output = ()> {
    counted_and_logged_async(serve(stream, config, sleep))
}

async fn serve<F: Future<Output = ()>>(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    config: &Config,
    sleep: impl Fn(Duration) -> F,
) -> io::Result<Option<Reply>> {
    let mut head = HeadBuffer::new();
    // Whichever finishes first: the head, or the client's time to send it.
    let read = futures_lite::future::or(
        async { Some(read_request_head(&mut stream, &mut head).await) },
        async {
            sleep(config.read_timeout).await;
            None
        },
    );
    let reply = match read.await {
        Some(read) => read?,
        None => head.timed_out(),
    };
    drop(head); // Let the buffer go before waiting: a sleeping connection holds little.
    let Some(reply) = reply else {
        return Ok(None); // The client closed, or sent nothing in time.
    };
    do_work(&reply, config, &sleep).await;
    stream.write_all(&reply.to_bytes()).await?;
    if reply.needs_lingering_close() {
        let lingering = async { drop(linger(&mut stream).await) };
        futures_lite::future::or(lingering, sleep(LINGER_TIME)).await;
    }
    Ok(Some(reply))
}
// ANCHOR_END: handler

/// The client of a refused request may still be sending, and closing with its bytes unread
/// would reset the connection and lose the answer: shut down our half, then read and drop
/// what comes until the client closes (bounded in bytes here, in time by the caller: see
/// `server_core::linger`). The answer is already written, so an error only ends the wait.
async fn linger(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> io::Result<()> {
    stream.close().await?;
    futures_lite::io::copy(stream.take(LINGER_BYTES), &mut futures_lite::io::sink()).await?;
    Ok(())
}

/// Reads until the whole head has arrived. Each `.await` waits for the client without
/// blocking the thread: other tasks run meanwhile.
async fn read_request_head(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    head: &mut HeadBuffer,
) -> io::Result<Option<Reply>> {
    loop {
        let count = stream.read(head.free_space()).await?;
        match head.filled(count) {
            HeadProgress::NeedMore => continue,
            // Boxed: `100 Continue` is rare. Held inline, its write made every connection's
            // future 80 bytes bigger, waiting ones included; boxed, 48.
            HeadProgress::SendContinue(bytes) => Box::pin(stream.write_all(bytes)).await?,
            HeadProgress::ClosedWithoutRequest => return Ok(None),
            HeadProgress::Ready(reply) => return Ok(Some(reply)),
        }
    }
}

// ANCHOR: do_work
/// The work a request asks for before its answer.
async fn do_work<F: Future<Output = ()>>(
    reply: &Reply,
    config: &Config,
    runtime_sleep: impl Fn(Duration) -> F,
) {
    match reply.work {
        // The runtime's timer: this task waits, its thread is free for other tasks.
        Work::Sleep => runtime_sleep(config.sleep).await,
        // THE MISTAKE `/block` demonstrates: a blocking call inside async code. The
        // thread sleeps, and every task that shares it sleeps too. Never do this; use
        // the runtime's timer, or move blocking work to `spawn_blocking`.
        Work::Block => thread::sleep(config.sleep),
        // Real computation also holds the thread; a multi-threaded runtime has others.
        Work::Cpu => drop(cpu_work()),
        Work::None => {}
    }
}
// ANCHOR_END: do_work
