//! Every AT parser, chosen by the first byte.
//!
//! `at::parse` dispatches on the line's own prefix, so selector 0 hands it
//! the rest as is. Selectors 1..=22 put a known prefix in front first, so
//! that each typed parser (`+CSQ`, `+CREG`, `+CPSI`, ...) sees every mutation
//! of its fields even when the mutation would have broken the prefix. The
//! selectors after those reach the other text parsers of the AT layer: final
//! result codes, response prefixes of a command, redaction, PLMN lookup, and
//! the signal conversions fed with the numbers the parsers can return.
//!
//! Invariants (those of the deterministic fuzzer in `at/fuzz_tests.rs`, plus
//! a few): results are maps with sorted, unique keys; errors carry a
//! documented reason and a short, non-empty detail; trailing CR/LF does not
//! change the answer; redaction is idempotent and agrees with `is_secret`;
//! response prefixes look like `+NAME:`.

use cellular_core::at::{self, ParseError};
use cellular_core::engine::{self, redact};
use cellular_core::{operators, signal, Value};

/// The prefixes the selectors 1..=22 put in front of the line.
const PREFIXES: &[&str] = &[
    "+CSQ: ",
    "+CESQ: ",
    "+CREG: ",
    "+CGREG: ",
    "+CEREG: ",
    "+C5GREG: ",
    "+COPS: ",
    "+CPIN: ",
    "^ICCID: ",
    "+CGDCONT: ",
    "+CGAUTH: ",
    "+CME ERROR: ",
    "+CMS ERROR: ",
    "+QNWINFO: ",
    "+QCSQ: ",
    "+CPSI: ",
    "+CTZV: ",
    "+CTZE: ",
    "+QLTS: ",
    "+CPINR: ",
    "+QPINC: ",
    "+SPIC: ",
];

use cellular_core::at::PARSE_ERROR_REASONS as REASONS;

fn check_parse(line: &[u8]) {
    let result = at::parse(line);
    check_result(line, &result);
    // Trailing line ends are ignored.
    let mut ended = line.to_vec();
    ended.extend_from_slice(b"\r\n");
    assert_eq!(
        at::parse(&ended),
        result,
        "CR LF changed the answer for {line:?}"
    );
}

fn check_result(line: &[u8], result: &Result<(&'static str, Value), ParseError>) {
    match result {
        Ok((kind, v @ Value::Map(fields))) => {
            assert!(!kind.is_empty());
            assert!(v.is_sorted(), "keys out of order for {line:?}: {v:?}");
            let mut keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
            keys.dedup();
            assert_eq!(keys.len(), fields.len(), "duplicate keys for {line:?}");
        }
        Ok(other) => panic!("not a map for {line:?}: {other:?}"),
        Err(e) => {
            assert!(REASONS.contains(&e.reason), "{line:?}: {e:?}");
            assert!(!e.detail.is_empty(), "{line:?}: {e:?}");
            assert!(e.detail.len() < 300, "{line:?}: {e:?}");
        }
    }
}

fn check_text_parsers(which: usize, text: &str) {
    match which {
        0 => {
            for verbose in [true, false] {
                if let Some(engine::Final::CmeError(t) | engine::Final::CmsError(t)) =
                    engine::final_result(text, verbose)
                {
                    assert!(t.len() <= text.len());
                }
            }
        }
        1 => {
            for p in engine::response_prefixes(text) {
                assert!(p.len() >= 3 && p.ends_with(':'), "{text:?}: {p:?}");
                assert!(
                    p[1..p.len() - 1]
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'_'),
                    "{text:?}: {p:?}"
                );
            }
        }
        2 => {
            let once = redact::redact(text);
            assert_eq!(
                redact::is_secret(text),
                matches!(once, std::borrow::Cow::Owned(_)),
                "{text:?}"
            );
            let twice = redact::redact(&once);
            assert_eq!(once, twice, "redaction is not idempotent for {text:?}");
        }
        _ => {
            if let Some((mcc, mnc)) = operators::split_plmn(text) {
                assert_eq!(format!("{mcc}{mnc}"), text);
                assert_eq!(mcc.len(), 3);
            }
            if let Some(op) = operators::lookup_plmn(text) {
                let _ = op.to_value();
            }
        }
    }
}

fn check_signal(bytes: &[u8]) {
    let mut words = bytes.chunks(8).map(|c| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        i64::from_le_bytes(w)
    });
    let a = words.next().unwrap_or(0);
    let b = words.next().unwrap_or(0);
    let c = words.next().unwrap_or(0);
    for n in [a, b, c, a % 256, b % 128, c % 64] {
        let s = signal::from_gsm_asu(n);
        assert!(s.bars <= 4, "{n}: {s:?}");
        let s = signal::from_lte_rssi(n);
        assert!(s.bars <= 4, "{n}: {s:?}");
        let _ = s.to_value();
        let _ = signal::cesq_rsrp_dbm(n);
        let _ = signal::cesq_rsrq_db(n);
    }
    let _ = signal::from_cesq(a, b).to_value();
    let _ = signal::from_cesq(a % 256, b % 256).to_value();
    let _ = signal::from_lte(Some(a), Some(b), Some(c)).to_value();
    let _ = signal::from_lte(Some(a % 512 - 256), None, Some(c % 64)).to_value();
}

/// The `at` target.
pub fn at(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let selector = usize::from(selector) % (PREFIXES.len() + 6);
    match selector {
        0 => check_parse(rest),
        n if n <= PREFIXES.len() => {
            let mut line = PREFIXES[n - 1].as_bytes().to_vec();
            line.extend_from_slice(rest);
            check_parse(&line);
        }
        n if n == PREFIXES.len() + 5 => check_signal(rest),
        n => check_text_parsers(n - PREFIXES.len() - 1, &String::from_utf8_lossy(rest)),
    }
}
