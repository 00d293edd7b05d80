//! The 27.010 basic-mode codec: a byte stream as it would arrive from a
//! modem in mux mode, through a [`Decoder`].
//!
//! Input: one settings byte, then the stream. The low four bits of the
//! settings byte pick the decoder's maximum information size N1 (from 1 to
//! 32,767, small ones often, so that the oversize path is reached).
//!
//! Invariants: decoding never panics; the decoder never holds more than
//! `max_buffered()` bytes, checked after every byte; the stream fed whole,
//! one byte at a time and cut at points derived from the input gives the
//! same events; every event is bounded (frames and bad-FCS frames by N1,
//! oversize lengths over it, garbage runs by the report size, all skipped
//! bytes by the input); every decoded frame re-encodes, and the encoding
//! decodes to exactly that frame; control messages of DLCI 0 UIH frames (and
//! the raw stream read as control messages) decode → encode → decode to the
//! same values; the advanced-mode escape and unescape are inverse.

use cellular_core::cmux::advanced::{escape, unescape};
use cellular_core::cmux::control::Message;
use cellular_core::cmux::{encode, Decoder, Event, Kind, GARBAGE_REPORT, MAX_INFO};

const N1: [usize; 16] = [
    1, 2, 5, 8, 16, 31, 64, 100, 127, 128, 200, 300, 1000, 1500, 4096, MAX_INFO,
];

/// How the stream is handed to the decoder.
#[derive(Clone, Copy)]
enum Cut {
    Whole,
    Bytes,
    Hashed(u64),
}

fn play(stream: &[u8], max_info: usize, cut: Cut) -> (Vec<Event>, usize) {
    let mut decoder = Decoder::new(max_info);
    let mut events = Vec::new();
    match cut {
        Cut::Whole => decoder.feed(stream, &mut events),
        Cut::Bytes => {
            for b in stream.chunks(1) {
                decoder.feed(b, &mut events);
                assert!(
                    decoder.buffered() <= decoder.max_buffered(),
                    "{} bytes held, limit {}",
                    decoder.buffered(),
                    decoder.max_buffered()
                );
            }
        }
        Cut::Hashed(mut h) => {
            let mut rest = stream;
            while !rest.is_empty() {
                h ^= h << 13;
                h ^= h >> 7;
                h ^= h << 17;
                // Mostly short pieces, sometimes empty, sometimes long.
                let take = match h % 8 {
                    7 => (h >> 8) as usize % 300,
                    n => n as usize,
                };
                let (piece, tail) = rest.split_at(take.min(rest.len()));
                decoder.feed(piece, &mut events);
                assert!(decoder.buffered() <= decoder.max_buffered());
                rest = tail;
            }
        }
    }
    assert!(decoder.buffered() <= decoder.max_buffered());
    (events, decoder.pending_garbage())
}

fn check_messages(bytes: &[u8]) {
    if let Ok(messages) = Message::decode_all(bytes) {
        let mut again = Vec::new();
        for m in &messages {
            m.encode_into(&mut again);
        }
        assert_eq!(Message::decode_all(&again), Ok(messages));
    }
    if let Ok((message, rest)) = Message::decode_one(bytes) {
        assert!(rest.len() < bytes.len());
        let again = message.encode();
        assert_eq!(Message::decode_one(&again), Ok((message, &[][..])));
    }
}

/// The `cmux` target.
pub fn cmux(data: &[u8]) {
    let Some((&settings, stream)) = data.split_first() else {
        return;
    };
    let max_info = N1[usize::from(settings & 0x0F)];
    let (events, pending) = play(stream, max_info, Cut::Whole);
    let bytes = play(stream, max_info, Cut::Bytes);
    assert_eq!(
        (&events, pending),
        (&bytes.0, bytes.1),
        "one byte at a time differs from the whole stream"
    );
    let hashed = play(stream, max_info, Cut::Hashed(crate::fnv(data) | 1));
    assert_eq!(
        (&events, pending),
        (&hashed.0, hashed.1),
        "hashed cuts differ from the whole stream"
    );

    let mut skipped = pending;
    for event in &events {
        match event {
            Event::Frame(frame) => {
                assert!(frame.info.len() <= max_info && frame.dlci <= 63);
                let mut wire = Vec::new();
                encode(frame, max_info, &mut wire).expect("a decoded frame re-encodes");
                let mut decoder = Decoder::new(max_info);
                let mut again = Vec::new();
                decoder.feed(&wire, &mut again);
                assert_eq!(
                    again,
                    std::slice::from_ref(event),
                    "encode → decode is not the identity"
                );
                if frame.dlci == 0 && frame.kind == Kind::Uih {
                    check_messages(&frame.info);
                }
            }
            Event::BadFcs { len, .. } => assert!(*len <= max_info),
            Event::Oversize { len, .. } => assert!(*len > max_info && *len <= MAX_INFO),
            Event::Garbage { bytes } => {
                assert!(*bytes > 0 && *bytes <= GARBAGE_REPORT);
                skipped += bytes;
            }
        }
    }
    assert!(
        skipped <= stream.len(),
        "{skipped} skipped of {}",
        stream.len()
    );

    check_messages(stream);
    let mut escaped = Vec::new();
    escape(stream, &mut escaped);
    let mut back = Vec::new();
    assert_eq!(unescape(&escaped, &mut back), Ok(()));
    assert_eq!(back, stream);
    let mut plain = Vec::new();
    if unescape(stream, &mut plain).is_ok() {
        let mut again = Vec::new();
        escape(&plain, &mut again);
        let mut twice = Vec::new();
        assert_eq!(unescape(&again, &mut twice), Ok(()));
        assert_eq!(twice, plain);
    }
}
