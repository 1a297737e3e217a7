//! Whom the lab answers. It starts processes on this machine at a page's request, and it runs
//! on laptops that also browse the web, so it answers only requests addressed to it by a name
//! it was given, takes state-changing requests only from its own page, may not be framed, and
//! tells its page when another site sent the browser to it.
//!
//! The same rules as the local servers people trust: webpack-dev-server's and Vite's
//! `allowedHosts` (a `Host` check against DNS rebinding, where an attacker's name resolves
//! first to its own server and then to 127.0.0.1, so its page becomes same-origin with the
//! lab), and Jupyter's 403 for a `Host` that is not local unless remote access is allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The headers on every answer of the lab, refusals included: no site may frame the page
/// (clickjacking its Run button), in old browsers (`X-Frame-Options`) and new
/// (`frame-ancestors`, the only directive of this policy, so the page's inline script and
/// style still run); and no answer is read as another type than it says.
pub const EVERY_ANSWER: [(&str, &str); 3] = [
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
];

/// The names the lab answers to, and its port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    port: u16,
    /// Host names and address literals (IPv6 in brackets), lowercase, without the port.
    names: Vec<String>,
    /// Serving every address (`--host 0.0.0.0 --allow-remote`): the lab cannot know which of
    /// the machine's addresses a student types, so it answers any address literal. A literal
    /// cannot be rebound (rebinding needs a DNS name the attacker controls).
    any_address: bool,
    /// What to open, for the refusals' sentences: `http://127.0.0.1:7880/`.
    own_url: String,
}

/// A `Host` or an `Origin`'s authority, split: the name in lowercase (IPv6 in brackets),
/// and the port (80, HTTP's, when it has none).
fn split_authority(authority: &str) -> Option<(String, u16)> {
    let authority = authority.trim();
    let (name, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let end = rest.find(']')?;
            (&authority[..end + 2], &rest[end + 1..])
        }
        None => match authority.rsplit_once(':') {
            Some((name, _)) => (name, &authority[name.len()..]),
            None => (authority, ""),
        },
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => 80,
        Some(digits) => digits.parse().ok()?,
        None => return None,
    };
    (!name.is_empty()).then(|| (name.to_ascii_lowercase(), port))
}

/// An IP address as a `Host` names it: IPv6 in brackets.
fn host_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn is_address_literal(name: &str) -> bool {
    name.parse::<Ipv4Addr>().is_ok()
        || name
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|inner| inner.parse::<Ipv6Addr>().is_ok())
}

impl Guard {
    /// The lab bound to `bound`, started with `--host host` (and `--allow-remote` or not).
    pub fn new(bound: SocketAddr, host: &str, allow_remote: bool) -> Guard {
        let mut names: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .map(String::from)
            .to_vec();
        let mut add = |name: String| {
            if !names.contains(&name) {
                names.push(name);
            }
        };
        if !bound.ip().is_unspecified() {
            add(host_form(bound.ip()));
        }
        // The name given to --host: without --allow-remote it resolved to loopback (the lab
        // refuses to start otherwise), so it is the user's own name for this machine.
        let given = match host.parse::<IpAddr>() {
            Ok(ip) => host_form(ip),
            Err(_) => host.trim().to_ascii_lowercase(),
        };
        let any_address = allow_remote && bound.ip().is_unspecified();
        if !given.is_empty() && !is_address_literal_unspecified(&given) {
            add(given);
        }
        let own_url = if bound.ip().is_unspecified() {
            format!("http://127.0.0.1:{}/", bound.port())
        } else {
            format!("http://{bound}/")
        };
        Guard {
            port: bound.port(),
            names,
            any_address,
            own_url,
        }
    }

    /// Whether `authority` (a `Host`, or an `Origin` without its scheme) names the lab.
    fn names_the_lab(&self, authority: &str) -> bool {
        split_authority(authority).is_some_and(|(name, port)| {
            port == self.port
                && (self.names.contains(&name) || (self.any_address && is_address_literal(&name)))
        })
    }

    /// The names the lab answers to, with its port, for a sentence.
    fn names_in_words(&self) -> String {
        let with_port = |name: &String| format!("{name}:{}", self.port);
        let own = self
            .own_url
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let mut words: Vec<String> = self
            .names
            .iter()
            .map(with_port)
            .filter(|name| name != own)
            .collect();
        if self.any_address {
            words.push(format!("any address of this machine with :{}", self.port));
        }
        words.join(", ")
    }

    /// Why the lab does not answer `request`, as the answer to send instead; `None` when it
    /// answers.
    fn refusal(&self, request: &Request) -> Option<Response> {
        let headers = request.headers();
        let mut hosts = headers.get_all(header::HOST).iter();
        let host = match (hosts.next(), hosts.next()) {
            (Some(host), None) => Some(host),
            (Some(_), Some(_)) => {
                return Some(plain(
                    StatusCode::BAD_REQUEST,
                    "a request has one Host header, not several".to_string(),
                ));
            }
            // No Host: only HTTP/1.0 may leave it out (RFC 9112, section 3.2). Every browser
            // sends one, with HTTP/1.0 too, so a request without it does not come from a web
            // page and cannot be DNS rebinding; it comes from a program on this machine (or,
            // with --allow-remote, on the network the lab was opened to), which could start
            // runs anyway. So the lab answers it, as it answers curl.
            (None, _) if request.version() <= Version::HTTP_10 => None,
            (None, _) => {
                return Some(plain(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "an HTTP/1.1 request needs a Host header (RFC 9112, section 3.2): \
                         send Host: {}",
                        self.own_url
                            .trim_start_matches("http://")
                            .trim_end_matches('/')
                    ),
                ));
            }
        };
        // The name the request was addressed to: its Host, and the authority of an
        // absolute-form target (`GET http://name/ HTTP/1.1`), which takes precedence over it.
        let addressed = host
            .map(|host| host.to_str().unwrap_or("(not text)"))
            .into_iter()
            .chain(request.uri().authority().map(|a| a.as_str()));
        for name in addressed {
            if !self.names_the_lab(name) {
                return Some(plain(
                    StatusCode::FORBIDDEN,
                    format!(
                        "this lab answers only requests addressed to {own} (or {names}), not \
                         to {name:?}: a page of another site may be trying to reach it under \
                         its own name (DNS rebinding). Open {own} instead, or, to serve the lab \
                         under another name, start it with --host NAME --allow-remote.",
                        own = self.own_url,
                        names = self.names_in_words(),
                    ),
                ));
            }
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            if let Some(origin) = headers.get(header::ORIGIN) {
                if !self.is_own_origin(origin, host) {
                    let origin = origin.to_str().unwrap_or("(not text)");
                    return Some(json_problem(
                        StatusCode::FORBIDDEN,
                        format!(
                            "the lab refuses {} {} from a page of {origin}: only its own page \
                             ({}) may start runs and servers. If that was you, open {} and use \
                             the page there.",
                            request.method(),
                            request.uri().path(),
                            self.own_url.trim_end_matches('/'),
                            self.own_url,
                        ),
                    ));
                }
            }
        }
        None
    }

    /// Whether `origin` is the lab's own page, as the request addressed it: `http://` and
    /// the same name and port as its `Host`, the browser's own rule for "same origin".
    /// `null` (a sandboxed frame, a file) is not.
    fn is_own_origin(&self, origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
        let Some(authority) = origin
            .to_str()
            .ok()
            .and_then(|origin| origin.strip_prefix("http://"))
        else {
            return false;
        };
        let same_as_host = match host.and_then(|host| host.to_str().ok()) {
            Some(host) => split_authority(host) == split_authority(authority),
            None => true,
        };
        same_as_host && self.names_the_lab(authority)
    }
}

fn is_address_literal_unspecified(name: &str) -> bool {
    matches!(name, "0.0.0.0" | "[::]")
}

fn plain(status: StatusCode, sentence: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        sentence + "\n",
    )
        .into_response()
}

/// A refusal of a request the page makes: JSON with `error`, which the page shows.
fn json_problem(status: StatusCode, sentence: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": sentence }).to_string(),
    )
        .into_response()
}

/// The lab's first layer: refuses what is not addressed to it or not from its page, and
/// marks every answer with [`EVERY_ANSWER`].
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let mut response = match guard.refusal(&request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in EVERY_ANSWER {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether the browser says a page of another site sent it here (`Sec-Fetch-Site:
/// cross-site`, or `same-site`: another port of this machine, another local server, is
/// another origin too). `none` (typed, bookmarked, a command line such as
/// `chromium --dump-dom`), `same-origin` (the lab's own page) and no header at all (an older
/// browser, curl) are not.
pub fn sent_by_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|site| {
            site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bound: &str, host: &str, allow_remote: bool) -> Guard {
        Guard::new(bound.parse().expect("an address"), host, allow_remote)
    }

    #[test]
    fn authorities_split_into_lowercase_names_and_ports() {
        assert_eq!(
            split_authority("LocalHost:7880"),
            Some(("localhost".into(), 7880))
        );
        assert_eq!(split_authority("[::1]:80"), Some(("[::1]".into(), 80)));
        assert_eq!(split_authority("[::1]"), Some(("[::1]".into(), 80)));
        assert_eq!(split_authority("127.0.0.1"), Some(("127.0.0.1".into(), 80)));
        assert_eq!(split_authority("a:b"), None);
        assert_eq!(split_authority("[::1]x"), None);
        assert_eq!(split_authority(":7880"), None);
    }

    #[test]
    fn the_lab_answers_to_loopback_names_and_to_its_remote_name_only_when_allowed() {
        let lab = guard("127.0.0.1:7880", "127.0.0.1", false);
        for host in [
            "127.0.0.1:7880",
            "localhost:7880",
            "LOCALHOST:7880",
            "[::1]:7880",
        ] {
            assert!(lab.names_the_lab(host), "{host}");
        }
        for host in [
            "evil.example:7880",
            "127.0.0.1:7881",
            "127.0.0.1",
            "localhost.:7880",
            "192.168.1.5:7880",
            "127.0.0.1.evil.example:7880",
        ] {
            assert!(!lab.names_the_lab(host), "{host}");
        }
        let remote = guard("192.168.1.5:7880", "lab.local", true);
        assert!(remote.names_the_lab("lab.local:7880"));
        assert!(remote.names_the_lab("192.168.1.5:7880"));
        assert!(!remote.names_the_lab("evil.example:7880"));
        let everywhere = guard("0.0.0.0:7880", "0.0.0.0", true);
        assert!(everywhere.names_the_lab("10.1.2.3:7880"));
        assert!(everywhere.names_the_lab("[fe80::1]:7880"));
        assert!(!everywhere.names_the_lab("evil.example:7880"));
        assert!(!everywhere.names_the_lab("0.0.0.0.evil.example:7880"));
        assert_eq!(everywhere.own_url, "http://127.0.0.1:7880/");
        let six = guard("[::1]:7880", "::1", false);
        assert_eq!(six.own_url, "http://[::1]:7880/");
    }
}
