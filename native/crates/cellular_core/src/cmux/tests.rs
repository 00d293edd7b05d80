use super::control::{Body, DecodeError, Message, Msc, Pn};
use super::*;

fn wire(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode(frame, MAX_INFO, &mut out).expect("test frame encodes");
    out
}

fn decode_all(bytes: &[u8], max_info: usize) -> Vec<Event> {
    let mut d = Decoder::new(max_info);
    let mut events = Vec::new();
    d.feed(bytes, &mut events);
    events
}

// --- FCS and the well-known frames -------------------------------------

/// The CRC table from its definition, one bit at a time, against the const table.
#[test]
fn crc_table_matches_bitwise_crc() {
    for i in 0..=255u8 {
        let mut crc = i;
        for _ in 0..8 {
            let lsb = crc & 1;
            crc >>= 1;
            if lsb != 0 {
                crc ^= 0xE0;
            }
        }
        assert_eq!(CRC_TABLE[usize::from(i)], crc, "entry {i}");
    }
    // 0xE0 is x^8+x^2+x+1 (0x07) with its bits reversed.
    assert_eq!(0x07u8.reverse_bits(), 0xE0);
}

/// The three control frames that open and close a basic-mode multiplexer,
/// as they appear in modem manuals and logs: the FCS is computed by this
/// code (not copied) and must equal the documented octet, and decoding the
/// documented bytes gives the frame.
#[test]
fn well_known_basic_frames() {
    let cases: [(Kind, [u8; 6]); 3] = [
        (Kind::Sabm, [0xF9, 0x03, 0x3F, 0x01, 0x1C, 0xF9]),
        (Kind::Ua, [0xF9, 0x03, 0x73, 0x01, 0xD7, 0xF9]),
        (Kind::Disc, [0xF9, 0x03, 0x53, 0x01, 0xFD, 0xF9]),
    ];
    for (kind, bytes) in cases {
        // The FCS over address, control, length.
        assert_eq!(fcs(&bytes[1..4]), bytes[4], "{kind:?}");
        assert!(fcs_ok(&bytes[1..4], bytes[4]));
        let frame = Frame::empty(0, kind, true, true);
        assert_eq!(wire(&frame), bytes, "{kind:?}");
        assert_eq!(decode_all(&bytes, DEFAULT_MAX_INFO), [Event::Frame(frame)]);
    }
}

/// UIH on DLCI 1 with "AT\r": the FCS covers only address, control and
/// length, so it equals the FCS of the same header with any information.
#[test]
fn uih_at_command_on_dlci_1() {
    let frame = Frame::uih(1, true, b"AT\r".to_vec());
    let bytes = wire(&frame);
    // Address 0x07 (DLCI 1, C/R, EA), control 0xEF, length 3 -> 0x07.
    assert_eq!(&bytes[..4], &[0xF9, 0x07, 0xEF, 0x07]);
    assert_eq!(&bytes[4..7], b"AT\r");
    // Computed by this code's CRC over [07 EF 07] (the CRC that reproduces
    // the three documented frames above): 0xD3. Not from a published trace.
    assert_eq!(bytes[7], fcs(&[0x07, 0xEF, 0x07]));
    assert_eq!(bytes[7], 0xD3);
    assert_eq!(bytes[8], FLAG);
    assert!(fcs_ok(&[0x07, 0xEF, 0x07], bytes[7]));
    assert_eq!(
        decode_all(&bytes, DEFAULT_MAX_INFO),
        [Event::Frame(frame.clone())]
    );
    // The information is not checked: a UIH frame with other data of the
    // same length has the same FCS.
    let other = wire(&Frame::uih(1, true, b"XYZ".to_vec()));
    assert_eq!(other[7], bytes[7]);
    // A UI frame's FCS does cover it.
    let mut ui = frame.clone();
    ui.kind = Kind::Ui;
    let ui_bytes = wire(&ui);
    assert_eq!(ui_bytes[7], fcs(&ui_bytes[1..7]));
}

// --- round trips --------------------------------------------------------

fn sample_frames() -> Vec<Frame> {
    let mut frames = Vec::new();
    for kind in Kind::ALL {
        for (dlci, pf, cr) in [(0, true, true), (1, false, false), (63, true, false)] {
            frames.push(Frame::empty(dlci, kind, pf, cr));
            frames.push(Frame {
                dlci,
                kind,
                pf,
                cr,
                info: vec![0xF9, 0x00, 0x7E, 0xFF],
            });
        }
    }
    frames.push(Frame::uih(2, true, (0..=255u8).cycle().take(127).collect()));
    frames.push(Frame::uih(
        3,
        false,
        (0..=255u8).cycle().take(128).collect(),
    ));
    frames
}

#[test]
fn every_kind_round_trips() {
    for frame in sample_frames() {
        let bytes = wire(&frame);
        assert_eq!(bytes.len(), frame_len(frame.info.len()));
        assert_eq!(
            decode_all(&bytes, MAX_INFO),
            [Event::Frame(frame.clone())],
            "{frame:?}"
        );
    }
}

#[test]
fn two_octet_lengths() {
    for len in [128usize, 129, 255, 256, 1500, 16384, MAX_INFO] {
        let frame = Frame::uih(5, true, vec![0xF9; len]);
        let bytes = wire(&frame);
        // Length: 7 low bits with EA clear, then the high 8 bits.
        assert_eq!(bytes[3], ((len & 0x7F) as u8) << 1, "{len}");
        assert_eq!(bytes[4], (len >> 7) as u8, "{len}");
        assert_eq!(bytes.len(), len + 7);
        assert_eq!(decode_all(&bytes, MAX_INFO), [Event::Frame(frame)], "{len}");
    }
    // 127 is the longest one-octet length.
    let bytes = wire(&Frame::uih(5, true, vec![0; 127]));
    assert_eq!(bytes[3], 0xFF);
    assert_eq!(bytes.len(), 127 + 6);
}

#[test]
fn encode_refuses_bad_frames() {
    let mut out = Vec::new();
    assert_eq!(
        encode(&Frame::empty(64, Kind::Sabm, true, true), 127, &mut out),
        Err(EncodeError::BadDlci(64))
    );
    assert_eq!(
        encode(&Frame::uih(1, true, vec![0; 128]), 127, &mut out),
        Err(EncodeError::TooLong { len: 128, max: 127 })
    );
    assert_eq!(
        encode(
            &Frame::uih(1, true, vec![0; MAX_INFO + 1]),
            usize::MAX,
            &mut out
        ),
        Err(EncodeError::TooLong {
            len: MAX_INFO + 1,
            max: MAX_INFO
        })
    );
    assert!(out.is_empty());
}

// --- streaming -----------------------------------------------------------

fn stream() -> (Vec<u8>, Vec<Frame>) {
    let frames = vec![
        Frame::empty(0, Kind::Sabm, true, true),
        Frame::empty(0, Kind::Ua, true, true),
        Frame::uih(1, true, b"AT+CSQ\r".to_vec()),
        Frame::uih(2, false, vec![0xF9; 40]),
        Frame {
            dlci: 3,
            kind: Kind::Ui,
            pf: true,
            cr: false,
            info: b"\xF9\xF9ui".to_vec(),
        },
        Frame::uih(1, false, (0..200u16).map(|i| i as u8).collect()),
        Frame::empty(0, Kind::Disc, true, true),
    ];
    let mut bytes = Vec::new();
    for f in &frames {
        encode(f, 300, &mut bytes).expect("encodes");
    }
    (bytes, frames)
}

#[test]
fn every_split_gives_the_same_events() {
    let (bytes, frames) = stream();
    let expected: Vec<Event> = frames.into_iter().map(Event::Frame).collect();
    assert_eq!(decode_all(&bytes, 300), expected);
    // Cut in two at every position.
    for cut in 0..=bytes.len() {
        let mut d = Decoder::new(300);
        let mut events = Vec::new();
        d.feed(&bytes[..cut], &mut events);
        d.feed(&bytes[cut..], &mut events);
        assert_eq!(events, expected, "cut at {cut}");
    }
    // One byte at a time, and in pieces of every size up to 17.
    for size in 1..=17 {
        let mut d = Decoder::new(300);
        let mut events = Vec::new();
        for piece in bytes.chunks(size) {
            d.feed(piece, &mut events);
            assert!(d.buffered() <= d.max_buffered());
        }
        assert_eq!(events, expected, "pieces of {size}");
    }
}

#[test]
fn shared_and_repeated_flags() {
    let a = wire(&Frame::uih(1, true, b"a".to_vec()));
    let b = wire(&Frame::uih(2, true, b"b".to_vec()));
    // The closing flag of the first opens the second.
    let mut shared = a.clone();
    shared.extend_from_slice(&b[1..]);
    // Runs of flags between frames are idle fill.
    let mut repeated = vec![FLAG, FLAG];
    repeated.extend_from_slice(&a);
    repeated.extend_from_slice(&[FLAG; 5]);
    repeated.extend_from_slice(&b);
    let expected = [
        Event::Frame(Frame::uih(1, true, b"a".to_vec())),
        Event::Frame(Frame::uih(2, true, b"b".to_vec())),
    ];
    assert_eq!(decode_all(&shared, 127), expected);
    assert_eq!(decode_all(&repeated, 127), expected);
}

#[test]
fn bad_fcs_is_reported_and_the_next_frame_decodes() {
    let mut bytes = wire(&Frame::uih(1, true, b"lost".to_vec()));
    let fcs_at = bytes.len() - 2;
    bytes[fcs_at] ^= 0x55;
    let good = Frame::uih(2, true, b"kept".to_vec());
    bytes.extend_from_slice(&wire(&good));
    assert_eq!(
        decode_all(&bytes, 127),
        [
            Event::BadFcs { dlci: 1, len: 4 },
            Event::Frame(good.clone())
        ]
    );
    // A corrupted UI information octet breaks its FCS; a UIH one does not.
    let mut ui = wire(&Frame {
        info: b"data".to_vec(),
        ..Frame::empty(3, Kind::Ui, false, true)
    });
    ui[5] ^= 1;
    assert_eq!(decode_all(&ui, 127), [Event::BadFcs { dlci: 3, len: 4 }]);
}

#[test]
fn garbage_before_and_between_frames() {
    let frame = Frame::uih(1, true, b"x".to_vec());
    let mut bytes = b"\r\nOK\r\n".to_vec();
    bytes.extend_from_slice(&wire(&frame));
    bytes.extend_from_slice(b"junk");
    bytes.extend_from_slice(&wire(&frame));
    assert_eq!(
        decode_all(&bytes, 127),
        [
            Event::Garbage { bytes: 6 },
            Event::Frame(frame.clone()),
            // "junk" after the shared flag: 'j' (0x6A) has EA clear, so it
            // is no address; the rest is skipped up to the next flag.
            Event::Garbage { bytes: 4 },
            Event::Frame(frame),
        ]
    );
}

/// A frame whose closing flag is missing is not delivered, and the frame
/// after it still is, whether the missing flag was replaced by another octet
/// or the next frame begins right away.
#[test]
fn lost_closing_flag() {
    let first = Frame::uih(1, true, b"first".to_vec());
    let second = Frame::uih(2, true, b"second".to_vec());
    // Closing flag replaced by noise.
    let mut bytes = wire(&first);
    let last = bytes.len() - 1;
    bytes[last] = 0x00;
    bytes.extend_from_slice(&wire(&second));
    let events = decode_all(&bytes, 127);
    assert_eq!(events.last(), Some(&Event::Frame(second.clone())));
    assert!(!events.contains(&Event::Frame(first.clone())));
    assert!(matches!(events[0], Event::Garbage { .. }), "{events:?}");
    // Closing flag dropped: the next frame's opening flag closes the first.
    let mut bytes = wire(&first);
    bytes.pop();
    bytes.extend_from_slice(&wire(&second));
    assert_eq!(
        decode_all(&bytes, 127),
        [Event::Frame(first.clone()), Event::Frame(second.clone())]
    );
    // Frame cut short (its tail lost): its length swallows the frames after
    // it, no closing flag comes where its length ends, and the decoder finds
    // them by looking again after the cut frame's opening flag.
    let mut bytes = wire(&Frame::uih(1, true, vec![b'x'; 60]));
    bytes.truncate(20);
    let mut expected = vec![second, first];
    for n in 0..5u8 {
        expected.push(Frame::uih(3, true, vec![n; 9]));
    }
    for f in &expected {
        bytes.extend_from_slice(&wire(f));
    }
    let events = decode_all(&bytes, 127);
    assert!(
        matches!(events[0], Event::Garbage { bytes: 19 }),
        "{events:?}"
    );
    assert_eq!(
        events[1..],
        expected.into_iter().map(Event::Frame).collect::<Vec<_>>()
    );
}

#[test]
fn oversize_is_reported_and_skipped() {
    let big = wire(&Frame::uih(4, true, vec![0x55; 200]));
    let small = Frame::uih(1, true, b"ok".to_vec());
    let mut bytes = big;
    bytes.extend_from_slice(&wire(&small));
    let events = decode_all(&bytes, 127);
    assert_eq!(events[0], Event::Oversize { dlci: 4, len: 200 });
    assert_eq!(events.last(), Some(&Event::Frame(small)));
    assert!(
        events[1..events.len() - 1]
            .iter()
            .all(|e| matches!(e, Event::Garbage { .. })),
        "{events:?}"
    );
    let skipped: usize = events
        .iter()
        .map(|e| match e {
            Event::Garbage { bytes } => *bytes,
            _ => 0,
        })
        .sum();
    // Everything of the big frame but its opening flag.
    assert_eq!(skipped, 200 + 7 - 2);
}

#[test]
fn flood_without_flags_is_reported_with_bounded_memory() {
    let mut d = Decoder::new(DEFAULT_MAX_INFO);
    let mut events = Vec::new();
    let flood: Vec<u8> = (0..100_000u32).map(|i| (i % 200) as u8).collect();
    for piece in flood.chunks(1000) {
        d.feed(piece, &mut events);
        assert!(d.buffered() <= d.max_buffered());
    }
    assert_eq!(d.buffered(), 0);
    let reported: usize = events
        .iter()
        .map(|e| match e {
            Event::Garbage { bytes } => *bytes,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(events.len(), 100_000 / GARBAGE_REPORT);
    assert_eq!(reported + d.pending_garbage(), 100_000);
    // A frame after the flood still decodes; the rest of the flood is
    // reported when its flag comes.
    let frame = Frame::uih(1, true, b"after".to_vec());
    events.clear();
    d.feed(&wire(&frame), &mut events);
    assert_eq!(
        events,
        [
            Event::Garbage {
                bytes: 100_000 % GARBAGE_REPORT
            },
            Event::Frame(frame)
        ]
    );
}

/// A flood that looks like frame headers (flag, address, UIH, a long length)
/// never holds more than the limit either.
#[test]
fn flood_of_headers_stays_bounded() {
    let mut d = Decoder::new(31);
    let mut events = Vec::new();
    let unit = [FLAG, 0x07, 0xEF, 0x3F, 0x00, 0x41, 0x42];
    for _ in 0..20_000 {
        d.feed(&unit, &mut events);
        assert!(d.buffered() <= d.max_buffered());
    }
    assert!(events.iter().all(|e| !matches!(e, Event::Frame(_))));
}

#[test]
fn max_info_is_clamped_and_changeable() {
    assert_eq!(Decoder::new(0).max_info(), 1);
    assert_eq!(Decoder::new(1 << 20).max_info(), MAX_INFO);
    let mut d = Decoder::default();
    assert_eq!(d.max_info(), DEFAULT_MAX_INFO);
    let frame = Frame::uih(1, true, vec![1; 300]);
    let mut events = Vec::new();
    d.set_max_info(1500);
    d.feed(&wire(&frame), &mut events);
    assert_eq!(events, [Event::Frame(frame)]);
}

// --- control channel ------------------------------------------------------

fn sample_messages() -> Vec<Message> {
    let pn = Pn {
        dlci: 2,
        frame_type: 0,
        convergence: 0,
        priority: 7,
        ack_timer: 10,
        max_frame: 1500,
        retransmissions: 3,
        window: 2,
    };
    let bodies = vec![
        Body::Pn(pn),
        Body::Cld,
        Body::Test(b"pattern".to_vec()),
        Body::Test(vec![0xAA; 300]),
        Body::FcOn,
        Body::FcOff,
        Body::Msc(Msc {
            dlci: 1,
            signals: Msc::RTC | Msc::RTR | Msc::DV,
            brk: None,
        }),
        Body::Msc(Msc {
            dlci: 63,
            signals: Msc::FC,
            brk: Some(0x03),
        }),
        Body::Nsc(0x93),
        Body::Other {
            kind: control::types::RPN,
            value: vec![0x07],
        },
    ];
    bodies
        .into_iter()
        .flat_map(|b| [Message::command(b.clone()), Message::response(b)])
        .collect()
}

#[test]
fn control_messages_round_trip() {
    for m in sample_messages() {
        let bytes = m.encode();
        assert_eq!(
            Message::decode_one(&bytes),
            Ok((m.clone(), &[][..])),
            "{m:?}"
        );
    }
    // Several in one information field, carried by a UIH frame on DLCI 0.
    let all = sample_messages();
    let mut info = Vec::new();
    for m in &all {
        m.encode_into(&mut info);
    }
    assert_eq!(Message::decode_all(&info), Ok(all));
    let frame = Frame::uih(0, true, info.clone());
    let events = decode_all(&wire(&frame), MAX_INFO);
    assert_eq!(events, [Event::Frame(frame)]);
}

#[test]
fn control_type_octets() {
    let first = |b: Body| Message::command(b).encode()[0];
    assert_eq!(first(Body::Cld), 0xC3);
    assert_eq!(first(Body::FcOn), 0xA3);
    assert_eq!(first(Body::FcOff), 0x63);
    assert_eq!(first(Body::Test(vec![])), 0x23);
    assert_eq!(
        Message::response(Body::Nsc(0x41)).encode(),
        [0x11, 0x03, 0x41]
    );
    let pn = Message::command(Body::Pn(Pn {
        dlci: 1,
        frame_type: 0,
        convergence: 0,
        priority: 0,
        ack_timer: 10,
        max_frame: 127,
        retransmissions: 3,
        window: 2,
    }))
    .encode();
    assert_eq!(
        pn,
        [0x83, 0x11, 0x01, 0x00, 0x00, 0x0A, 0x7F, 0x00, 0x03, 0x02]
    );
    // CLD as the whole control frame the host sends: UIH on DLCI 0.
    let cld = Message::command(Body::Cld).encode();
    assert_eq!(cld, [0xC3, 0x01]);
    let bytes = wire(&Frame::uih(0, true, cld));
    assert_eq!(&bytes[..6], &[0xF9, 0x03, 0xEF, 0x05, 0xC3, 0x01]);
}

#[test]
fn control_decode_errors_are_values() {
    assert_eq!(Message::decode_one(&[]), Err(DecodeError::Empty));
    assert_eq!(
        Message::decode_one(&[0xC2, 0x01]),
        Err(DecodeError::LongType)
    );
    assert_eq!(Message::decode_one(&[0xC3]), Err(DecodeError::BadLength));
    assert_eq!(
        Message::decode_one(&[0xC3, 0x00, 0x00, 0x00]),
        Err(DecodeError::BadLength)
    );
    assert_eq!(
        Message::decode_one(&[0x23, 0x07, 0x01]),
        Err(DecodeError::Truncated { want: 3, have: 1 })
    );
    assert_eq!(
        Message::decode_one(&[0x83, 0x03, 0x01]),
        Err(DecodeError::BadValue { kind: 0x81, len: 1 })
    );
    assert_eq!(
        Message::decode_one(&[0xC3, 0x03, 0x01]),
        Err(DecodeError::BadValue { kind: 0xC1, len: 1 })
    );
    assert_eq!(
        Message::decode_one(&[0xE3, 0x03, 0x07]),
        Err(DecodeError::BadValue { kind: 0xE1, len: 1 })
    );
    // Every short input: an error or a message, never a panic.
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let _ = Message::decode_all(&[a, b, a, b, a]);
        }
    }
}

// --- advanced-mode transparency --------------------------------------------

#[test]
fn transparency_round_trips() {
    use super::advanced::{escape, unescape, UnescapeError};
    let all: Vec<u8> = (0..=255u8).collect();
    let mut wire = Vec::new();
    escape(&all, &mut wire);
    assert_eq!(wire.len(), 256 + 4);
    assert!(!wire.contains(&0x7E) && !wire.contains(&0x11) && !wire.contains(&0x13));
    let mut back = Vec::new();
    unescape(&wire, &mut back).expect("unescapes");
    assert_eq!(back, all);
    let mut out = Vec::new();
    escape(&[0x7D, 0x13], &mut out);
    assert_eq!(out, [0x7D, 0x5D, 0x7D, 0x33]);
    assert_eq!(
        unescape(&[1, 0x7E], &mut Vec::new()),
        Err(UnescapeError::Flag(1))
    );
    assert_eq!(
        unescape(&[1, 0x7D], &mut Vec::new()),
        Err(UnescapeError::DanglingEscape)
    );
    assert_eq!(
        unescape(&[0x7D, 0x7E], &mut Vec::new()),
        Err(UnescapeError::Flag(1))
    );
}

#[test]
fn set_max_info_mid_frame_drops_it_as_garbage() {
    let mut d = Decoder::new(127);
    let mut events = Vec::new();
    let bytes = wire(&Frame::uih(1, true, vec![7; 100]));
    d.feed(&bytes[..50], &mut events);
    assert_eq!(d.buffered(), 49);
    d.set_max_info(10);
    assert_eq!((d.buffered(), d.pending_garbage()), (0, 49));
    // The rest of that frame (55 bytes before its closing flag) is garbage
    // too; a small frame then decodes.
    d.feed(&bytes[50..], &mut events);
    let small = Frame::uih(2, true, vec![1; 10]);
    d.feed(&wire(&small), &mut events);
    assert_eq!(
        events,
        [Event::Garbage { bytes: 49 + 55 }, Event::Frame(small)]
    );
    // Garbage over the report size (a big frame dropped) is still reported.
    let mut d = Decoder::new(MAX_INFO);
    let big = wire(&Frame::uih(1, true, vec![7; 10_000]));
    d.feed(&big[..9_000], &mut events);
    d.set_max_info(127);
    events.clear();
    d.feed(b"x", &mut events);
    assert_eq!(events, [Event::Garbage { bytes: 8_999 }]);
    assert_eq!(d.pending_garbage(), 1);
}
