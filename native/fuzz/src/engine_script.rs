//! The line engine under a script of owner calls and tty reads.
//!
//! Input: one settings byte, then steps separated by 0x1F (a doubled 0x1F is
//! a literal one). A step starting with `C` starts the command that follows,
//! `R` a raw send, `A` abandons, `F` forgets, `D` ends data mode, `Z` resets,
//! `<` feeds the bytes after it, and any other step is fed whole. A corpus
//! file is thus a readable transcript:
//!
//! ```text
//! \x05 \x1f CAT+CSQ \x1f <AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n
//! ```
//!
//! Settings byte: bit 0 echo known, bit 1 echo on, bit 2 ATV0 (numeric
//! codes), bit 3 a profile URC prefix `+QIND:`... and `#URC`, bits 4–7 pick
//! `max_line` (16 + 8·n bytes, so that overflow is reached).
//!
//! Invariants: the script played with each read in one piece, one byte at a
//! time, and cut at points derived from the input gives the same events after
//! every step and the same engine state; only reads make events; every event
//! is bounded by `max_line`.

use cellular_core::engine::{Config, Engine, Event, Final};

enum Step {
    Command(String),
    Raw(String),
    Abandon,
    Forget,
    EndData,
    Reset,
    Feed(Vec<u8>),
}

/// Response limits of the fuzzed engine (the defaults are 1,000 lines and 64 KiB).
const MAX_RESPONSE_LINES: usize = 8;
const MAX_RESPONSE_BYTES: usize = 256;

fn script(data: &[u8]) -> Option<(Config, Vec<Step>)> {
    let (&settings, rest) = data.split_first()?;
    let config = Config {
        max_line: 16 + 8 * usize::from(settings >> 4),
        echo: (settings & 1 != 0).then_some(settings & 2 != 0),
        verbose: settings & 4 == 0,
        extra_urc_prefixes: if settings & 8 != 0 {
            vec!["#URC".into(), "+QIND:".into()]
        } else {
            Vec::new()
        },
        // Small limits, so that the response-size path is reached often.
        max_response_lines: MAX_RESPONSE_LINES,
        max_response_bytes: MAX_RESPONSE_BYTES,
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let steps = crate::segments(rest, 0x1f)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| match s[0] {
            b'C' => Step::Command(text(&s[1..])),
            b'R' => Step::Raw(text(&s[1..])),
            b'A' => Step::Abandon,
            b'F' => Step::Forget,
            b'D' => Step::EndData,
            b'Z' => Step::Reset,
            b'<' => Step::Feed(s[1..].to_vec()),
            _ => Step::Feed(s),
        })
        .collect();
    Some((config, steps))
}

/// What the owner can observe of an engine.
#[derive(Debug, PartialEq, Eq)]
struct State {
    pending: bool,
    draining: bool,
    data_mode: bool,
    echo: Option<bool>,
    verbose: bool,
}

fn state(e: &Engine) -> State {
    State {
        pending: e.is_pending(),
        draining: e.is_draining(),
        data_mode: e.in_data_mode(),
        echo: e.echo(),
        verbose: e.verbose(),
    }
}

/// How a read is handed to the engine.
#[derive(Clone, Copy)]
enum Cut {
    Whole,
    Bytes,
    Hashed(u64),
}

/// Plays the script; per step, the events it made and the state after it.
fn play(config: &Config, steps: &[Step], cut: Cut) -> Vec<(Vec<Event>, State)> {
    let mut engine = Engine::new(config.clone());
    let mut out = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        let mut events = Vec::new();
        match step {
            Step::Command(text) => engine.start_command(text),
            Step::Raw(text) => engine.start_raw(text),
            Step::Abandon => {
                let was = engine.is_pending();
                assert_eq!(
                    engine.abandon(),
                    was,
                    "abandon() must say whether one was pending"
                );
                assert_eq!(engine.is_draining(), was);
            }
            Step::Forget => {
                engine.forget();
                assert!(!engine.is_pending());
            }
            Step::EndData => {
                engine.end_data_mode();
                assert!(!engine.in_data_mode());
            }
            Step::Reset => {
                engine.reset();
                assert!(!engine.is_pending() && !engine.in_data_mode());
                assert_eq!(engine.echo(), config.echo);
            }
            Step::Feed(bytes) => match cut {
                Cut::Whole => engine.feed(bytes, &mut events),
                Cut::Bytes => {
                    for b in bytes.chunks(1) {
                        engine.feed(b, &mut events);
                    }
                }
                Cut::Hashed(seed) => {
                    let mut h = seed ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    let mut rest = bytes.as_slice();
                    while !rest.is_empty() {
                        h ^= h << 13;
                        h ^= h >> 7;
                        h ^= h << 17;
                        // Mostly short pieces, sometimes empty ones.
                        let take = (h % 7) as usize;
                        let take = take.min(rest.len());
                        engine.feed(&rest[..take], &mut events);
                        rest = &rest[take..];
                    }
                }
            },
        }
        out.push((events, state(&engine)));
    }
    out
}

fn check_bounds(max_line: usize, steps: &[Step], played: &[(Vec<Event>, State)]) {
    // Lossy UTF-8 turns one bad byte into three.
    let max_text = 3 * max_line;
    let line_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= max_text
            && !l.contains(['\r', '\n'])
            && l.as_bytes().trim_ascii().len() == l.len()
    };
    let final_ok = |f: &Final| match f {
        Final::CmeError(t) | Final::CmsError(t) => t.len() <= max_text,
        Final::Connect(Some(t)) => t.len() <= max_text,
        _ => true,
    };
    for (step, (events, _)) in steps.iter().zip(played) {
        if !matches!(step, Step::Feed(_)) {
            assert!(events.is_empty(), "only reads make events: {events:?}");
        }
        for event in events {
            match event {
                Event::Urc(l) => assert!(line_ok(l), "{event:?}"),
                Event::Response { result, lines } | Event::Discarded { result, lines } => {
                    assert!(final_ok(result), "{event:?}");
                    assert!(lines.iter().all(|l| line_ok(l)), "{event:?}");
                }
                Event::Overflow { dropped } => {
                    assert!(*dropped > 0 && *dropped <= max_line, "{event:?}")
                }
                Event::Garbage { bytes } => {
                    assert!(*bytes > 0 && *bytes <= max_text, "{event:?}")
                }
                // What had arrived, the offending line included: one line or
                // one line's bytes over a limit at most. A line's text may be
                // up to 3 times its bytes (each invalid byte becomes U+FFFD).
                Event::ResponseTooLarge { lines, bytes } => assert!(
                    *lines >= 1
                        && *lines <= MAX_RESPONSE_LINES + 1
                        && *bytes <= MAX_RESPONSE_BYTES + max_text + 2,
                    "{event:?}"
                ),
            }
        }
    }
}

/// The `engine` target.
pub fn engine(data: &[u8]) {
    let Some((config, steps)) = script(data) else {
        return;
    };
    let whole = play(&config, &steps, Cut::Whole);
    check_bounds(config.max_line, &steps, &whole);
    let bytes = play(&config, &steps, Cut::Bytes);
    assert_eq!(whole, bytes, "one byte at a time differs from whole reads");
    let hashed = play(&config, &steps, Cut::Hashed(crate::fnv(data) | 1));
    assert_eq!(whole, hashed, "hashed cuts differ from whole reads");
}
