//! pppd script events: the datagrams `cellular_port` (notifier) builds from
//! whatever program path, arguments and environment pppd hands it, and the
//! script-name lookups. (The BEAM reads the datagram with `binary_to_term`
//! and checks its fields in Elixir, `VintageNetCellular.PPP.Datagram`, whose
//! tests feed it mutated datagrams.)
//!
//! Input: the first byte picks the kind, the rest is split at 0x1F into
//! program, args and `NAME=value` variables and built into an event with
//! [`PppEvent::new`]. A leading `!` (the old selector of this mode) is
//! skipped, so earlier corpus entries keep their meaning.
//!
//! Invariants: building and encoding never panic; an encoded event fits
//! [`MAX_DATAGRAM`] and reads back, with the generic term decoder, as exactly
//! the event's value, unless it had to drop variables pppd does not set to
//! fit, when it says so and keeps everything else; encoding fails only with a
//! message.

use cellular_core::etf;
use cellular_core::ppp_event::{Kind, PppEvent, MAX_DATAGRAM, PPPD_VARIABLES, WIRE_ATOMS};
use cellular_core::Value;

fn roundtrip(event: &PppEvent) {
    match event.encode() {
        Ok(bytes) => {
            assert!(bytes.len() <= MAX_DATAGRAM);
            let back = etf::decode(&bytes, WIRE_ATOMS).expect("an encoded event decodes");
            if back != event.to_value() {
                // Only dropping extra variables to fit may change it, and
                // then it says so and only pppd's variables are left.
                let mut reduced = event.clone();
                reduced
                    .env
                    .retain(|(k, _)| PPPD_VARIABLES.contains(&k.as_str()));
                reduced.truncated = true;
                assert_eq!(back, reduced.to_value());
                assert_eq!(back.get("truncated"), Some(&Value::Bool(true)));
            }
        }
        Err(e) => assert!(!e.0.is_empty()),
    }
}

fn built(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = crate::segments(rest, 0x1f).into_iter();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    let program = parts.next().map(text).unwrap_or_default();
    let _ = Kind::from_program(&program);
    let _ = Kind::from_script_name(&program);
    let mut args = Vec::new();
    let mut env = Vec::new();
    for part in parts {
        let part = text(part);
        match part.split_once('=') {
            Some((k, v)) => env.push((k.to_owned(), v.to_owned())),
            None => args.push(part),
        }
    }
    let kind = Kind::ALL[usize::from(selector) % Kind::ALL.len()];
    assert_eq!(Kind::from_script_name(kind.script_name()), Some(kind));
    let event = PppEvent::new(kind, program, args, env);
    assert!(event.env.windows(2).all(|w| w[0] <= w[1]), "env not sorted");
    roundtrip(&event);
}

/// The `ppp_event` target.
pub fn ppp_event(data: &[u8]) {
    match data.split_first() {
        Some((b'!', rest)) => built(rest),
        _ => built(data),
    }
}
