//! Event frames to Elixir on stdout, `{:packet, 4}`.
//!
//! Writes are blocking and whole-frame under one lock, so the log lines,
//! the main loop and the panic hook never interleave frames. If the BEAM stops
//! reading, the program waits (the tty's bytes wait in the kernel); if stdout
//! is gone (EPIPE), the BEAM is gone and the program exits.

use cellular_core::protocol::{frame, Event};
use std::io::Write;
use std::sync::Mutex;

static STDOUT: Mutex<()> = Mutex::new(());

/// Sends one event. Exits the program when stdout is closed.
pub fn emit(event: &Event) {
    let body = match event.encode() {
        Ok(body) => body,
        Err(e) => {
            eprintln!("cellular_port: {e}");
            return;
        }
    };
    let bytes = frame(&body);
    let _guard = STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    write_or_exit(&bytes);
}

/// Sends events in order, in one write. Exits the program when stdout is
/// closed.
pub fn emit_all(events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let mut bytes = Vec::new();
    for event in events {
        match event.encode() {
            Ok(body) => bytes.extend_from_slice(&frame(&body)),
            Err(e) => eprintln!("cellular_port: {e}"),
        }
    }
    let _guard = STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    write_or_exit(&bytes);
}

/// Sends one event unless another frame is being written right now (used by
/// the panic hook, which must not wait on a lock its own thread may hold).
pub fn try_emit(event: &Event) {
    if let (Ok(body), Ok(_guard)) = (event.encode(), STDOUT.try_lock()) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&frame(&body));
        let _ = out.flush();
    }
}

fn write_or_exit(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if out.write_all(bytes).and_then(|_| out.flush()).is_err() {
        // The BEAM closed our stdout: nobody is listening any more.
        std::process::exit(0);
    }
}
