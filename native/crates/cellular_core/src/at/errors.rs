//! `+CME ERROR` (3GPP TS 27.007 §9.2) and `+CMS ERROR` (27.005 §3.2.5).
//!
//! Both give `%{code: integer | nil, message: String.t() | nil}`:
//! - numeric form (`+CME ERROR: 10`): `code` is the number and `message` the
//!   standard text for it, or nil for a number outside the tables below;
//! - text form (`+CME ERROR: SIM not inserted`, after `AT+CMEE=2`):
//!   `message` is the modem's text as sent and `code` the standard number of
//!   that text (matched ignoring case), or nil when it is not in the table.

use super::fields::{decimal, Line};
use super::ParseError;
use crate::Value;

/// 27.007 `<err>` values and their texts (the general and GPRS-related
/// ones modems send in practice).
pub const CME: &[(i64, &str)] = &[
    (0, "phone failure"),
    (1, "no connection to phone"),
    (2, "phone-adaptor link reserved"),
    (3, "operation not allowed"),
    (4, "operation not supported"),
    (5, "PH-SIM PIN required"),
    (6, "PH-FSIM PIN required"),
    (7, "PH-FSIM PUK required"),
    (10, "SIM not inserted"),
    (11, "SIM PIN required"),
    (12, "SIM PUK required"),
    (13, "SIM failure"),
    (14, "SIM busy"),
    (15, "SIM wrong"),
    (16, "incorrect password"),
    (17, "SIM PIN2 required"),
    (18, "SIM PUK2 required"),
    (20, "memory full"),
    (21, "invalid index"),
    (22, "not found"),
    (23, "memory failure"),
    (24, "text string too long"),
    (25, "invalid characters in text string"),
    (26, "dial string too long"),
    (27, "invalid characters in dial string"),
    (30, "no network service"),
    (31, "network timeout"),
    (32, "network not allowed - emergency calls only"),
    (40, "network personalization PIN required"),
    (41, "network personalization PUK required"),
    (42, "network subset personalization PIN required"),
    (43, "network subset personalization PUK required"),
    (44, "service provider personalization PIN required"),
    (45, "service provider personalization PUK required"),
    (46, "corporate personalization PIN required"),
    (47, "corporate personalization PUK required"),
    (48, "hidden key required"),
    (49, "EAP method not supported"),
    (50, "incorrect parameters"),
    (100, "unknown"),
    (103, "illegal MS"),
    (106, "illegal ME"),
    (107, "GPRS services not allowed"),
    (111, "PLMN not allowed"),
    (112, "location area not allowed"),
    (113, "roaming not allowed in this location area"),
    (132, "service option not supported"),
    (133, "requested service option not subscribed"),
    (134, "service option temporarily out of order"),
    (148, "unspecified GPRS error"),
    (149, "PDP authentication failure"),
    (150, "invalid mobile class"),
];

/// 27.005 `<err>` values and their texts.
pub const CMS: &[(i64, &str)] = &[
    (300, "ME failure"),
    (301, "SMS service of ME reserved"),
    (302, "operation not allowed"),
    (303, "operation not supported"),
    (304, "invalid PDU mode parameter"),
    (305, "invalid text mode parameter"),
    (310, "SIM not inserted"),
    (311, "SIM PIN required"),
    (312, "PH-SIM PIN required"),
    (313, "SIM failure"),
    (314, "SIM busy"),
    (315, "SIM wrong"),
    (316, "SIM PUK required"),
    (317, "SIM PIN2 required"),
    (318, "SIM PUK2 required"),
    (320, "memory failure"),
    (321, "invalid memory index"),
    (322, "memory full"),
    (330, "SMSC address unknown"),
    (331, "no network service"),
    (332, "network timeout"),
    (340, "no +CNMA acknowledgement expected"),
    (500, "unknown error"),
];

pub(super) fn cme(line: &Line) -> Result<Value, ParseError> {
    parse("cme_error", CME, line)
}

pub(super) fn cms(line: &Line) -> Result<Value, ParseError> {
    parse("cms_error", CMS, line)
}

fn parse(kind: &'static str, table: &[(i64, &str)], line: &Line) -> Result<Value, ParseError> {
    let r = line.reader(kind);
    // The text form may hold commas; take everything after the colon.
    let text = match &line.fields[..] {
        [f] => f.text,
        _ => line.rest,
    };
    if text.is_empty() {
        return Err(r.missing("err"));
    }
    let (code, message) = match decimal(text) {
        Some(code) if text.bytes().all(|b| b.is_ascii_digit()) => {
            let message = table.iter().find(|(c, _)| *c == code).map(|(_, m)| *m);
            (Some(code), message)
        }
        _ => {
            let code = table
                .iter()
                .find(|(_, m)| m.eq_ignore_ascii_case(text))
                .map(|(c, _)| *c);
            (code, Some(text))
        }
    };
    Ok(Value::Map(vec![
        ("code", Value::opt(code)),
        ("message", Value::opt(message)),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn err(code: Option<i64>, message: Option<&str>) -> Value {
        Value::Map(vec![
            ("code", Value::opt(code)),
            ("message", Value::opt(message)),
        ])
        .sorted()
    }

    #[test]
    fn parses_real_error_lines() {
        let rows = [
            (
                "+CME ERROR: 10",
                "cme_error",
                err(Some(10), Some("SIM not inserted")),
            ),
            (
                "+CME ERROR: SIM not inserted",
                "cme_error",
                err(Some(10), Some("SIM not inserted")),
            ),
            (
                "+CME ERROR: SIM PIN required",
                "cme_error",
                err(Some(11), Some("SIM PIN required")),
            ),
            (
                "+CME ERROR: 3",
                "cme_error",
                err(Some(3), Some("operation not allowed")),
            ),
            (
                "+CME ERROR: operation not allowed",
                "cme_error",
                err(Some(3), Some("operation not allowed")),
            ),
            (
                "+CME ERROR: 30",
                "cme_error",
                err(Some(30), Some("no network service")),
            ),
            (
                "+CME ERROR: 14",
                "cme_error",
                err(Some(14), Some("SIM busy")),
            ),
            ("+CME ERROR: 516", "cme_error", err(Some(516), None)), // Quectel GNSS "not fixed now"
            (
                "+CME ERROR: Not fixed now",
                "cme_error",
                err(None, Some("Not fixed now")),
            ),
            (
                "+CME ERROR: SIM failure",
                "cme_error",
                err(Some(13), Some("SIM failure")),
            ),
            (
                "+CME ERROR:10",
                "cme_error",
                err(Some(10), Some("SIM not inserted")),
            ),
            (
                "+cme error: sim not inserted",
                "cme_error",
                err(Some(10), Some("sim not inserted")),
            ),
            (
                "+CME ERROR: \"SIM busy\"",
                "cme_error",
                err(Some(14), Some("SIM busy")),
            ),
            (
                "+CME ERROR: 010",
                "cme_error",
                err(Some(10), Some("SIM not inserted")),
            ),
            (
                "+CME ERROR: network not allowed - emergency calls only",
                "cme_error",
                err(Some(32), Some("network not allowed - emergency calls only")),
            ),
            (
                "+CME ERROR: Invalid input value, try again",
                "cme_error",
                err(None, Some("Invalid input value, try again")),
            ),
            (
                "+CMS ERROR: 500",
                "cms_error",
                err(Some(500), Some("unknown error")),
            ),
            (
                "+CMS ERROR: 321",
                "cms_error",
                err(Some(321), Some("invalid memory index")),
            ),
            (
                "+CMS ERROR: SIM not inserted",
                "cms_error",
                err(Some(310), Some("SIM not inserted")),
            ),
            ("+CMS ERROR: 30", "cms_error", err(Some(30), None)),
        ];
        for (line, kind, want) in rows {
            assert_eq!(parse(line.as_bytes()), Ok((kind, want)), "{line:?}");
        }
    }

    #[test]
    fn refuses_an_empty_error() {
        let e = parse(b"+CME ERROR: ").unwrap_err();
        assert_eq!(e.reason, "missing_field");
        assert!(e.detail.contains("cme_error: <err>"), "{}", e.detail);
        assert_eq!(parse(b"+CMS ERROR:").unwrap_err().reason, "missing_field");
    }

    #[test]
    fn tables_have_unique_codes() {
        for table in [super::CME, super::CMS] {
            let mut codes: Vec<i64> = table.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), table.len());
        }
    }
}
