//! One error type for every command: what went wrong, and what to do about it.

use std::fmt;
use std::process::ExitCode;

/// Why a command could not do its work.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The command line cannot be run as given: exit status 2, and where to read the help.
    Usage {
        command: &'static str,
        message: String,
    },
    /// No command has this name: exit status 2.
    UnknownCommand(String),
    /// The work failed: what went wrong, and the fix when one is known. Exit status 1.
    Failed { what: String, fix: Option<String> },
}

impl Error {
    pub fn usage(command: &'static str, message: impl Into<String>) -> Error {
        Error::Usage {
            command,
            message: message.into(),
        }
    }

    pub fn failed(what: impl Into<String>) -> Error {
        Error::Failed {
            what: what.into(),
            fix: None,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage { .. } | Error::UnknownCommand(_) => ExitCode::from(2),
            Error::Failed { .. } => ExitCode::FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage { command, message } => {
                write!(f, "{message} (see cargo xtask {command} --help)")
            }
            Error::UnknownCommand(name) => {
                write!(f, "unknown command {name:?}: see cargo xtask --help")
            }
            Error::Failed { what, fix: None } => f.write_str(what),
            Error::Failed {
                what,
                fix: Some(fix),
            } => write!(f, "{what}\n{fix}"),
        }
    }
}

impl From<String> for Error {
    /// A failure whose message already says what to do.
    fn from(what: String) -> Error {
        Error::failed(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_says_where_the_help_is() {
        let error = Error::usage("demo", "unexpected argument --bogus");
        assert_eq!(
            error.to_string(),
            "unexpected argument --bogus (see cargo xtask demo --help)"
        );
        assert_eq!(error.exit_code(), ExitCode::from(2));
        let failed = Error::Failed {
            what: "cannot write demo.json: permission denied".into(),
            fix: Some("give a path in a folder you can write to".into()),
        };
        assert!(
            failed
                .to_string()
                .ends_with("\ngive a path in a folder you can write to")
        );
        assert_eq!(failed.exit_code(), ExitCode::FAILURE);
    }
}
