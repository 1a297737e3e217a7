//! The doctor's port check: the servers' port free on 127.0.0.1.

use std::io;
use std::net::{Ipv4Addr, TcpListener};

use super::{DEFAULT_PORT, Diagnosis};

/// Binds 127.0.0.1:`port` like the servers do; the listener, if any, is for the loopback check.
pub(super) fn check_port(port: u16) -> (Diagnosis, io::Result<TcpListener>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
    let outcome = match &listener {
        Ok(_) => Diagnosis::Ok(format!(
            "127.0.0.1:{port} is free for the servers (their default: --port {DEFAULT_PORT})"
        )),
        Err(err) => port_problem(port, err),
    };
    (outcome, listener)
}

pub(super) fn port_problem(port: u16, err: &io::Error) -> Diagnosis {
    match err.kind() {
        io::ErrorKind::AddrInUse => {
            let mut fixes = vec![format!(
                "stop it (an earlier server still running? press Ctrl-C in its terminal), \
                 or run the servers with {}",
                other_port(port)
            )];
            if cfg!(windows) {
                fixes.push(format!(
                    "see which program it is: `netstat -ano | findstr :{port}`"
                ));
            } else {
                fixes.push(format!("see which program it is: `lsof -i :{port}`"));
            }
            Diagnosis::Fix {
                problem: format!("port {port} is in use by another program"),
                details: Vec::new(),
                fixes,
            }
        }
        io::ErrorKind::PermissionDenied => {
            let mut fixes = Vec::new();
            if port < 1024 {
                fixes.push(format!(
                    "ports below 1024 need extra rights: use the default, --port {DEFAULT_PORT}"
                ));
            } else if cfg!(windows) {
                fixes.push(format!(
                    "Windows may reserve it (`netsh interface ipv4 show excludedportrange \
                     protocol=tcp`): run the servers with {}",
                    other_port(port)
                ));
            } else {
                fixes.push(format!("run the servers with {}", other_port(port)));
            }
            fixes.push(
                "if every port is refused, ask whoever manages this laptop to allow \
                 listening on 127.0.0.1"
                    .into(),
            );
            Diagnosis::Fix {
                problem: format!("not allowed to listen on 127.0.0.1:{port}: {err}"),
                details: Vec::new(),
                fixes,
            }
        }
        _ => Diagnosis::fix(
            format!("cannot listen on 127.0.0.1:{port}: {err}"),
            &[
                "check that loopback (127.0.0.1) is enabled; ask whoever manages this \
                 laptop if a security tool blocks it",
            ],
        ),
    }
}

/// The `--port` to suggest instead of `port`: 8080 (or 8081) if it is free now, else 0.
pub(super) fn other_port(port: u16) -> String {
    let candidate = if port == 8080 { 8081 } else { 8080 };
    if TcpListener::bind((Ipv4Addr::LOCALHOST, candidate)).is_ok() {
        format!("`--port {candidate}`")
    } else {
        "`--port 0` (the server then prints the port it picked)".to_string()
    }
}
