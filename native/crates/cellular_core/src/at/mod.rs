//! AT information-response and URC line parsing.
//!
//! [`parse`] takes one line (as the line engine delivers it, with or without
//! its CR/LF) and returns the kind of line and a [`Value::Map`] of typed
//! fields, or a [`ParseError`] that says which byte or field was wrong. It
//! never panics, whatever the bytes.
//!
//! ```
//! use cellular_core::at;
//! use cellular_core::Value;
//!
//! let (kind, fields) = at::parse(b"+CSQ: 17,99\r\n").unwrap();
//! assert_eq!(kind, "csq");
//! assert_eq!(fields.get("rssi"), Some(&Value::Int(17)));
//!
//! let err = at::parse(b"+CSQ: 17,x").unwrap_err();
//! assert_eq!(err.reason, "invalid_field");
//! ```
//!
//! One module per response family sits beside this one, each with a table of
//! real modem responses in its tests. Kinds and their fields are documented
//! on the parser functions and in `VintageNetCellular.AT`.
//!
//! Atoms (kinds, map keys, enumerations) are all `&'static str` constants
//! from tables in this crate; nothing that arrives from the modem ever
//! becomes an atom.

mod cpin;
mod errors;
mod fields;
mod iccid;
mod pdp;
mod pin_counters;
mod quectel;
mod reg;
mod signal_quality;
mod simcom;
mod time;
mod unknown;

#[cfg(test)]
mod fuzz_tests;

use crate::Value;
use fields::Line;

/// Lines longer than this (after trimming) are refused with `too_long`.
/// The longest real lines (an `AT+COPS=?` scan) stay well below it.
pub const MAX_LINE: usize = 4096;

/// Why a line could not be parsed. `reason` becomes an atom in Elixir and
/// `detail` a string that names the field or byte that was wrong.
///
/// Reasons:
///
/// | reason | meaning |
/// |---|---|
/// | `empty` | nothing but white space |
/// | `too_long` | more than [`MAX_LINE`] bytes |
/// | `invalid_utf8` | a byte sequence that is not UTF-8 |
/// | `control_byte` | a control character inside the line |
/// | `no_prefix` | the line does not start with `+`, `^`, `!`, `#`, `$`, `%` or `*` and a name |
/// | `bad_prefix` | the prefix has characters a prefix cannot have, or no `:` follows it |
/// | `unterminated_quote` | a `"` that is never closed |
/// | `missing_field` | a field the kind requires is absent or empty |
/// | `invalid_field` | a field has the wrong form or is out of range |
/// | `extra_field` | more fields than the kind has |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub reason: &'static str,
    pub detail: String,
}

/// Every `reason` a [`ParseError`] can carry (the table above).
pub const PARSE_ERROR_REASONS: &[&str] = &[
    "empty",
    "too_long",
    "invalid_utf8",
    "control_byte",
    "no_prefix",
    "bad_prefix",
    "unterminated_quote",
    "missing_field",
    "invalid_field",
    "extra_field",
];

impl ParseError {
    pub(crate) fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        ParseError {
            reason,
            detail: detail.into(),
        }
    }
}

/// Parses one information-response or URC line into `(kind, fields)`.
///
/// Leading and trailing white space (including CR and LF) is ignored, and
/// prefixes match in any letter case (`+csq:` is `+CSQ:`). Known prefixes
/// give typed maps; any other well-formed `<sigil><NAME>: a,b,...` line gives
/// `("unknown", %{prefix, fields})`. Test-command answers of known commands
/// (`+CSQ: (0-31,99),(0-7,99)`) are also `unknown`, since their fields are
/// ranges rather than values.
pub fn parse(line: &[u8]) -> Result<(&'static str, Value), ParseError> {
    let result = parse_line(line);
    // Every answer of every parser test can cross to Elixir: its atoms are
    // all in the protocol's table (ATPort's `[:safe]` decoding needs them).
    #[cfg(test)]
    if let Ok((kind, fields)) = &result {
        let mut atoms = vec![*kind];
        fields.atoms(&mut atoms);
        for atom in atoms {
            assert!(
                crate::protocol::ATOMS.binary_search(&atom).is_ok(),
                "{atom} is missing from protocol::ATOMS"
            );
        }
    }
    result
}

fn parse_line(line: &[u8]) -> Result<(&'static str, Value), ParseError> {
    let text = fields::check_line(line)?;
    let line = Line::split(text)?;
    let mut name_buf = [0u8; 24];
    let name = line.normalized_prefix(&mut name_buf);

    // Test-command answers carry ranges in parentheses, not values.
    if name.is_some() && line.has_parenthesized_field() {
        return Ok(("unknown", unknown::parse(&line)));
    }

    match name.unwrap_or(b"") {
        b"+CSQ" => signal_quality::csq(&line).map(|v| ("csq", v)),
        b"+CESQ" => signal_quality::cesq(&line).map(|v| ("cesq", v)),
        b"+CREG" => reg::parse(reg::Kind::Creg, &line).map(|v| ("creg", v)),
        b"+CGREG" => reg::parse(reg::Kind::Cgreg, &line).map(|v| ("cgreg", v)),
        b"+CEREG" => reg::parse(reg::Kind::Cereg, &line).map(|v| ("cereg", v)),
        b"+C5GREG" => reg::parse(reg::Kind::C5greg, &line).map(|v| ("c5greg", v)),
        b"+COPS" => reg::cops(&line).map(|v| ("cops", v)),
        b"+CPIN" => cpin::parse(&line).map(|v| ("cpin", v)),
        b"+CPINR" => pin_counters::cpinr(&line).map(|v| ("cpinr", v)),
        b"+QPINC" => pin_counters::qpinc(&line).map(|v| ("qpinc", v)),
        b"+SPIC" => pin_counters::spic(&line).map(|v| ("spic", v)),
        b"+CCID" | b"+ICCID" | b"+QCCID" | b"^ICCID" | b"+CICCID" | b"!ICCID" | b"#CCID"
        | b"ICCID" => iccid::parse(&line).map(|v| ("iccid", v)),
        b"+CGDCONT" => pdp::cgdcont(&line).map(|v| ("cgdcont", v)),
        b"+CGAUTH" => pdp::cgauth(&line).map(|v| ("cgauth", v)),
        b"+CMEERROR" => errors::cme(&line).map(|v| ("cme_error", v)),
        b"+CMSERROR" => errors::cms(&line).map(|v| ("cms_error", v)),
        b"+QNWINFO" => quectel::qnwinfo(&line).map(|v| ("qnwinfo", v)),
        b"+QCSQ" => quectel::qcsq(&line).map(|v| ("qcsq", v)),
        b"+CPSI" => simcom::cpsi(&line).map(|v| ("cpsi", v)),
        b"+CTZV" => time::ctzv(&line).map(|v| ("ctzv", v)),
        b"+CTZE" => time::ctze(&line).map(|v| ("ctze", v)),
        b"+QLTS" => time::qlts(&line).map(|v| ("qlts", v)),
        _ => Ok(("unknown", unknown::parse(&line))),
    }
}

/// [`parse`]'s answer as the term Elixir gets (`VintageNetCellular.AT.parse/1`
/// returns the same): `{:ok, {kind, fields}}` or `{:error, {reason, detail}}`.
///
/// ```
/// use cellular_core::{at, Value};
/// assert_eq!(
///     at::parse_term(b"+CSQ: 17,99"),
///     Value::Tuple(vec![
///         Value::Atom("ok"),
///         Value::Tuple(vec![
///             Value::Atom("csq"),
///             Value::Map(vec![("ber", Value::Int(99)), ("rssi", Value::Int(17))]),
///         ]),
///     ])
/// );
/// ```
pub fn parse_term(line: &[u8]) -> Value {
    match parse(line) {
        Ok((kind, fields)) => Value::Tuple(vec![
            Value::Atom("ok"),
            Value::Tuple(vec![Value::Atom(kind), fields]),
        ]),
        Err(e) => Value::Tuple(vec![
            Value::Atom("error"),
            Value::Tuple(vec![Value::Atom(e.reason), Value::Str(e.detail)]),
        ]),
    }
}

/// The 27.007 `<stat>` names, indexed by value (0..=11).
pub const STATS: [&str; 12] = [
    "not_registered",
    "registered_home",
    "searching",
    "denied",
    "unknown",
    "registered_roaming",
    "sms_only_home",
    "sms_only_roaming",
    "emergency_only",
    "csfb_not_preferred_home",
    "csfb_not_preferred_roaming",
    "attached_rlos",
];

/// The 27.007 `<AcT>` names, indexed by value (0..=13).
pub const ACTS: [&str; 14] = [
    "gsm",
    "gsm_compact",
    "utran",
    "gsm_egprs",
    "utran_hsdpa",
    "utran_hsupa",
    "utran_hsdpa_hsupa",
    "eutran",
    "ec_gsm_iot",
    "eutran_nb_s1",
    "eutra_5gcn",
    "nr_5gcn",
    "ng_ran",
    "eutra_nr",
];

/// The atom of a 27.007 access technology number, if it has one.
pub fn act_name(act: i64) -> Option<&'static str> {
    usize::try_from(act).ok().and_then(|i| ACTS.get(i).copied())
}

/// The atom of a 27.007 registration status number, if it has one.
pub fn stat_name(stat: i64) -> Option<&'static str> {
    usize::try_from(stat)
        .ok()
        .and_then(|i| STATS.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(line: &[u8]) -> &'static str {
        parse(line).unwrap_err().reason
    }

    #[test]
    fn refuses_empty_and_blank_lines() {
        assert_eq!(reason(b""), "empty");
        assert_eq!(reason(b"\r\n"), "empty");
        assert_eq!(reason(b"  \t \r\n"), "empty");
    }

    #[test]
    fn refuses_overlong_lines() {
        let mut line = b"+XYZ: ".to_vec();
        line.resize(MAX_LINE + 1, b'1');
        let err = parse(&line).unwrap_err();
        assert_eq!(err.reason, "too_long");
        assert!(err.detail.contains("4097"), "{}", err.detail);
        line.truncate(MAX_LINE);
        assert!(parse(&line).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8_naming_the_byte() {
        let err = parse(b"+CSQ: 1\xff,99").unwrap_err();
        assert_eq!(err.reason, "invalid_utf8");
        assert!(err.detail.contains("0xFF"), "{}", err.detail);
        assert!(err.detail.contains("offset 7"), "{}", err.detail);
    }

    #[test]
    fn refuses_control_bytes_inside_the_line() {
        let err = parse(b"+CSQ: 1\x00,99").unwrap_err();
        assert_eq!(err.reason, "control_byte");
        assert!(err.detail.contains("0x00"), "{}", err.detail);
        assert_eq!(reason(b"+CSQ: 1\r7,99"), "control_byte");
        // Tabs are white space, not garbage.
        assert!(parse(b"+CSQ:\t17,\t99").is_ok());
    }

    #[test]
    fn refuses_lines_without_a_prefix() {
        assert_eq!(reason(b"OK"), "no_prefix");
        assert_eq!(reason(b"5,99"), "no_prefix");
        assert_eq!(reason(b"867962041234567"), "no_prefix");
        assert_eq!(reason(b"+"), "bad_prefix");
        assert_eq!(reason(b"+CSQ 5,99"), "bad_prefix");
        assert_eq!(reason(b"+C\"SQ: 5"), "bad_prefix");
    }

    #[test]
    fn dispatches_case_insensitively() {
        assert_eq!(parse(b"+csq: 17,99").unwrap().0, "csq");
        assert_eq!(parse(b"+Creg: 1").unwrap().0, "creg");
        assert_eq!(parse(b"+cme error: 10").unwrap().0, "cme_error");
        assert_eq!(parse(b"+CME  ERROR:10").unwrap().0, "cme_error");
    }

    #[test]
    fn test_command_answers_are_unknown() {
        let (kind, v) = parse(b"+CSQ: (0-31,99),(0-7,99)").unwrap();
        assert_eq!(kind, "unknown");
        assert_eq!(v.get("prefix"), Some(&Value::from("+CSQ")));
        assert_eq!(
            v.get("fields"),
            Some(&Value::from(vec!["(0-31,99)", "(0-7,99)"]))
        );
        let (kind, _) = parse(b"+CGDCONT: (1-10),\"IP\",,,(0,1),(0,1)").unwrap();
        assert_eq!(kind, "unknown");
    }

    #[test]
    fn stat_and_act_tables() {
        assert_eq!(stat_name(0), Some("not_registered"));
        assert_eq!(stat_name(11), Some("attached_rlos"));
        assert_eq!(stat_name(12), None);
        assert_eq!(stat_name(-1), None);
        assert_eq!(act_name(7), Some("eutran"));
        assert_eq!(act_name(13), Some("eutra_nr"));
        assert_eq!(act_name(14), None);
    }
}
