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

/// The most URCs one `{:urcs, ...}` frame carries.
const MAX_URCS_PER_FRAME: usize = 256;

/// Sends events in order, in one write: URCs in a row go as one
/// `{:urcs, [...]}` frame (up to [`MAX_URCS_PER_FRAME`]). Exits the program
/// when stdout is closed.
pub fn emit_all(events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let mut bytes = Vec::new();
    for event in batch_urcs(events) {
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

/// Runs of two or more URCs become one [`Event::Urcs`]; the rest stays.
fn batch_urcs(events: &[Event]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<Event>| match run.len() {
        0 => {}
        1 => out.extend(run.drain(..).map(|line| Event::Urc { line })),
        _ => out.push(Event::Urcs {
            lines: std::mem::take(run),
        }),
    };
    for event in events {
        match event {
            Event::Urc { line } => {
                run.push(line.clone());
                if run.len() == MAX_URCS_PER_FRAME {
                    flush(&mut run, &mut out);
                }
            }
            other => {
                flush(&mut run, &mut out);
                out.push(other.clone());
            }
        }
    }
    flush(&mut run, &mut out);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn urc(n: u32) -> Event {
        Event::Urc {
            line: format!("+CEREG: 1,\"1A00\",\"{n:08X}\",7"),
        }
    }

    #[test]
    fn urcs_in_a_row_become_one_frame_in_order_and_nothing_else_moves() {
        let overflow = Event::Overflow { dropped: 3 };
        let events = vec![urc(1), urc(2), overflow.clone(), urc(3), urc(4), urc(5)];
        let lines = |r: std::ops::RangeInclusive<u32>| {
            r.map(|n| match urc(n) {
                Event::Urc { line } => line,
                _ => unreachable!(),
            })
            .collect::<Vec<_>>()
        };
        assert_eq!(
            batch_urcs(&events),
            vec![
                Event::Urcs {
                    lines: lines(1..=2)
                },
                overflow,
                Event::Urcs {
                    lines: lines(3..=5)
                },
            ]
        );
    }

    #[test]
    fn a_lone_urc_stays_a_urc_and_a_long_run_is_cut() {
        assert_eq!(batch_urcs(&[urc(9)]), vec![urc(9)]);
        let many: Vec<Event> = (0..(MAX_URCS_PER_FRAME as u32 * 2 + 1)).map(urc).collect();
        let out = batch_urcs(&many);
        assert_eq!(out.len(), 3);
        assert!(matches!(&out[0], Event::Urcs { lines } if lines.len() == MAX_URCS_PER_FRAME));
        assert!(matches!(&out[2], Event::Urc { .. }));
    }

    #[test]
    fn a_batch_frame_decodes_back() {
        let batch = Event::Urcs {
            lines: vec!["+CSQ: 20,99".into(), "RING".into()],
        };
        assert_eq!(Event::decode(&batch.encode().unwrap()).unwrap(), batch);
    }
}
