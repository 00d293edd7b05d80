//! The port protocol: `{packet, 4}` framing and the Erlang external term
//! format bodies in both directions (requests the BEAM sends the port
//! program, events it gets back), and the ETF decoder under both.
//!
//! The input is a byte stream as it would arrive on a pipe. The first byte
//! picks the frame limit and how the stream is cut into reads; the rest goes
//! through a [`FrameReader`], and every frame body is decoded as a
//! [`Request`] and as an [`Event`].
//!
//! Invariants: the frames (or the error) do not depend on how the stream was
//! cut; no frame exceeds the limit; a body that decodes re-encodes to a body
//! that decodes to the same value (decode → encode → decode is the identity),
//! and framing that body gives it back; `to_value` never panics; any body the
//! ETF decoder accepts holds only atoms of `protocol::ATOMS` and re-encodes to
//! a term that decodes to the same value.

use cellular_core::etf;
use cellular_core::protocol::{frame, Event, FrameReader, Request, ATOMS};

/// All frames of a stream cut into pieces of `piece` bytes (0: one piece),
/// and the error that ended it, if any.
fn frames(stream: &[u8], max_frame: usize, piece: usize) -> (Vec<Vec<u8>>, Option<String>) {
    let mut reader = FrameReader::new(max_frame);
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if piece == 0 {
        vec![stream]
    } else {
        stream.chunks(piece).collect()
    };
    for p in pieces {
        reader.push(p);
        loop {
            match reader.next_frame() {
                Ok(Some(body)) => {
                    assert!(body.len() <= max_frame, "frame over the limit");
                    out.push(body);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e.0)),
            }
        }
    }
    (out, None)
}

fn check_body(body: &[u8]) {
    if let Ok(value) = etf::decode(body, ATOMS) {
        let mut atoms = Vec::new();
        value.atoms(&mut atoms);
        assert!(atoms.iter().all(|a| ATOMS.contains(a)));
        assert_eq!(etf::decode(&etf::encode(&value), ATOMS), Ok(value));
    }
    if let Ok(request) = Request::decode(body) {
        let again = request.encode().expect("a decoded request re-encodes");
        assert_eq!(Request::decode(&again).as_ref(), Ok(&request));
        let framed = frame(&again);
        let (back, err) = frames(&framed, again.len(), 0);
        assert_eq!((back, err), (vec![again], None));
    }
    if let Ok(event) = Event::decode(body) {
        let again = event.encode().expect("a decoded event re-encodes");
        assert_eq!(Event::decode(&again).as_ref(), Ok(&event));
        let _ = event.to_value();
    }
}

/// The `protocol` target.
pub fn protocol(data: &[u8]) {
    let Some((&settings, stream)) = data.split_first() else {
        return;
    };
    // Small limits reach the "too large" error; the largest is the port
    // program's own (1 MiB).
    let max_frame = match settings & 3 {
        0 => 1 << 20,
        1 => 64,
        2 => 4096,
        _ => usize::from(settings >> 2),
    };
    let piece = usize::from(settings >> 4);
    let (whole, err) = frames(stream, max_frame, 0);
    let cut = frames(stream, max_frame, piece.max(1));
    assert_eq!(
        (&whole, &err),
        (&cut.0, &cut.1),
        "framing depends on the cuts"
    );
    for body in &whole {
        check_body(body);
    }
    // The stream may also be one body without its length prefix.
    check_body(stream);
}
