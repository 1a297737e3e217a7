//! The runtime's parts, each doing its one job: the timer waits, spawned tasks run on the
//! worker threads and give their output back, and the TCP types carry bytes both ways
//! without blocking a thread.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use mini_runtime::executor::WORKER_NAME;
use mini_runtime::{TcpListener, block_on, sleep, spawn};

#[test]
fn sleep_waits_its_delay_and_no_longer_than_needed() {
    let started = Instant::now();
    block_on(sleep(Duration::from_millis(50)));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    // Generous: the machine may be busy, but a lost wake-up would hang, not run late.
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn the_soonest_timer_fires_first_even_when_set_last() {
    let order = block_on(async {
        let late = spawn(async {
            sleep(Duration::from_millis(300)).await;
            Instant::now()
        });
        let early = spawn(async {
            sleep(Duration::from_millis(20)).await;
            Instant::now()
        });
        (early.await, late.await)
    });
    assert!(order.0 < order.1);
}

#[test]
fn spawned_tasks_run_on_named_worker_threads_and_return_their_output() {
    let (name, sum) = block_on(spawn(async {
        let name = std::thread::current().name().map(str::to_string);
        let parts: Vec<_> = (1..=10u64).map(|n| spawn(async move { n * n })).collect();
        let mut sum = 0;
        for part in parts {
            sum += part.await;
        }
        (name, sum)
    }));
    assert_eq!(name.as_deref(), Some(WORKER_NAME));
    assert_eq!(sum, 385);
}

/// Polls a futures-io read to its end, the way a handler's `read` would.
async fn read_some(stream: &mut mini_runtime::TcpStream, buffer: &mut [u8]) -> usize {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_read(cx, buffer))
        .await
        .unwrap_or(0)
}

#[test]
fn a_connection_reads_what_the_client_sends_late_and_answers() {
    let answer = block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        // A blocking client on its own thread that waits before sending, so the server's
        // read finds nothing at first and must wait for the reactor.
        let client = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let mut stream = std::net::TcpStream::connect(address)?;
            std::thread::sleep(Duration::from_millis(100));
            stream.write_all(b"ping")?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer)?;
            Ok(answer)
        });
        let mut incoming = listener.incoming();
        let accepted = std::future::poll_fn(|cx| std::pin::Pin::new(&mut incoming).poll_next(cx));
        let mut stream = match accepted.await {
            Some(stream) => stream?,
            None => return Err(std::io::Error::other("incoming ended")),
        };
        let mut buffer = [0; 16];
        let count = read_some(&mut stream, &mut buffer).await;
        assert_eq!(&buffer[..count], b"ping");
        let written =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_write(cx, b"pong"))
                .await?;
        assert_eq!(written, 4);
        drop(stream);
        client
            .join()
            .map_err(|_| std::io::Error::other("client panicked"))?
    });
    assert_eq!(answer.ok().as_deref(), Some(&b"pong"[..]));
}
