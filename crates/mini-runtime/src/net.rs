//! TCP: a listener and a stream over non-blocking sockets, registered with the reactor.
//!
//! Each read, write or accept is tried at once; when the OS says it would block, the task
//! waits for the reactor (see [`crate::reactor`]). The stream implements the `futures-io`
//! traits, the ones async-std and smol implement, so stage 3's handler runs on it unchanged.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use mio::Interest;

use crate::reactor::{Direction, Source, reactor};

/// A listening socket; [`TcpListener::incoming`] is its stream of connections.
pub struct TcpListener {
    socket: mio::net::TcpListener,
    source: Arc<Source>,
}

impl TcpListener {
    /// Listens on `address`. (Async like async-std's, so the stage files read the same; the
    /// system calls do not block.)
    pub async fn bind(address: impl ToSocketAddrs) -> io::Result<TcpListener> {
        // std's bind, as the blocking stages use (with the same options), then made
        // non-blocking for mio.
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let mut socket = mio::net::TcpListener::from_std(listener);
        let local = socket.local_addr()?;
        let source = reactor().register(&mut socket, Interest::READABLE, || {
            format!("listener {local}")
        })?;
        Ok(TcpListener { socket, source })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    // ANCHOR: poll_accept
    /// Accepts a connection if one is waiting; otherwise waits for the listener to be
    /// readable.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        self.source
            .poll_io(Direction::Read, cx, || self.socket.accept())
            .map(|accepted| accepted.and_then(|(socket, peer)| TcpStream::new(socket, peer)))
    }
    // ANCHOR_END: poll_accept

    /// The connections, as they come: a stream that never ends, of connections or of the
    /// errors `accept` returned.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        reactor().deregister(&mut self.socket, &self.source);
    }
}

/// The stream of connections [`TcpListener::incoming`] returns.
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener.poll_accept(cx).map(Some)
    }
}

/// A connection, readable and writable without blocking a thread.
pub struct TcpStream {
    socket: mio::net::TcpStream,
    source: Arc<Source>,
}

impl TcpStream {
    fn new(mut socket: mio::net::TcpStream, peer: SocketAddr) -> io::Result<TcpStream> {
        let source =
            reactor().register(&mut socket, Interest::READABLE | Interest::WRITABLE, || {
                format!("connection from {peer}")
            })?;
        Ok(TcpStream { socket, source })
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        reactor().deregister(&mut self.socket, &self.source);
    }
}

// ANCHOR: poll_read
impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let socket = &this.socket;
        this.source
            .poll_io(Direction::Read, cx, || (&*socket).read(buffer))
    }
}
// ANCHOR_END: poll_read

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let socket = &this.socket;
        this.source
            .poll_io(Direction::Write, cx, || (&*socket).write(bytes))
    }

    /// A TCP socket has no buffer of ours to flush: a write hands its bytes to the kernel.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.socket.shutdown(Shutdown::Write))
    }
}
