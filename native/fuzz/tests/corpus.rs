//! Replays the checked-in corpus (`corpus/<target>/*`) through every target
//! body, on any toolchain: the regression inputs of past crashes live there
//! too.

#![forbid(unsafe_code)]

use std::path::Path;

#[test]
fn every_corpus_input_passes_its_target() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, body) in cellular_fuzz::TARGETS {
        let dir = corpus.join(name);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "{name}: empty corpus");
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| body(&data));
            assert!(result.is_ok(), "{name}: {} fails", path.display());
        }
    }
    // The sysfs tree the discovery target made for this process.
    let tree = std::env::temp_dir().join(format!("cellular_fuzz_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(tree);
}

/// The protocol seeds are real frames: each decodes, so the fuzzer starts
/// from the decoders' success paths.
#[test]
fn protocol_seeds_decode() {
    use cellular_core::protocol::{Event, FrameReader, Request};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/protocol");
    for (file, request, count) in [
        ("requests", true, 4),
        ("events", false, 4),
        ("mux_requests", true, 2),
        ("mux_events", false, 2),
    ] {
        let data = std::fs::read(dir.join(file)).unwrap();
        let mut reader = FrameReader::new(1 << 20);
        reader.push(&data[1..]);
        let mut n = 0;
        while let Some(body) = reader.next_frame().unwrap() {
            if request {
                Request::decode(&body).unwrap();
            } else {
                Event::decode(&body).unwrap();
            }
            n += 1;
        }
        assert_eq!(n, count, "{file}");
    }
    let datagram = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/ppp_event/ip_up_datagram"),
    )
    .unwrap();
    // Captured from `cellular_port` as ip-up; the BEAM's PPP.Datagram test
    // reads the same file.
    cellular_core::etf::decode(&datagram, cellular_core::ppp_event::WIRE_ATOMS).unwrap();
}

/// The CMUX seeds hold real frames, so that the fuzzer starts from the
/// decoder's success paths: each decodes to at least one frame.
#[test]
fn cmux_seeds_decode() {
    use cellular_core::cmux::{Decoder, Event, MAX_INFO};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cmux");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let mut decoder = Decoder::new(MAX_INFO);
        let mut events = Vec::new();
        decoder.feed(&data[1..], &mut events);
        let frames = events
            .iter()
            .filter(|e| matches!(e, Event::Frame(_)))
            .count();
        assert!(frames >= 1, "{}: {events:?}", path.display());
    }
}
