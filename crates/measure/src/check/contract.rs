//! The contract's points, probed one by one, bad input last, each followed by a `GET` that
//! must still be answered.

use std::time::Instant;

use super::{Model, NoResponse, Options, PROBE_TIMEOUT, Report, Unanswered, probe, request};
use crate::client::{self, Exchange, ReadUntil};

/// One point of the contract, checked: in words, because each point is a different question
/// (a status, a reset after the answer, a pool that lost workers) and its evidence is best
/// said as a sentence; the check's report, the workshop and the tests print it as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractPoint {
    pub what: String,
    /// `Ok` with what was seen, or `Err` with what went wrong.
    pub outcome: Result<String, String>,
}

/// Whether the bad input left the model as it was: a pool that lost a worker to it is a
/// server that a client's bytes can break, even if it still answers.
pub(super) fn model_kept_point(before: &Model, after: &Model) -> ContractPoint {
    let what = "the bad input left the server as it was".to_string();
    let outcome = match (before, after) {
        (Model::Pool { size: was, .. }, Model::Pool { size: now, .. }) if now == was => {
            Ok(format!("still {now} at once"))
        }
        (Model::Pool { size: was, .. }, Model::Pool { size: now, .. }) if now < was => {
            Err(format!(
                "a pool of {was} before it, {now} after: {} died on the bad input (its log may say \
             which request killed {})",
                if was - now == 1 {
                    "a worker"
                } else {
                    "workers"
                },
                if was - now == 1 { "it" } else { "them" }
            ))
        }
        (Model::Pool { size: was, .. }, Model::OneAtATime { .. }) => Err(format!(
            "a pool of {was} before it, one at a time after: workers died on the bad input"
        )),
        (Model::Pool { size: was, .. }, other) => Err(format!(
            "a pool of {was} before it; after it, {}",
            match other {
                Model::Concurrent { pending, .. } => format!("more than {pending} at once"),
                _ => "the pool could not be measured".to_string(),
            }
        )),
        _ => Ok("not measured".to_string()),
    };
    ContractPoint { what, outcome }
}

/// The words of a failure in a contract point: with a guess at its cause ("did it crash?")
/// only where the process is not `watched` (where it is, the check says what became of it).
fn failure_text(failure: &NoResponse, watched: bool) -> String {
    if watched {
        failure.words()
    } else {
        failure.to_string()
    }
}

/// Checks the first answer to the fast path; `Err` with why there was none at all.
pub(super) fn fast_answer_point(
    report: &mut Report,
    fast_path: &str,
    fast: &Exchange,
    watched: bool,
) -> Result<(), NoResponse> {
    let what = format!("GET {fast_path} gets 200 with Content-Type, Content-Length and a body");
    let response = match &fast.response {
        Ok(response) => response,
        Err(err) => {
            let failure = NoResponse::of(err);
            report.contract.push(ContractPoint {
                what,
                outcome: Err(failure_text(&failure, watched)),
            });
            return Err(failure);
        }
    };
    let length = response
        .header("Content-Length")
        .and_then(|value| value.trim().parse::<usize>().ok());
    // Every problem at once, so that one fix does not just reveal the next.
    let mut problems = Vec::new();
    if response.status != 200 {
        problems.push(format!("got {}", response.status));
    }
    if response.header("Content-Type").is_none() {
        problems.push("no Content-Type header".to_string());
    }
    match (response.header("Content-Length"), length) {
        (None, _) => problems.push("no Content-Length header".to_string()),
        (Some(_), Some(length)) if length == response.body.len() => {}
        (Some(said), _) => problems.push(format!(
            "Content-Length says {said:?}, the body has {} bytes",
            response.body.len()
        )),
    }
    if response.body.is_empty() {
        problems.push("an empty body".to_string());
    }
    if response.reset_after {
        problems.push(answered_then_reset(response.status, response.status == 200));
    }
    let outcome = if problems.is_empty() {
        Ok(format!(
            "200, {} bytes in {} ms",
            response.body.len(),
            fast.latency().as_millis()
        ))
    } else {
        Err(problems.join("; "))
    };
    report.contract.push(ContractPoint { what, outcome });
    Ok(())
}

/// The contract's other points, bad input last; each piece of bad input is followed by a
/// `GET` that must still be answered. Returns the first such `GET` that was not (the points
/// after it are not probed).
pub(super) fn contract_points(
    report: &mut Report,
    options: &Options,
    watched: bool,
) -> Option<Unanswered> {
    let addr = report.addr;
    let status_point = |what: &str, request: &[u8], expected: &[u16]| {
        // Read to the connection's end too: an answer and then a reset is a point of its own.
        let probe = probe(request, PROBE_TIMEOUT).read_until(ReadUntil::ContentLengthThenEnd);
        let exchange = client::exchange(addr, &probe, Instant::now());
        let outcome = match &exchange.response {
            Ok(response) if response.reset_after => Err(answered_then_reset(
                response.status,
                expected.contains(&response.status),
            )),
            Ok(response) if expected.contains(&response.status) => {
                Ok(format!("{}", response.status))
            }
            Ok(response) => Err(format!(
                "got {}, expected {}",
                response.status,
                list(expected)
            )),
            Err(err) => Err(failure_text(&NoResponse::of(err), watched)),
        };
        ContractPoint {
            what: what.to_string(),
            outcome,
        }
    };
    let mut huge_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    huge_head.resize(9 * 1024, b'p');
    huge_head.extend_from_slice(b"\r\n\r\n");
    let unknown_path = client::get_request("/no-such-page-here");
    let probes: [(&str, &[u8], &[u16]); 5] = [
        ("an unknown path gets 404", &unknown_path, &[404]),
        (
            "POST gets 405 (only GET and HEAD are served)",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            &[405],
        ),
        ("garbage gets 400", b"hello there\r\n\r\n", &[400]),
        ("a 9 KiB head gets 431", &huge_head, &[431, 400, 413]),
        ("a connection closed without a request", b"", &[]),
    ];
    for (what, input, expected) in probes {
        let point = if input.is_empty() {
            let outcome = client::connect_and_close_within(addr, PROBE_TIMEOUT)
                .map(|()| "closed".to_string())
                .map_err(|err| failure_text(&NoResponse::of(&err), watched));
            ContractPoint {
                what: what.to_string(),
                outcome,
            }
        } else {
            status_point(what, input, expected)
        };
        report.contract.push(point);
        // And the server must still answer, whatever it made of that.
        let after = request(addr, &options.fast_path, PROBE_TIMEOUT);
        if let Err(err) = &after.response {
            return Some(Unanswered {
                after: Some(what.to_string()),
                path: options.fast_path.clone(),
                failure: NoResponse::of(err),
            });
        }
    }
    report.contract.push(ContractPoint {
        what: "the server still answers after all of that".into(),
        outcome: Ok("yes".into()),
    });
    None
}

/// An answer that came whole, then a reset: what happened, and the lesson in it.
fn answered_then_reset(status: u16, status_was_right: bool) -> String {
    let answer = if status_was_right {
        format!("answered {status}")
    } else {
        format!("answered {status} (not the status expected)")
    };
    format!(
        "{answer}, then reset the connection: it closed with bytes of the request unread, so \
         the kernel sent a reset, and a client that had not read the answer yet would have \
         lost it. Read the whole request before closing"
    )
}

fn list(statuses: &[u16]) -> String {
    let words: Vec<_> = statuses.iter().map(u16::to_string).collect();
    words.join(" or ")
}
