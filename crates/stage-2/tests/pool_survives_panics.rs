//! Stage 2 relies on `threadpool` replacing a worker whose job panicked. This checks that
//! promise: after a panic, all workers still run jobs side by side.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use threadpool::ThreadPool;

#[test]
fn a_panicking_job_does_not_shrink_the_pool() {
    let workers = 3;
    let pool = ThreadPool::with_name("worker".to_string(), workers);
    pool.execute(|| panic!("a job that panics on purpose"));
    pool.join();
    assert_eq!(pool.panic_count(), 1);

    // Each job waits at the barrier until all of them arrive: only a pool that still has
    // every worker can run them all at once. The timeout keeps a broken pool from hanging.
    let barrier = Arc::new(Barrier::new(workers + 1));
    for _ in 0..workers {
        let barrier = Arc::clone(&barrier);
        pool.execute(move || {
            barrier.wait();
        });
    }
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        barrier.wait();
        let _ = done_tx.send(());
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the pool lost a worker to the panic"
    );
    assert_eq!(pool.max_count(), workers);
}
