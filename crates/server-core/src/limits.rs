//! The default `--max-connections`: below the open-files limit, so that backpressure (new
//! clients wait in the listen queue) comes before exhaustion (`accept` fails with
//! "Too many open files", see [`crate::accept`]).
//!
//! Every connection is a socket, and every socket a file descriptor. A process may hold only
//! as many as its soft open-files limit (`ulimit -n`): 256 on macOS by default, often 1024 on
//! a Linux desktop. So on Unix the default is that limit less a [`MARGIN`] for the files the
//! server holds anyway, at most [`FIXED_DEFAULT`]. Windows has no such per-process limit to
//! read, so there the default stays fixed.

/// The default where the open-files limit allows more, or cannot be read (Windows).
pub const FIXED_DEFAULT: usize = 10_000;

/// Descriptors kept back from the limit for what is not a connection. A fresh stage 5 holds
/// 9 on Linux, on each runtime (counted in `/proc/PID/fd`): stdin, stdout and stderr, the
/// listener, the Ctrl-C handler's pipe, and the runtime's poller and wake-up descriptors
/// (the blocking stages hold 6). The rest is room to spare.
pub const MARGIN: u64 = 16;

/// The soft open-files limit of this process, as far as it can be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenFiles {
    /// `ulimit -n`.
    Limit(u64),
    /// No limit (`ulimit -n unlimited`).
    Unlimited,
    /// Not known: Windows, or the system would not say (the reason).
    Unknown(String),
}

impl OpenFiles {
    /// Reads this process's soft limit (`getrlimit(RLIMIT_NOFILE)`).
    #[cfg(unix)]
    pub fn of_this_process() -> OpenFiles {
        use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};
        match getrlimit(Resource::RLIMIT_NOFILE) {
            Ok((soft, _hard)) if soft == RLIM_INFINITY => OpenFiles::Unlimited,
            Ok((soft, _hard)) => OpenFiles::Limit(soft),
            Err(err) => OpenFiles::Unknown(format!("cannot read the open-files limit: {err}")),
        }
    }

    #[cfg(not(unix))]
    pub fn of_this_process() -> OpenFiles {
        OpenFiles::Unknown("fixed: this system has no open-files limit to read".to_string())
    }

    /// How many connections fit under the limit, if there is one.
    pub fn room_for_connections(&self) -> Option<usize> {
        match self {
            OpenFiles::Limit(limit) => {
                let room = limit.saturating_sub(MARGIN).max(1);
                Some(usize::try_from(room).unwrap_or(usize::MAX))
            }
            OpenFiles::Unlimited | OpenFiles::Unknown(_) => None,
        }
    }

    /// The default `--max-connections`, and why, in words for `--help` and the log.
    pub fn default_max_connections(&self) -> (usize, String) {
        match (self, self.room_for_connections()) {
            (OpenFiles::Limit(limit), Some(room)) if room < FIXED_DEFAULT => (
                room,
                format!(
                    "the open-files limit (ulimit -n) is {limit}, less {MARGIN} kept for the \
                     listener, stdio and the runtime"
                ),
            ),
            (OpenFiles::Limit(limit), _) => (
                FIXED_DEFAULT,
                format!("the open-files limit (ulimit -n) of {limit} allows more"),
            ),
            (OpenFiles::Unlimited, _) => (
                FIXED_DEFAULT,
                "there is no open-files limit (ulimit -n unlimited)".to_string(),
            ),
            (OpenFiles::Unknown(why), _) => (FIXED_DEFAULT, why.clone()),
        }
    }

    /// A warning for an explicit `--max-connections` that the limit cannot hold.
    pub fn warning_for(&self, max_connections: usize) -> Option<String> {
        let room = self.room_for_connections()?;
        let OpenFiles::Limit(limit) = self else {
            return None;
        };
        (max_connections > room).then(|| {
            format!(
                "warning: --max-connections {max_connections} is more than the open-files limit \
                 (ulimit -n {limit}) leaves room for ({room}); past that, accepts fail with \
                 \"Too many open files\" and the server pauses accepting. Raise the limit \
                 (ulimit -n) or lower --max-connections."
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_limit_sets_the_default_below_it() {
        let (value, why) = OpenFiles::Limit(1024).default_max_connections();
        assert_eq!(value, 1008);
        assert_eq!(
            why,
            "the open-files limit (ulimit -n) is 1024, less 16 kept for the listener, stdio and \
             the runtime"
        );
        assert_eq!(OpenFiles::Limit(256).default_max_connections().0, 240);
        assert_eq!(OpenFiles::Limit(40).default_max_connections().0, 24);
        // Even an absurd limit leaves one connection.
        assert_eq!(OpenFiles::Limit(3).default_max_connections().0, 1);
    }

    #[test]
    fn a_high_limit_or_none_keeps_the_fixed_default() {
        let (value, why) = OpenFiles::Limit(1 << 20).default_max_connections();
        assert_eq!(
            (value, why.as_str()),
            (
                10_000,
                "the open-files limit (ulimit -n) of 1048576 allows more"
            )
        );
        assert_eq!(OpenFiles::Unlimited.default_max_connections().0, 10_000);
        let unknown = OpenFiles::Unknown("fixed".into()).default_max_connections();
        assert_eq!(unknown, (10_000, "fixed".to_string()));
    }

    #[test]
    fn an_explicit_value_above_the_limit_is_warned_about() {
        let limit = OpenFiles::Limit(40);
        assert_eq!(limit.warning_for(24), None);
        let warning = limit.warning_for(10_000).expect("a warning");
        assert!(
            warning.starts_with(
                "warning: --max-connections 10000 is more than the open-files limit (ulimit -n \
                 40) leaves room for (24);"
            ),
            "{warning}"
        );
        assert_eq!(OpenFiles::Unlimited.warning_for(1 << 30), None);
    }

    #[cfg(unix)]
    #[test]
    fn this_process_has_a_limit_or_none() {
        assert!(!matches!(
            OpenFiles::of_this_process(),
            OpenFiles::Unknown(_)
        ));
    }
}
