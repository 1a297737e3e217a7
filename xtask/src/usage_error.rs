//! A command line that cannot be run as given: an unknown command, or options its command
//! refuses. `main` prints it with where to read the help, and exits with status 2 (the
//! convention for usage errors). A command that fails at its work prints its own error and
//! returns its exit status: each knows best what went wrong and what to do about it.

use std::fmt;
use std::process::ExitCode;

/// Why the command line cannot be run.
#[derive(Debug, PartialEq, Eq)]
pub enum UsageError {
    /// The command's options are wrong: what is wrong, and the command, for its `--help`.
    BadOptions {
        command: &'static str,
        message: String,
    },
    /// No command has this name.
    UnknownCommand(String),
}

impl UsageError {
    pub fn bad_options(command: &'static str, message: impl Into<String>) -> UsageError {
        UsageError::BadOptions {
            command,
            message: message.into(),
        }
    }

    /// Status 2, as for every usage error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::BadOptions { command, message } => {
                write!(f, "{message} (see cargo xtask {command} --help)")
            }
            UsageError::UnknownCommand(name) => {
                write!(f, "unknown command {name:?}: see cargo xtask --help")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_says_where_the_help_is() {
        let error = UsageError::bad_options("demo", "unexpected argument --bogus");
        assert_eq!(
            error.to_string(),
            "unexpected argument --bogus (see cargo xtask demo --help)"
        );
        assert_eq!(error.exit_code(), ExitCode::from(2));
        let unknown = UsageError::UnknownCommand("demmo".into());
        assert_eq!(
            unknown.to_string(),
            "unknown command \"demmo\": see cargo xtask --help"
        );
        assert_eq!(unknown.exit_code(), ExitCode::from(2));
    }
}
