//! The conformance suite: the contract every server binary keeps (the README's "Test"
//! section lists it), checked against a real server binary.
//!
//! Every check starts its own server process (on port 0, with a short `--sleep-ms`), so the
//! checks are independent and run in parallel. After every piece of bad input the same process
//! must still answer `GET /` correctly: nothing a client does may crash a server.
//!
//! Timing checks use the wide margins of [`measure::verdicts`], because CI machines are small
//! and noisy: "waited" means at least 0.8 × the delay, "did not wait" means under 0.3 × it.
//!
//! This file holds the [`Target`], the assertions every check shares and the macros that make
//! `#[test]`s of the checks; the checks are grouped by what they show: `contract` (routes,
//! methods, bad input, flags), `real_clients` (what curl, Python and HTTP/2 clients do:
//! `Expect: 100-continue`, sending on after a refusal), `concurrency` (each stage's lesson),
//! `reliability` (timeouts, idle and slow clients, load, shutdown) and `check` (`cargo xtask
//! check` finds each stage's model).

mod check;
mod concurrency;
mod contract;
mod real_clients;
mod reliability;

pub use check::*;
pub use concurrency::*;
pub use contract::*;
pub use real_clients::*;
pub use reliability::*;

use std::time::{Duration, Instant};

use measure::ServerProcess;
use measure::catalogue::{Binary, Expected};
use measure::client::{self, Exchange, Request};
use server_core::HELLO_HTML;

/// The `--sleep-ms` the suite gives every server: long enough to tell waiting from not
/// waiting on a busy 2-core machine, short enough to keep the suite quick.
pub const SUITE_SLEEP_MS: u64 = 1000;
/// How long after sending the slow requests the fast one is sent.
const HEAD_START: Duration = Duration::from_millis(100);

/// A server binary and the behaviour its stage promises.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The binary's row in the catalogue: what its stage promises.
    pub binary: &'static Binary,
    /// Its executable, built by cargo for the tests.
    pub bin: &'static str,
    pub expectation: Expected,
}

impl Target {
    /// Starts the server with the suite's delay (and, for a pool, its worker count).
    pub fn start(&self) -> ServerProcess {
        self.start_with(&[])
    }

    /// Whether this stage takes `--max-connections`.
    pub fn has_max_connections(&self) -> bool {
        self.binary.stage.takes_max_connections()
    }

    /// Starts the server with the suite's flags and `extra` ones.
    pub fn start_with(&self, extra: &[&str]) -> ServerProcess {
        let sleep_ms = SUITE_SLEEP_MS.to_string();
        let workers = match self.expectation {
            Expected::Pool { workers } => workers.to_string(),
            _ => String::new(),
        };
        let mut args = vec!["--sleep-ms", sleep_ms.as_str()];
        if !workers.is_empty() {
            args.extend(["--workers", workers.as_str()]);
        }
        args.extend(extra);
        ServerProcess::start(self.bin, &args)
            .unwrap_or_else(|err| panic!("could not start {}: {err}", self.bin))
    }
}

/// Sends `request` now, in pieces of `len` bytes with `pause` between them, and reads the
/// answer to the close.
fn in_pieces(addr: std::net::SocketAddr, request: &[u8], len: usize, pause: Duration) -> Exchange {
    let request = Request::new(request).in_pieces(len, pause);
    client::exchange(addr, &request, Instant::now())
}

fn delay() -> Duration {
    Duration::from_millis(SUITE_SLEEP_MS)
}

/// Asserts a complete, exact `200 OK` with the hello page.
pub fn assert_hello_page(exchange: &Exchange) {
    assert_page(exchange, 200, HELLO_HTML);
}

/// Asserts the exact status, headers and body of a response.
pub fn assert_page(exchange: &Exchange, status: u16, page: &str) {
    assert_status(exchange, status);
    if let Ok(response) = &exchange.response {
        assert_eq!(response.body_text(), page);
    }
}

/// Asserts a status and the headers every response has: Content-Type, `Connection: close`,
/// a Content-Length that matches the body, and `X-Served-By` naming a thread (`NAME #N`).
pub fn assert_status(exchange: &Exchange, status: u16) {
    let response = match &exchange.response {
        Ok(response) => response,
        Err(err) => panic!("expected {status}, but the request failed: {err}"),
    };
    let body = response.body_text();
    assert_eq!(response.status, status, "status; body: {body}");
    let content_type = response.header("Content-Type");
    assert_eq!(content_type, Some("text/html; charset=utf-8"));
    assert_eq!(response.header("Connection"), Some("close"));
    let length = response.body.len().to_string();
    let content_length = response.header("Content-Length");
    assert_eq!(
        content_length,
        Some(length.as_str()),
        "Content-Length matches the body"
    );
    served_by(exchange);
}

/// The thread named by a response's `X-Served-By`: its name, ` #`, and its number.
pub fn served_by(exchange: &Exchange) -> &str {
    let thread = exchange
        .served_by()
        .unwrap_or_else(|| panic!("no X-Served-By header in {:?}", exchange.response));
    let number = thread
        .rsplit_once(" #")
        .map(|(_, number)| number)
        .unwrap_or_else(|| panic!("X-Served-By `{thread}` is not `NAME #N`"));
    assert!(number.parse::<u64>().is_ok(), "X-Served-By `{thread}`");
    thread
}

/// After anything a client did, the same process must still be alive and answer `GET /`.
pub fn assert_still_serves(server: &mut ServerProcess) {
    assert_hello_page(&client::get(server.addr(), "/"));
    assert!(server.exit_status().is_none(), "the server exited");
    let log = server.stderr_text();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
}

/// The target of the binary named `name` in the catalogue, built at `bin`.
pub fn target(name: &str, bin: &'static str) -> Target {
    let binary = Binary::named(name)
        .unwrap_or_else(|| panic!("{name} is not in measure::catalogue::BINARIES: add its row"));
    Target {
        binary,
        bin,
        expectation: binary.stage.expected(),
    }
}

/// Expands to one `#[test]` per check of the suite, against one server binary of the
/// catalogue, by its name; what it must show comes from its stage:
///
/// ```ignore
/// harness::conformance_tests!(stage_1, "stage-1");
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $name:literal) => {
        mod $module {
            fn target() -> $crate::suite::Target {
                $crate::suite::target($name, env!(concat!("CARGO_BIN_EXE_", $name)))
            }
            $crate::conformance_tests!(@checks
                get_root_serves_the_hello_page,
                every_request_is_logged_with_its_thread,
                sleep_waits_then_serves_the_page,
                unknown_paths_get_404,
                query_strings_are_ignored,
                http_1_0_is_served,
                head_gets_the_headers_only,
                other_methods_get_405,
                a_request_body_is_read_before_answering,
                a_head_sent_in_small_pieces_is_served,
                garbage_gets_400,
                a_request_line_that_is_not_utf8_gets_400,
                a_head_over_8_kib_gets_431,
                empty_connections_are_harmless,
                a_client_that_resets_after_sending_is_harmless,
                a_client_that_resets_during_sleep_is_harmless,
                a_port_in_use_is_a_one_line_error,
                help_explains_the_flags,
                version_prints_the_name_and_version,
                concurrency_matches_the_stage,
                a_blocking_handler_stalls_only_its_own_thread,
                many_empty_connections_at_once_are_harmless,
                a_head_of_exactly_8_kib_is_served,
                an_idle_client_is_closed_after_the_read_timeout,
                a_slow_trickle_is_bounded_by_the_read_timeout,
                an_idle_client_stalls_only_one_at_a_time_servers,
                a_client_that_never_reads_its_response_is_harmless,
                max_connections_applies_backpressure,
                a_burst_of_load_is_served_without_a_failure,
                expect_100_continue_gets_the_final_answer_at_once,
                expect_100_continue_gets_100_continue_when_the_body_is_read,
                a_body_sent_without_waiting_for_100_continue_is_harmless,
                a_body_refused_mid_stream_still_gets_its_answer,
                an_http2_preface_gets_400_and_no_reset,
                a_client_that_never_stops_sending_is_cut_off,
            );
            $crate::conformance_tests!(@ctrl_c_checks
                ctrl_c_lets_requests_in_flight_finish,
                the_grace_period_bounds_a_shutdown,
            );
        }
    };
    (@ctrl_c_checks $($check:ident,)*) => {
        $(
            #[test]
            #[cfg_attr(
                not(any(unix, windows)),
                ignore = "no way to send Ctrl-C to a child process on this OS"
            )]
            fn $check() {
                $crate::suite::$check(&target());
            }
        )*
    };
    (@checks $($check:ident,)*) => {
        $(
            #[test]
            fn $check() {
                $crate::suite::$check(&target());
            }
        )*
    };
}

/// Expands to the `cargo xtask check` tests of one server binary. They live in a test file of
/// their own, because the CPU probe needs the cores that the conformance suite's load uses.
#[macro_export]
macro_rules! check_tests {
    ($module:ident, $name:literal) => {
        mod $module {
            fn target() -> $crate::suite::Target {
                $crate::suite::target($name, env!(concat!("CARGO_BIN_EXE_", $name)))
            }
            $crate::conformance_tests!(@checks
                the_check_finds_the_stage_model,
                the_check_measures_a_limit_of_3_as_a_pool_of_3,
            );
        }
    };
}
