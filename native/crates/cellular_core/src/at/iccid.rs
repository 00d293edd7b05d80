//! ICCID lines: `+CCID`, `+ICCID`, `+QCCID` (Quectel), `^ICCID` (Huawei),
//! `+CICCID` (SIMCom), `!ICCID` and bare `ICCID:` (Sierra), `#CCID` (Telit).
//!
//! Normalization, in this order:
//! 1. strip the quotes and every space;
//! 2. upper-case the hex letters;
//! 3. a 20-character value that starts with `98` is a raw EF_ICCID dump with
//!    its nibbles swapped (Huawei sends these): swap each pair back
//!    (`98101430121181157002` → `89014103211118510720`);
//! 4. drop the trailing `F` padding of a 19-digit ICCID;
//! 5. check the characters: the first 6 (the `89` industry code and the
//!    country code of ITU-T E.118) must be decimal digits; after them
//!    hexadecimal digits are accepted as they are, because some issuers use
//!    them in the issuer and account digits (China Mobile's
//!    `898602F9091830030220`, test and eUICC profiles). Anything else is an
//!    error that names the character and its position in the value;
//! 6. it must start with `89`, the telecom industry identifier: any other
//!    start (`0044200053671052499`) is not an ICCID;
//! 7. the result must be 18 to 22 characters long.

use super::fields::{show_char, Line};
use super::ParseError;
use crate::Value;

/// The leading characters that must be decimal digits (industry code and country code).
const ISSUER_DIGITS: usize = 6;

/// `… : <iccid>` → `%{iccid: "89…"}` (see the module documentation).
pub(super) fn parse(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("iccid");
    r.at_most(1)?;
    let raw = r.present(0).ok_or_else(|| r.missing("iccid"))?.text;
    normalize(raw).map(|iccid| Value::Map(vec![("iccid", Value::Str(iccid))]))
}

/// Normalizes a raw ICCID (see the module documentation).
pub fn normalize(raw: &str) -> Result<String, ParseError> {
    let mut chars: Vec<char> = raw
        .chars()
        .filter(|c| *c != ' ' && *c != '\t' && *c != '"')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() == 20 && chars[0] == '9' && chars[1] == '8' {
        for pair in chars.chunks_mut(2) {
            pair.swap(0, 1);
        }
    }
    while chars.last() == Some(&'F') {
        chars.pop();
    }
    for (i, c) in chars.iter().enumerate() {
        let ok = if i < ISSUER_DIGITS {
            c.is_ascii_digit()
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            let text: String = c.to_string();
            let what = if i < ISSUER_DIGITS {
                "a decimal digit (the first 6 must be)"
            } else {
                "a hexadecimal digit"
            };
            return Err(ParseError::new(
                "invalid_field",
                format!(
                    "iccid: {} at position {} of the ICCID is not {what}",
                    show_char(&text, 0),
                    i + 1
                ),
            ));
        }
    }
    if chars.len() >= 2 && (chars[0], chars[1]) != ('8', '9') {
        let start: String = chars[..2].iter().collect();
        return Err(ParseError::new(
            "invalid_field",
            format!("iccid: the ICCID starts with {start:?}, not 89, the telecom industry identifier (ITU-T E.118)"),
        ));
    }
    if !(18..=22).contains(&chars.len()) {
        return Err(ParseError::new(
            "invalid_field",
            format!(
                "iccid: the ICCID has {} digits; 18 to 22 are expected",
                chars.len()
            ),
        ));
    }
    Ok(chars.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn iccid(line: &str) -> Result<String, (&'static str, String)> {
        match parse(line.as_bytes()) {
            Ok(("iccid", v)) => match v.get("iccid") {
                Some(Value::Str(s)) => Ok(s.clone()),
                other => panic!("{other:?}"),
            },
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err((e.reason, e.detail)),
        }
    }

    #[test]
    fn parses_real_iccid_lines() {
        let rows = [
            // Quectel EC25 with F padding (vintage_net_mobile transcript)
            ("+QCCID: 8901260852290847433F", "8901260852290847433"),
            ("+QCCID: 89860318740217368217", "89860318740217368217"),
            // SIMCom SIM7600 / SIM7080
            ("+CICCID: 89860318740217368217", "89860318740217368217"),
            ("+ICCID: 89014103211118510720", "89014103211118510720"),
            // u-blox, quoted and unquoted
            ("+CCID: 8939107800023416395", "8939107800023416395"),
            ("+CCID: \"8939107800023416395\"", "8939107800023416395"),
            // Huawei: swapped nibbles (the issue's example and ModemManager's)
            ("^ICCID: 98101430121181157002", "89014103211118510720"),
            ("^ICCID: \"984402003576012594F9\"", "8944200053671052499"),
            ("^ICCID: 98231420326409614067", "89324102234690160476"),
            // Sierra
            ("!ICCID: 89014104279277854227", "89014104279277854227"),
            ("ICCID: 89014104279277854227", "89014104279277854227"),
            // Telit
            ("#CCID: 89390100001234567890", "89390100001234567890"),
            // Spacing, case and padding variants
            ("+qccid:8944200053671052499f", "8944200053671052499"),
            (
                "+CCID:  8944 2000 5367 1052 499 \r\n",
                "8944200053671052499",
            ),
            ("+CCID: 8944200053671052499FFF", "8944200053671052499"),
            // hex after the issuer part
            ("+CCID: 8988303000ABCDEF1234", "8988303000ABCDEF1234"),
            ("+CCID: 8988303000abcdef1234", "8988303000ABCDEF1234"),
            // hex in the issuer/account digits (China Mobile)
            ("+CCID: \"898602F9091830030220\"", "898602F9091830030220"),
            ("+ICCID: 898602C0123456789012", "898602C0123456789012"),
            ("+QCCID: 898602c0123456789012", "898602C0123456789012"),
        ];
        for (line, want) in rows {
            assert_eq!(iccid(line), Ok(want.to_owned()), "{line:?}");
        }
    }

    #[test]
    fn refuses_bad_iccids_naming_the_character() {
        let rows = [
            (
                "+CCID: 89X1260852290847433",
                "'X' (0x58) at position 3",
                "decimal",
            ),
            (
                "+CCID: 8901260852290847G33",
                "'G' (0x47) at position 17",
                "hexadecimal",
            ),
            (
                "+CCID: 89012-0852290847433",
                "'-' (0x2D) at position 6",
                "decimal",
            ),
            (
                "+CCID: 89012608522908474é3",
                "'é' (U+00E9) at position 18",
                "hexadecimal",
            ),
            ("+CCID: 8901260852", "has 10 digits", "18 to 22"),
            // not the telecom industry identifier 89
            (
                "+CCID: \"0044200053671052499\"",
                "starts with \"00\"",
                "not 89",
            ),
            ("+CCID: 0044200053671052499", "starts with \"00\"", "not 89"),
            ("+CCID: 1234567890123456789", "starts with \"12\"", "not 89"),
            // a swapped dump is always 20 long: 15 are not swapped, so not 89
            ("+CCID: 982314203264096", "starts with \"98\"", "not 89"),
            (
                "+CCID: 98231420326pl9614067",
                "'P' (0x50) at position 11",
                "hexadecimal",
            ),
            ("+CCID: FFFF", "has 0 digits", "18 to 22"),
        ];
        for (line, a, b) in rows {
            let (reason, detail) = iccid(line).unwrap_err();
            assert_eq!(reason, "invalid_field", "{line:?}");
            assert!(
                detail.contains(a) && detail.contains(b),
                "{line:?}: {detail}"
            );
        }
        assert_eq!(iccid("+CCID: ").unwrap_err().0, "missing_field");
        assert_eq!(iccid("+CCID: \"\"").unwrap_err().0, "missing_field");
        assert_eq!(iccid("+CCID: 1,2").unwrap_err().0, "extra_field");
    }
}
