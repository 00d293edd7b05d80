//! pppd script events: the datagrams `cellular_port` (notifier) sends and the NIF
//! decodes, and the script-name lookups.
//!
//! Input: a datagram. When it starts with `!`, the next byte picks the kind
//! and the rest is instead split at 0x1F into program, args and `NAME=value`
//! variables and built into an event with [`PppEvent::new`], which must
//! encode within [`MAX_DATAGRAM`] (or fail cleanly) and decode back.
//!
//! Invariants: decoding never panics; a decoded event re-encodes and decodes
//! to itself (unless it is over the size limit, when encoding drops extra
//! variables and says so); errors carry a documented reason.

use cellular_core::ppp_event::{Kind, PppEvent, FORMAT, MAX_DATAGRAM, PPPD_VARIABLES};

const REASONS: &[&str] = &["empty", "too_large", "format", "malformed"];

fn roundtrip(event: &PppEvent) {
    match event.encode() {
        Ok(bytes) => {
            assert!(bytes.len() <= MAX_DATAGRAM);
            let back = PppEvent::decode(&bytes).expect("an encoded event decodes");
            if &back != event {
                // Only dropping extra variables to fit may change it, and
                // then it says so and only pppd's variables are left.
                assert!(back.truncated, "{back:?} != {event:?}");
                assert!(back
                    .env
                    .iter()
                    .all(|(k, _)| PPPD_VARIABLES.contains(&k.as_str())));
                assert_eq!(
                    (back.kind, &back.program, &back.args, &back.lossy),
                    (event.kind, &event.program, &event.args, &event.lossy)
                );
            }
            let _ = back.to_value();
        }
        Err(e) => assert!(!e.0.is_empty()),
    }
}

fn decoded(datagram: &[u8]) {
    match PppEvent::decode(datagram) {
        Ok(event) => {
            assert_eq!(event.format, FORMAT);
            let _ = event.to_value();
            let _ = event.arg(0);
            let _ = event.arg(1);
            let _ = event.env_var("IFNAME");
            roundtrip(&event);
        }
        Err(e) => {
            assert!(REASONS.contains(&e.reason), "{e:?}");
            assert!(!e.detail.is_empty(), "{e:?}");
        }
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
        _ => decoded(data),
    }
}
