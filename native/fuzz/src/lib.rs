//! Fuzz target bodies for `cellular_core`: plain `fn(&[u8])` functions that
//! panic when an invariant breaks. libFuzzer runs them through the thin
//! binaries in `fuzz_targets/` (see `scripts/fuzz`); `cargo test` replays
//! the checked-in corpus (`corpus/<target>/`) through them on any toolchain.
//!
//! Each body checks more than "no panic" where that is cheap: the engine and
//! the CMUX decoder give the same events however their input is split,
//! protocol and CMUX frames survive decode → encode → decode, parse results
//! keep their documented shapes, and every output stays bounded by its input.

#![forbid(unsafe_code)]

mod at_lines;
mod cmux;
mod discovery_text;
mod engine_script;
mod frames;
mod ppp;
mod uevent;

pub use at_lines::at;
pub use cmux::cmux;
pub use discovery_text::discovery;
pub use engine_script::engine;
pub use frames::protocol;
pub use ppp::ppp_event;
pub use uevent::uevent;

/// A target body: panics when the input breaks an invariant.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("engine", engine),
    ("at", at),
    ("protocol", protocol),
    ("discovery", discovery),
    ("ppp_event", ppp_event),
    ("uevent", uevent),
    ("cmux", cmux),
];

/// Splits `data` at `sep`; a doubled `sep` stands for one literal byte, so
/// every byte value can still reach the code under test.
pub(crate) fn segments(data: &[u8], sep: u8) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if b == sep {
            if data.get(i + 1) == Some(&sep) {
                if let Some(last) = out.last_mut() {
                    last.push(sep);
                }
                i += 2;
                continue;
            }
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(b);
        }
        i += 1;
    }
    out
}

/// A cheap deterministic hash (FNV-1a) to derive split points from the input.
pub(crate) fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_and_unescape() {
        assert_eq!(
            segments(b"a\x1fb", 0x1f),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(segments(b"a\x1f\x1fb", 0x1f), vec![b"a\x1fb".to_vec()]);
        assert_eq!(segments(b"", 0x1f), vec![Vec::<u8>::new()]);
    }
}
