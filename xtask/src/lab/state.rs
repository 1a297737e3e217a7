//! The lab's shared state: the event stream every page reads, the run under way and the last
//! one, the hands-on servers, the pages open and the caps. The HTTP routes (`server.rs`), the
//! runs (`experiment.rs`) and the hands-on mode (`hands_on.rs`) all use it; it uses none of
//! them, so the lab's modules import one way.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use measure::catalogue::Binary;
use tokio::sync::broadcast;

use crate::cargo::Workspace;
use crate::demo::view::ScenarioView;
use crate::lab::events::{Event, Lane, LiveMarks};
use crate::lab::limits::{Caps, EventStreamSlot, Limits, lock};
use crate::stop::TrackedServer;

/// The most events a page that connects late is sent again (a run has a few hundred).
const HISTORY: usize = 20_000;

/// What the lab's handlers share.
pub struct Lab {
    workspace: Workspace,
    cores: usize,
    stream: Mutex<EventStream>,
    /// The run under way, if any: one at a time.
    pub(super) running: Mutex<Option<u64>>,
    /// The number of the next run or hands-on server.
    pub(super) next_id: AtomicU64,
    /// The last run, for the export.
    pub(super) last: Mutex<Option<ScenarioView>>,
    hands_on: Mutex<Vec<HandsOnServer>>,
    pages: Mutex<Pages>,
    /// What the caps count: hands-on servers and requests, event streams.
    pub(super) caps: Arc<Caps>,
}

/// The event stream: what was sent since the last run started (for a page that connects
/// late, or a second tab), and the live channel.
struct EventStream {
    history: VecDeque<Arc<str>>,
    live: broadcast::Sender<Arc<str>>,
}

/// How many pages are connected, and since when none is.
struct Pages {
    open: usize,
    none_since: Instant,
}

impl Lab {
    pub(super) fn new(workspace: Workspace, cores: usize, limits: Limits) -> Lab {
        Lab {
            workspace,
            cores,
            stream: Mutex::new(EventStream {
                history: VecDeque::new(),
                live: broadcast::channel(4096).0,
            }),
            running: Mutex::new(None),
            next_id: AtomicU64::new(1),
            last: Mutex::new(None),
            hands_on: Mutex::new(Vec::new()),
            pages: Mutex::new(Pages {
                open: 0,
                none_since: Instant::now(),
            }),
            caps: Caps::new(limits),
        }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn cores(&self) -> usize {
        self.cores
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn hands_on(&self) -> MutexGuard<'_, Vec<HandsOnServer>> {
        lock(&self.hands_on)
    }

    /// Whether no page has been open for `how_long`.
    pub(super) fn no_page_for(&self, how_long: Duration) -> bool {
        let pages = lock(&self.pages);
        pages.open == 0 && pages.none_since.elapsed() >= how_long
    }

    /// Sends `event` to every page, and keeps it for pages that connect later.
    pub fn emit(&self, event: &Event) {
        let value = event.to_json();
        let line: Arc<str> = Arc::from(value.to_string());
        let mut stream = lock(&self.stream);
        if value["type"] == "run-started" {
            stream.history.clear();
        }
        if stream.history.len() == HISTORY {
            stream.history.pop_front();
        }
        stream.history.push_back(Arc::clone(&line));
        // No page connected is no error: the history keeps it.
        let _ = stream.live.send(line);
    }

    /// What a new page is sent first, and the live events after it, with no gap between.
    pub(super) fn subscribe(&self) -> (Vec<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let stream = lock(&self.stream);
        (
            stream.history.iter().cloned().collect(),
            stream.live.subscribe(),
        )
    }
}

/// Counts a connected page while it lives (and holds its place under the cap of event
/// streams).
pub(super) struct PageOpen {
    lab: Arc<Lab>,
    /// Given back when the page goes (held for its `Drop`).
    _stream: EventStreamSlot,
}

impl PageOpen {
    pub(super) fn new(lab: &Arc<Lab>, stream: EventStreamSlot) -> PageOpen {
        lock(&lab.pages).open += 1;
        PageOpen {
            lab: Arc::clone(lab),
            _stream: stream,
        }
    }
}

impl Drop for PageOpen {
    fn drop(&mut self) {
        let mut pages = lock(&self.lab.pages);
        pages.open = pages.open.saturating_sub(1);
        if pages.open == 0 {
            pages.none_since = Instant::now();
        }
    }
}

/// A hands-on server: started from the page, stopped from it, by Ctrl-C, or when no page has
/// been open for a while.
pub struct HandsOnServer {
    pub id: u64,
    pub binary: Binary,
    pub server: TrackedServer,
    pub started: Instant,
    pub delay: Duration,
    pub next_request: usize,
    pub marks: LiveMarks,
}

impl HandsOnServer {
    /// The lane its requests are drawn in.
    pub(super) fn lane(&self) -> Lane {
        Lane::HandsOn {
            server: self.id,
            binary: self.binary.name,
        }
    }
}
