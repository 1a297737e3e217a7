//! An in-memory stream for unit tests of a connection handler.
//!
//! It hands out its input in small pieces (so a handler that reads only once fails), then
//! reports end of input (a read of 0 bytes, as a socket does when the client closes), and keeps
//! every byte written to it. It implements std's `Read`/`Write`, futures-io's
//! `AsyncRead`/`AsyncWrite` (async-std, smol) and tokio's, so every async handler can be
//! tested, and std code that is generic over `Read`/`Write`. Stage 1's `handle_connection`
//! takes a `TcpStream` itself (it sets the socket's read timeout), so it is tested through a
//! real socket, by the conformance suite.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
pub struct MockStream {
    input: Vec<u8>,
    read_pos: usize,
    /// The most bytes one read hands out.
    piece_len: usize,
    /// Every byte the handler wrote, in order.
    pub written: Vec<u8>,
    /// How many times the handler flushed.
    pub flushes: usize,
}

impl MockStream {
    /// A stream whose reads return `input` in pieces of at most 16 bytes, then end of input.
    pub fn new(input: impl Into<Vec<u8>>) -> Self {
        MockStream {
            input: input.into(),
            piece_len: 16,
            ..Default::default()
        }
    }

    /// How many input bytes the handler has read.
    pub fn bytes_read(&self) -> usize {
        self.read_pos
    }

    pub fn written_text(&self) -> String {
        String::from_utf8_lossy(&self.written).into_owned()
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let rest = &self.input[self.read_pos..];
        let count = rest.len().min(buf.len()).min(self.piece_len);
        buf[..count].copy_from_slice(&rest[..count]);
        self.read_pos += count;
        count
    }
}

impl Read for MockStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl Write for MockStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

impl futures_io::AsyncRead for MockStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.get_mut().read_into(buf)))
    }
}

impl futures_io::AsyncWrite for MockStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().flush())
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncRead for MockStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let count = this.read_into(buf.initialize_unfilled());
        buf.advance(count);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MockStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_pieces_then_reports_end_of_input() {
        let mut mock = MockStream::new(vec![7u8; 20]);
        let mut buf = [0u8; 64];
        assert_eq!(mock.read(&mut buf).unwrap(), 16);
        assert_eq!(mock.read(&mut buf).unwrap(), 4);
        assert_eq!(mock.read(&mut buf).unwrap(), 0, "end of input");
        assert_eq!(mock.read(&mut buf).unwrap(), 0, "and it stays ended");
        mock.write_all(b"ab").unwrap();
        mock.write_all(b"cd").unwrap();
        assert_eq!(mock.written, b"abcd", "every write is kept");
    }
}
