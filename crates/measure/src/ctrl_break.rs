//! Ctrl-C for a server on Windows, which has no signals to send to another process.
//!
//! A console delivers Ctrl-C and Ctrl-Break to the processes attached to it, by process
//! group. A server started in a group of its own ([`NEW_PROCESS_GROUP`], which every
//! [`crate::ServerProcess`] is) can be sent Ctrl-Break alone with `GenerateConsoleCtrlEvent`;
//! Ctrl-C itself cannot be sent to such a group (Windows turns it off there). The servers
//! take Ctrl-Break as Ctrl-C: ctrlc's console handler answers every console event alike.
//! The sender must share the server's console, as a test or a workshop's grader that started
//! it does.
//!
//! A process with no console at all (a CI runner's service, a program started from a GUI)
//! can send nothing: [`have_a_console`] gives it one before it starts a server, as ctrlc's own
//! tests do.
//!
//! The two `unsafe` calls of this crate (see `[lints]` in its Cargo.toml).

use std::io;

use windows_sys::Win32::System::Console::{
    AllocConsole, CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent,
};

/// The creation flag that starts a process as the leader of a new process group, whose ID
/// is its PID: what [`send_ctrl_break`] names.
pub const NEW_PROCESS_GROUP: u32 = windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;

/// Sends Ctrl-Break to the process group `pid` leads: a process started with
/// [`NEW_PROCESS_GROUP`], and the processes it started.
#[allow(unsafe_code)]
pub fn send_ctrl_break(pid: u32) -> io::Result<()> {
    // SAFETY: GenerateConsoleCtrlEvent takes two integers by value and no pointer, so it
    // cannot touch this process's memory; a group that is not on this console is an error it
    // returns, read just below.
    let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) };
    if sent == 0 {
        return Err(io::Error::other(format!(
            "cannot send Ctrl-Break to process group {pid}: {}",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Makes sure this process has a console for its servers to share, so that
/// [`send_ctrl_break`] can reach them: a server inherits its parent's console when it starts.
/// Where there is one already (a terminal), `AllocConsole` fails and nothing changes.
#[allow(unsafe_code)]
pub fn have_a_console() {
    // SAFETY: AllocConsole takes no argument and touches no memory of this process; its
    // failure (a console is already there) is the case where there is nothing to do.
    let _already_had_one = unsafe { AllocConsole() } == 0;
}
