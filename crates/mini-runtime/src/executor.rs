//! The executor: it polls tasks when they can make progress, and only then.
//!
//! A task is a future in an `Arc`, with a flag that says it is on the run queue. Its
//! [`Waker`] is that same `Arc` (through [`std::task::Wake`]): waking the task pushes it onto
//! the queue, and a worker thread pops it and polls it. Nothing is polled in a loop "just in
//! case"; a task that returned `Pending` sleeps until whatever it waits for wakes it.
//!
//! [`block_on`] is the simplest executor: one future, polled on the calling thread, which
//! parks in between. Stages 3 and 4 run their whole server that way, on one thread.
//! [`spawn`] puts a task on the shared queue that worker threads (one per core) take from:
//! stage 5 runs each connection as such a task, so several run at once.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::lock;
use crate::trace::{self, TaskId};

/// The name of the worker threads, after tokio's `tokio-runtime-worker`: what `X-Served-By`
/// and the log show.
pub const WORKER_NAME: &str = "mini-runtime-worker";

static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

fn next_task_id() -> TaskId {
    NEXT_TASK.fetch_add(1, Ordering::Relaxed)
}

/// A spawned future, boxed: the queue holds tasks of every type.
struct Task {
    id: TaskId,
    /// `None` once the future has completed: a late wake-up then finds nothing to poll.
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    /// Whether the task is on the queue already: a task woken twice is queued once.
    queued: AtomicBool,
}

// ANCHOR: wake
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        trace::woken(self.id);
        if !self.queued.swap(true, Ordering::AcqRel) {
            RUN_QUEUE.push(self);
        }
    }
}
// ANCHOR_END: wake

// ANCHOR: run
impl Task {
    fn run(self: Arc<Self>) {
        // Cleared before the poll: a wake-up during the poll queues the task again, so it
        // is not lost. (Another worker that pops it waits on the lock below meanwhile.)
        self.queued.store(false, Ordering::Release);
        let mut slot = lock(&self.future);
        let Some(future) = slot.as_mut() else {
            return;
        };
        let waker = Waker::from(Arc::clone(&self));
        let mut cx = Context::from_waker(&waker);
        if trace::poll_as_task(self.id, || future.as_mut().poll(&mut cx)).is_ready() {
            *slot = None;
        }
    }
}
// ANCHOR_END: run

/// The queue of tasks ready to be polled, shared by every worker thread.
struct RunQueue {
    tasks: Mutex<VecDeque<Arc<Task>>>,
    /// Signalled when a task is pushed: an idle worker sleeps on it.
    not_empty: Condvar,
}

static RUN_QUEUE: LazyLock<RunQueue> = LazyLock::new(|| RunQueue {
    tasks: Mutex::new(VecDeque::new()),
    not_empty: Condvar::new(),
});

impl RunQueue {
    fn push(&self, task: Arc<Task>) {
        lock(&self.tasks).push_back(task);
        self.not_empty.notify_one();
    }

    /// The next task, waiting for one if there is none.
    fn pop(&self) -> Arc<Task> {
        let mut tasks = lock(&self.tasks);
        loop {
            if let Some(task) = tasks.pop_front() {
                return task;
            }
            tasks = self
                .not_empty
                .wait(tasks)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

// ANCHOR: workers
/// Starts the worker threads, once: one per core, each popping and polling tasks forever.
fn start_workers() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
        for _ in 0..cores {
            let worker = thread::Builder::new().name(WORKER_NAME.to_string());
            if let Err(err) = worker.spawn(|| {
                loop {
                    RUN_QUEUE.pop().run();
                }
            }) {
                eprintln!("(cannot start a worker thread: {err}; fewer will run)");
            }
        }
    });
}
// ANCHOR_END: workers

/// Runs `future` as a task of its own on the worker threads, and returns at once.
///
/// Awaiting the [`JoinHandle`] gives the future's output. Dropping it detaches the task: it
/// runs to the end on its own (as async-std's, unlike smol's, which are cancelled).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    start_workers();
    let ending = Arc::new(Mutex::new(Ending {
        output: None,
        waiter: None,
    }));
    let ended = Arc::clone(&ending);
    let id = next_task_id();
    let task = Arc::new(Task {
        id,
        future: Mutex::new(Some(Box::pin(async move {
            let output = future.await;
            let waiter = {
                let mut ended = lock(&ended);
                ended.output = Some(output);
                ended.waiter.take()
            };
            if let Some(waiter) = waiter {
                waiter.wake();
            }
        }))),
        queued: AtomicBool::new(true),
    });
    trace::say(|| format!("task {id} spawned"));
    RUN_QUEUE.push(task);
    JoinHandle { ending }
}

/// What a spawned task leaves for whoever awaits it.
struct Ending<T> {
    output: Option<T>,
    waiter: Option<Waker>,
}

/// The end of a spawned task: await it for its output, or drop it to let the task run on.
pub struct JoinHandle<T> {
    ending: Arc<Mutex<Ending<T>>>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut ending = lock(&self.ending);
        match ending.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                ending.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Wakes a thread parked in [`block_on`].
struct Unpark {
    task: TaskId,
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        trace::woken(self.task);
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

// ANCHOR: block_on
/// Runs `future` to its end on this thread, which sleeps whenever the future is pending
/// and is woken (unparked) by whatever it waits for.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let id = next_task_id();
    let mut future = pin!(future);
    let unpark = Arc::new(Unpark {
        task: id,
        thread: thread::current(),
        woken: AtomicBool::new(true),
    });
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    loop {
        // `park` may also return for no reason: only a wake-up is a reason to poll.
        if unpark.woken.swap(false, Ordering::AcqRel) {
            let polled = trace::poll_as_task(id, || future.as_mut().poll(&mut cx));
            if let Poll::Ready(output) = polled {
                return output;
            }
        } else {
            thread::park();
        }
    }
}
// ANCHOR_END: block_on
