//! Opening the tty: serialport for raw mode, speed and flow control, then
//! `O_NONBLOCK` again (serialport clears it) so tokio can poll it.

use crate::sys;
use cellular_core::protocol::FlowControl;
use serialport::{ClearBuffer, SerialPort, TTYPort};
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// Where and how to open.
#[derive(Debug, Clone)]
pub struct Settings {
    pub path: String,
    pub speed: u32,
    pub flow_control: FlowControl,
}

/// Opens the tty in raw mode, exclusively, with stale input discarded.
pub fn open(settings: &Settings) -> Result<AsyncFd<TTYPort>, String> {
    let flow = match settings.flow_control {
        FlowControl::None => serialport::FlowControl::None,
        FlowControl::Hardware => serialport::FlowControl::Hardware,
    };
    let port = serialport::new(&settings.path, settings.speed)
        .flow_control(flow)
        .timeout(Duration::from_millis(100))
        .open_native()
        .map_err(|e| e.to_string())?;
    // Bytes that arrived before we opened belong to nobody.
    let _ = port.clear(ClearBuffer::Input);
    sys::set_nonblocking(port.as_raw_fd()).map_err(|e| format!("cannot set O_NONBLOCK: {e}"))?;
    // SAFETY: the TTYPort owns its fd and keeps it open until it is dropped,
    // which happens only when the AsyncFd is dropped.
    unsafe { AsyncFd::register(port) }.map_err(|e| format!("cannot poll the tty: {e}"))
}
