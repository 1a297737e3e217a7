//! The demo's footnote on its own client's cost per request, as measured by
//! [`measure::client_cost`].

use std::time::Duration;

use measure::client_cost;

/// The footnote's sentence, or nothing if it could not be measured.
pub fn footnote() -> Option<String> {
    let cost = client_cost::per_request()?;
    Some(format!(
        "The client itself takes {} per request (p99 {}), measured now against a server \
         that answers from memory ({} profile): that much of each latency is the client's.",
        micros(cost.p50),
        micros(cost.p99),
        cost.profile
    ))
}

fn micros(duration: Duration) -> String {
    format!("{} µs", duration.as_micros())
}
