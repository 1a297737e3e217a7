//! Why a probe request got no response, and the words a student reads for it.

use std::io;

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoResponse {
    /// Nothing listens there.
    Refused,
    /// The server closed the connection without answering.
    Closed,
    /// The server accepted but did not answer in time.
    TimedOut,
    /// The server reset the connection without answering.
    Reset,
    /// Anything else, such as a reply that is not HTTP, as the client saw it.
    Other(String),
}

impl NoResponse {
    pub fn of(err: &io::Error) -> NoResponse {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => NoResponse::Refused,
            io::ErrorKind::UnexpectedEof => NoResponse::Closed,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NoResponse::TimedOut,
            io::ErrorKind::ConnectionReset => NoResponse::Reset,
            _ => NoResponse::Other(err.to_string()),
        }
    }
}

impl NoResponse {
    /// Why a request got no response, in words a student can act on, without a guess at the
    /// cause: for where the check watches the process and says itself whether it crashed.
    pub fn words(&self) -> String {
        match self {
            NoResponse::Refused => "connection refused: nothing listens there".into(),
            NoResponse::Closed => "the server closed the connection without answering".into(),
            NoResponse::TimedOut => {
                "no answer in time: the server accepted but never answered".into()
            }
            NoResponse::Reset => "the server reset the connection without answering".into(),
            // A reply that is not HTTP quotes all it got: the start says enough.
            NoResponse::Other(text) => match text.char_indices().nth(160) {
                Some((cut, _)) => format!("{} …", &text[..cut]),
                None => text.clone(),
            },
        }
    }

    /// A guess at the cause, for where the check cannot see the process.
    fn guess(&self) -> Option<&'static str> {
        match self {
            NoResponse::Refused => Some("did the server crash or not start?"),
            NoResponse::Reset => Some("did it crash?"),
            NoResponse::Closed | NoResponse::TimedOut | NoResponse::Other(_) => None,
        }
    }
}

impl std::fmt::Display for NoResponse {
    /// [`NoResponse::words`], with a guess at the cause where there is one: "(did it crash?)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words())?;
        match self.guess() {
            Some(guess) => write!(f, " ({guess})"),
            None => Ok(()),
        }
    }
}
