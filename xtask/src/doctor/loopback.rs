//! The doctor's loopback check: a TCP round trip on 127.0.0.1 (some locked-down laptops block it).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::{Diagnosis, LOOPBACK_TIMEOUT};

pub(super) fn check_loopback(listener: io::Result<TcpListener>) -> Diagnosis {
    let fixes = [
        "ask whoever manages this laptop to allow connections to 127.0.0.1 (loopback): \
         the workshop's servers and clients talk over it",
        "a firewall, VPN or antivirus that filters local connections is the usual cause",
    ];
    let listener = match listener {
        Ok(listener) => listener,
        Err(err) => return Diagnosis::fix(format!("cannot listen on 127.0.0.1: {err}"), &fixes),
    };
    match round_trip(&listener) {
        Ok(address) => Diagnosis::Ok(format!(
            "a connection to {address} was accepted and carried data"
        )),
        Err(problem) => Diagnosis::fix(problem, &fixes),
    }
}

/// Connects to `listener` from a second socket, accepts that connection, and sends a few
/// bytes through it; the listener's address on success.
pub(super) fn round_trip(listener: &TcpListener) -> Result<SocketAddr, String> {
    const HELLO: &[u8] = b"doctor";
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the listener's address: {err}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|err| format!("cannot set up the listener on {address}: {err}"))?;
    let mut client = TcpStream::connect_timeout(&address, LOOPBACK_TIMEOUT)
        .map_err(|err| format!("cannot connect to {address}: {err}"))?;
    let client_address = client
        .local_addr()
        .map_err(|err| format!("cannot read the client's address: {err}"))?;
    let deadline = Instant::now() + LOOPBACK_TIMEOUT;
    let mut server = loop {
        if Instant::now() >= deadline {
            return Err(format!(
                "connected to {address}, but the connection never arrived at the listener"
            ));
        }
        match listener.accept() {
            // Another program's connection to our port is not the one we are waiting for.
            Ok((stream, peer)) if peer == client_address => break stream,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(format!("cannot accept a connection on {address}: {err}")),
        }
    };
    // An accepted socket may inherit the listener's non-blocking mode (Windows, macOS).
    server
        .set_nonblocking(false)
        .and_then(|()| server.set_read_timeout(Some(LOOPBACK_TIMEOUT)))
        .map_err(|err| format!("cannot set up the accepted connection: {err}"))?;
    client
        .write_all(HELLO)
        .map_err(|err| format!("cannot send on the connection to {address}: {err}"))?;
    let mut received = [0; HELLO.len()];
    server
        .read_exact(&mut received)
        .map_err(|err| format!("connected to {address}, but no data arrived: {err}"))?;
    if received != HELLO {
        return Err(format!(
            "connected to {address}, but the data arrived changed"
        ));
    }
    Ok(address)
}
