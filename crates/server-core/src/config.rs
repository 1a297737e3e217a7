//! The flags every server takes, parsed with `lexopt` (tiny, no dependencies, fast to build).

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::process;
use std::sync::OnceLock;
use std::time::Duration;

use crate::limits::OpenFiles;

/// Which optional flags a server takes besides the common ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flags {
    /// `--host`, `--port`, `--sleep-ms`.
    Common,
    /// The common flags and `--workers` (the thread-pool stage).
    WithWorkers,
    /// The common flags and `--max-connections` (the concurrent async stages).
    WithMaxConnections,
}

/// How a server was asked to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The address to listen on: an IP address or a host name such as `localhost`.
    pub host: String,
    /// The port to listen on; 0 lets the operating system pick a free one.
    pub port: u16,
    /// How long `GET /sleep` waits before it answers.
    pub sleep: Duration,
    /// How many threads the pool has (stage 2 only).
    pub workers: usize,
    /// How long a client may take to send its request head before it gets 408 (or, if it
    /// sent nothing, is closed). Bounds how long one idle client holds a thread or a task.
    pub read_timeout: Duration,
    /// How long a graceful shutdown waits for the connections in flight.
    pub grace: Duration,
    /// How many connections are served at once before new ones wait (stages 4 and 5). By
    /// default below the open-files limit (see [`crate::limits`]).
    pub max_connections: usize,
    /// Lines for stderr at start-up: what a default was derived from, or a warning about a
    /// flag. [`announce`] prints them once the server listens (a server that cannot listen
    /// says only why).
    pub notes: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".to_string(),
            port: 7878,
            sleep: Duration::from_millis(5000),
            workers: 4,
            read_timeout: Duration::from_millis(10_000),
            grace: Duration::from_millis(10_000),
            max_connections: crate::limits::FIXED_DEFAULT,
            notes: Vec::new(),
        }
    }
}

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum ParsedArgs {
    Run(Config),
    Help(String),
    /// `--version`: the text to print, such as `stage-1 0.1.0`.
    Version(String),
}

/// A command line that cannot be run, with a message that says what to do instead.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (see --help)", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process's arguments. Prints the help or an error and exits when asked to or
    /// when the arguments are wrong, so a server's `main` gets a config it can use.
    ///
    /// The config is leaked on purpose: it lives as long as the program, so every thread and
    /// every task can borrow it without `Arc` or cloning.
    pub fn from_args(name: &str, about: &str, flags: Flags) -> &'static Config {
        match Config::parse(name, about, flags, std::env::args_os().skip(1)) {
            Ok(ParsedArgs::Run(config)) => {
                let _ = STARTUP_NOTES.set(config.notes.clone());
                Box::leak(Box::new(config))
            }
            Ok(ParsedArgs::Help(text) | ParsedArgs::Version(text)) => {
                print!("{text}");
                process::exit(0)
            }
            Err(err) => {
                eprintln!("{name}: {err}");
                process::exit(2)
            }
        }
    }

    /// Parses arguments (without the program name): the testable half of [`Config::from_args`].
    pub fn parse(
        name: &str,
        about: &str,
        flags: Flags,
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<ParsedArgs, ConfigError> {
        Config::parse_under(name, about, flags, args, &OpenFiles::of_this_process())
    }

    /// [`Config::parse`] under a given open-files limit, which sets the default
    /// `--max-connections`.
    pub fn parse_under(
        name: &str,
        about: &str,
        flags: Flags,
        args: impl IntoIterator<Item = OsString>,
        open_files: &OpenFiles,
    ) -> Result<ParsedArgs, ConfigError> {
        use lexopt::prelude::*;

        let mut config = Config::default();
        let (default_max, why_max) = open_files.default_max_connections();
        let mut explicit_max = false;
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(to_config_error)? {
            match arg {
                Long("host") => {
                    config.host = value_string(&mut parser, "--host")?;
                    if config.host.is_empty() {
                        return Err(ConfigError(
                            "--host needs an address, such as 127.0.0.1".into(),
                        ));
                    }
                }
                Long("port") => config.port = number(&mut parser, "--port")?,
                Long("sleep-ms") => {
                    config.sleep = Duration::from_millis(number(&mut parser, "--sleep-ms")?)
                }
                Long("workers") if flags == Flags::WithWorkers => {
                    config.workers = number(&mut parser, "--workers")?;
                    if config.workers == 0 {
                        return Err(ConfigError("--workers must be at least 1".into()));
                    }
                }
                Long("read-timeout-ms") => {
                    config.read_timeout = positive_millis(&mut parser, "--read-timeout-ms")?
                }
                Long("grace-ms") => {
                    config.grace = Duration::from_millis(number(&mut parser, "--grace-ms")?)
                }
                Long("max-connections") if flags == Flags::WithMaxConnections => {
                    config.max_connections = number(&mut parser, "--max-connections")?;
                    if config.max_connections == 0 {
                        return Err(ConfigError("--max-connections must be at least 1".into()));
                    }
                    explicit_max = true;
                }
                Short('h') | Long("help") => {
                    let max = (default_max, why_max.as_str());
                    return Ok(ParsedArgs::Help(help(name, about, flags, max)));
                }
                Short('V') | Long("version") => return Ok(ParsedArgs::Version(version(name))),
                other => return Err(to_config_error(other.unexpected())),
            }
        }
        if flags == Flags::WithMaxConnections {
            if explicit_max {
                config
                    .notes
                    .extend(open_files.warning_for(config.max_connections));
            } else {
                config.max_connections = default_max;
                config
                    .notes
                    .push(format!("(--max-connections {default_max}: {why_max})"));
            }
        }
        Ok(ParsedArgs::Run(config))
    }

    /// The address to bind, in the form every runtime's `bind` accepts.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Ends the program with a one-line message that says why the server could not listen and
    /// what to try instead. A port in use is the most common mistake in a classroom.
    pub fn exit_bind_failed(&self, err: io::Error) -> ! {
        let (host, port) = (&self.host, self.port);
        let hint = match err.kind() {
            io::ErrorKind::AddrInUse => format!(
                "port {port} is already in use (is another server still running?); \
                 stop it, or pick another port with --port {} or --port 0",
                port.wrapping_add(1).max(1)
            ),
            io::ErrorKind::PermissionDenied => format!(
                "not allowed to listen on port {port}; ports below 1024 need extra rights, \
                 try --port 7878 or --port 0"
            ),
            io::ErrorKind::AddrNotAvailable => {
                format!("{host} is not an address of this machine; try --host 127.0.0.1")
            }
            _ => format!("{err}; check --host and --port"),
        };
        eprintln!("error: cannot listen on {host}:{port}: {hint}");
        process::exit(1)
    }
}

/// The notes of the config that [`Config::from_args`] made, for [`announce`].
static STARTUP_NOTES: OnceLock<Vec<String>> = OnceLock::new();

/// Prints the first line of every server, `Listening on http://HOST:PORT`, with the real port
/// the operating system gave (which matters with `--port 0`). Tests and the demo read it.
/// Then, on stderr, the config's notes (such as the `--max-connections` it chose, and why).
pub fn announce(local_addr: io::Result<SocketAddr>) {
    match local_addr {
        // `println!` writes through a line buffer, so the line is flushed at its newline.
        Ok(addr) => {
            println!("Listening on http://{addr}");
            for note in STARTUP_NOTES.get().into_iter().flatten() {
                eprintln!("{note}");
            }
        }
        Err(err) => {
            eprintln!("error: listening, but cannot read the local address: {err}");
            process::exit(1)
        }
    }
}

fn help(name: &str, about: &str, flags: Flags, (max, why_max): (usize, &str)) -> String {
    let extra = match flags {
        Flags::WithWorkers => {
            "  --workers N           threads in the pool [default: 4]\n".to_string()
        }
        Flags::WithMaxConnections => format!(
            "  --max-connections N   connections served at once; more wait [default: {max}]\n{}",
            indented(&format!("({why_max})"), 24, 78)
        ),
        Flags::Common => String::new(),
    };
    format!(
        "{name}: {about}\n\
         \n\
         Usage: {name} [OPTIONS]\n\
         \n\
         Options:\n\
         \x20 --host HOST           address to listen on [default: 127.0.0.1]\n\
         \x20 --port PORT           port to listen on; 0 picks any free port [default: 7878]\n\
         \x20 --sleep-ms MS         how long GET /sleep waits before it answers [default: 5000]\n\
         {extra}\
         \x20 --read-timeout-ms MS  time a client has to send its request [default: 10000]\n\
         \x20 --grace-ms MS         on Ctrl-C, how long to let requests finish [default: 10000]\n\
         \x20 -h, --help            print this help\n\
         \x20 -V, --version         print the version\n\
         \n\
         Routes:\n\
         \x20 GET /        the hello page\n\
         \x20 GET /sleep   the hello page, after --sleep-ms (a slow request)\n\
         \x20 GET /block   like /sleep, but blocks its thread even in async stages (the mistake)\n\
         \x20 GET /cpu     the hello page, after a fixed amount of real CPU work\n\
         \x20 other paths  404; methods other than GET and HEAD get 405\n\
         \n\
         Example: {name} --port 0 --sleep-ms 2000\n"
    )
}

/// `text` wrapped at word boundaries to lines of at most `width`, each indented by `indent`.
fn indented(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{:indent$}{line}\n", ""));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{:indent$}{line}\n", ""));
    }
    out
}

/// `stage-1 0.1.0`: every package of the workspace has the same version, so server-core's is
/// every binary's.
fn version(name: &str) -> String {
    format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
}

fn value_string(parser: &mut lexopt::Parser, flag: &str) -> Result<String, ConfigError> {
    let value = parser.value().map_err(to_config_error)?;
    value.into_string().map_err(|_| {
        ConfigError(format!(
            "{flag} needs plain text, not bytes that are not UTF-8"
        ))
    })
}

fn number<T: std::str::FromStr>(parser: &mut lexopt::Parser, flag: &str) -> Result<T, ConfigError> {
    let text = value_string(parser, flag)?;
    text.parse().map_err(|_| {
        ConfigError(format!(
            "{flag} needs a whole number in range, not {text:?}"
        ))
    })
}

fn positive_millis(parser: &mut lexopt::Parser, flag: &str) -> Result<Duration, ConfigError> {
    match number(parser, flag)? {
        0 => Err(ConfigError(format!("{flag} must be at least 1"))),
        millis => Ok(Duration::from_millis(millis)),
    }
}

fn to_config_error(err: lexopt::Error) -> ConfigError {
    ConfigError(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: Flags, args: &[&str]) -> Result<ParsedArgs, ConfigError> {
        Config::parse("stage-x", "a test", flags, args.iter().map(OsString::from))
    }

    #[test]
    fn defaults_follow_the_contract() {
        let Ok(ParsedArgs::Run(config)) = parse(Flags::Common, &[]) else {
            panic!("no arguments must run with the defaults");
        };
        assert_eq!(config.address(), ("127.0.0.1", 7878));
        assert_eq!(config.sleep, Duration::from_millis(5000));
        assert_eq!(config.workers, 4);
    }

    #[test]
    fn every_flag_is_read() {
        let args = [
            "--host",
            "::1",
            "--port=0",
            "--sleep-ms",
            "250",
            "--workers",
            "2",
        ];
        let Ok(ParsedArgs::Run(config)) = parse(Flags::WithWorkers, &args) else {
            panic!("valid flags must run");
        };
        assert_eq!(config.address(), ("::1", 0));
        assert_eq!(config.sleep, Duration::from_millis(250));
        assert_eq!(config.workers, 2);
    }

    #[test]
    fn workers_is_refused_where_there_is_no_pool() {
        let err = parse(Flags::Common, &["--workers", "2"]).unwrap_err();
        assert_eq!(err.to_string(), "invalid option '--workers' (see --help)");
    }

    #[test]
    fn bad_numbers_say_what_was_wrong() {
        let err = parse(Flags::Common, &["--port", "70000"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--port needs a whole number in range, not \"70000\" (see --help)"
        );
        let err = parse(Flags::WithWorkers, &["--workers", "0"]).unwrap_err();
        assert_eq!(err.to_string(), "--workers must be at least 1 (see --help)");
    }

    #[test]
    fn help_lists_workers_only_for_the_pool() {
        let Ok(ParsedArgs::Help(common)) = parse(Flags::Common, &["--help"]) else {
            panic!("--help must print help");
        };
        assert!(common.starts_with("stage-x: a test\n"));
        assert!(common.contains("--sleep-ms MS"));
        assert!(!common.contains("--workers"));
        let Ok(ParsedArgs::Help(pool)) = parse(Flags::WithWorkers, &["-h"]) else {
            panic!("-h must print help");
        };
        assert!(pool.contains("--workers N"));
        assert!(!pool.contains("--max-connections"));
        let Ok(ParsedArgs::Help(concurrent)) = parse(Flags::WithMaxConnections, &["-h"]) else {
            panic!("-h must print help");
        };
        assert!(concurrent.contains("--max-connections N"));
    }

    #[test]
    fn version_prints_the_name_and_version() {
        let expected = format!("stage-x {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(
            parse(Flags::Common, &["--version"]),
            Ok(ParsedArgs::Version(expected.clone()))
        );
        assert_eq!(
            parse(Flags::WithWorkers, &["--port", "1", "-V"]),
            Ok(ParsedArgs::Version(expected))
        );
        let Ok(ParsedArgs::Help(help)) = parse(Flags::Common, &["--help"]) else {
            panic!("--help must print help");
        };
        assert!(help.contains("-V, --version"), "{help}");
    }

    #[test]
    fn timeouts_and_limits_are_read() {
        let args = [
            "--read-timeout-ms",
            "300",
            "--grace-ms",
            "0",
            "--max-connections",
            "2",
        ];
        let Ok(ParsedArgs::Run(config)) = parse(Flags::WithMaxConnections, &args) else {
            panic!("valid flags must run");
        };
        assert_eq!(config.read_timeout, Duration::from_millis(300));
        assert_eq!(config.grace, Duration::ZERO);
        assert_eq!(config.max_connections, 2);
        let err = parse(Flags::Common, &["--read-timeout-ms", "0"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--read-timeout-ms must be at least 1 (see --help)"
        );
    }

    #[test]
    fn max_connections_defaults_below_the_open_files_limit() {
        let under = |args: &[&str], limit| {
            let args = args.iter().map(OsString::from);
            let open_files = OpenFiles::Limit(limit);
            Config::parse_under("x", "a test", Flags::WithMaxConnections, args, &open_files)
        };
        let Ok(ParsedArgs::Run(config)) = under(&[], 1024) else {
            panic!("no arguments must run");
        };
        assert_eq!(config.max_connections, 1008);
        let why = "the open-files limit (ulimit -n) is 1024, less 16 kept for the listener, \
                   stdio and the runtime";
        assert_eq!(config.notes, [format!("(--max-connections 1008: {why})")]);
        let Ok(ParsedArgs::Help(help)) = under(&["--help"], 1024) else {
            panic!("--help must print help");
        };
        let expected = "  --max-connections N   connections served at once; more wait \
                        [default: 1008]\n\
                        \x20                       (the open-files limit (ulimit -n) is 1024, \
                        less 16\n\
                        \x20                       kept for the listener, stdio and the runtime)\n";
        assert!(help.contains(expected), "{help}");
        // An explicit value: no note, unless the limit cannot hold it.
        let Ok(ParsedArgs::Run(within)) = under(&["--max-connections", "100"], 1024) else {
            panic!("valid flags must run");
        };
        assert_eq!((within.max_connections, within.notes.len()), (100, 0));
        let Ok(ParsedArgs::Run(above)) = under(&["--max-connections", "5000"], 1024) else {
            panic!("valid flags must run");
        };
        assert_eq!(above.max_connections, 5000);
        assert!(above.notes[0].starts_with("warning: --max-connections 5000 is more"));
        // Stages without the flag say nothing about it.
        let Ok(ParsedArgs::Run(common)) = parse(Flags::Common, &[]) else {
            panic!("no arguments must run");
        };
        assert!(common.notes.is_empty());
    }
}
