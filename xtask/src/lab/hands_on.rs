//! The hands-on mode: servers that stay up until stopped, and single requests a teacher sends
//! them from the page ("what if I send three slow ones?"), streamed like a run's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use measure::catalogue::Binary;
use measure::client::{self, Request};
use measure::scenario::{Role, Sent};

use crate::lab::events::{Ending, Event, Lane, LiveMarks, last_lines};
use crate::lab::limits::RequestSlot;
use crate::lab::state::{HandsOnServer, Lab};
use crate::pipeline;

/// What a button sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Button {
    Sleep,
    Block,
    Cpu,
    Root,
    Idle,
}

impl Button {
    pub fn from_name(name: &str) -> Option<Button> {
        match name {
            "sleep" => Some(Button::Sleep),
            "block" => Some(Button::Block),
            "cpu" => Some(Button::Cpu),
            "root" => Some(Button::Root),
            "idle" => Some(Button::Idle),
            _ => None,
        }
    }

    fn role_and_path(self) -> (Role, &'static str) {
        match self {
            Button::Sleep => (Role::Slow, "/sleep"),
            Button::Block => (Role::Slow, "/block"),
            Button::Cpu => (Role::Alone, "/cpu"),
            Button::Root => (Role::Fast, "/"),
            Button::Idle => (Role::Idle, ""),
        }
    }
}

/// Builds and starts `binaries`, each a hands-on server with `/sleep` taking `delay`.
pub fn start(lab: &Arc<Lab>, binaries: &[Binary], delay: Duration) {
    let built = pipeline::build(lab.workspace(), binaries);
    let sleep_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    for binary in binaries {
        let id = lab.next_id();
        let lane = Lane::HandsOn {
            server: id,
            binary: binary.name,
        };
        let failed = |message: String| Event::BinaryFailed {
            lane,
            phase: "start",
            message: format!("{} did not start", binary.name),
            stderr: last_lines(&message),
        };
        let executable = match built.get(binary.name) {
            Some(Ok(executable)) => executable,
            Some(Err(failure)) => {
                lab.emit(&failed(failure.clone()));
                continue;
            }
            None => continue,
        };
        let args = binary.args(sleep_ms, None);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Registered as it starts, so Ctrl-C stops it, and refused once Ctrl-C has begun.
        match crate::stop::start_server(executable, &args) {
            Ok(server) => {
                lab.emit(&Event::BinaryStarted {
                    lane,
                    pid: server.pid,
                    addr: server.addr.to_string(),
                });
                lab.hands_on().push(HandsOnServer {
                    id,
                    binary: *binary,
                    server,
                    started: Instant::now(),
                    delay,
                    next_request: 0,
                    marks: LiveMarks::default(),
                });
            }
            Err(err) => lab.emit(&failed(err.to_string())),
        }
    }
}

/// Sends one request to hands-on server `id`, on a thread of its own; its events stream.
/// `slot` counts it under the lab's caps of requests in flight until the thread ends.
pub fn send(lab: &Arc<Lab>, id: u64, what: Button, slot: RequestSlot) -> Result<(), String> {
    let (role, path) = what.role_and_path();
    let (lane, addr, index, at, timeout) = {
        let mut servers = lab.hands_on();
        let server = servers
            .iter_mut()
            .find(|server| server.id == id)
            .ok_or_else(|| format!("server {id} is not running (stopped, or crashed)"))?;
        let index = server.next_request;
        server.next_request += 1;
        // Stage 1 answers one at a time: give a request time for a few slow ones before it.
        let timeout = server.delay * 6 + Duration::from_secs(15);
        (
            server.lane(),
            server.server.addr,
            index,
            server.started.elapsed(),
            timeout,
        )
    };
    lab.emit(&Event::RequestPlanned {
        lane,
        index,
        role,
        path,
        at,
    });
    let lab = Arc::clone(lab);
    std::thread::spawn(move || {
        let bytes = match role {
            Role::Idle => Vec::new(),
            _ => client::get_request(path),
        };
        let scheduled = Instant::now();
        lab.emit(&Event::RequestSent { lane, index, at });
        let exchange = client::exchange(addr, &Request::new(&bytes).within(timeout), scheduled);
        let sent = Sent {
            role,
            path,
            exchange,
        };
        let letter = {
            let mut servers = lab.hands_on();
            servers
                .iter_mut()
                .find(|server| server.id == id)
                .and_then(|server| server.marks.letter(&sent))
        };
        lab.emit(&Event::RequestEnded {
            lane,
            index,
            at,
            ending: Ending::of(&sent, letter),
        });
        reap_crashed(&lab);
        drop(slot);
    });
    Ok(())
}

/// Stops every hands-on server; says so on the pages if there were any.
pub fn stop_all(lab: &Lab, reason: &str) -> usize {
    let stopped: Vec<HandsOnServer> = lab.hands_on().drain(..).collect();
    let count = stopped.len();
    // Dropping each stops its process by its PID.
    drop(stopped);
    if count > 0 {
        lab.emit(&Event::ServersStopped {
            count,
            reason: reason.to_string(),
        });
    }
    count
}

/// Takes out the hands-on servers that ended by themselves, with their last words.
pub fn reap_crashed(lab: &Lab) {
    let mut crashed = Vec::new();
    {
        let mut servers = lab.hands_on();
        let mut index = 0;
        while index < servers.len() {
            let status = servers[index].server.with(|s| s.exit_status()).flatten();
            match status {
                Some(status) => crashed.push((servers.remove(index), status)),
                None => index += 1,
            }
        }
    }
    for (server, status) in crashed {
        let log = server
            .server
            .with(|s| s.stderr_text_after_exit(Duration::from_millis(500)))
            .unwrap_or_default();
        lab.emit(&Event::ServerDown {
            lane: server.lane(),
            reason: format!("exited by itself ({status})"),
            stderr: last_lines(&log),
        });
    }
}
