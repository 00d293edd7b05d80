//! Well-formed lines of any other prefix: `%{prefix: "+XYZ", fields: [...]}`.
//!
//! The prefix is upper-cased (`+qind` → `+QIND`); the fields are strings,
//! trimmed, quotes removed. A few vendor commands echo credentials in their
//! read answers; those fields are replaced by `"[redacted]"` so a password
//! never leaves the parser.

use super::fields::Line;
use crate::Value;

/// Read answers that carry a password, and the first field index to hide.
/// (`+CGAUTH` has its own parser, which never reads the password.)
const SECRETS: &[(&str, usize)] = &[
    // Quectel: <context_type>,<APN>,<username>,<password>,<authentication>
    ("+QICSGP", 3),
    // SIMCom (2G): <apn>,<user>,<password>
    ("+CSTT", 2),
    // u-blox: <cid>,<auth_type>,<username>,<password>
    ("+UAUTHREQ", 3),
    // Qualcomm-based (Sierra, Telit): <cid>,<auth>[,<username/password>...]
    ("$QCPDPP", 2),
];

pub(super) const REDACTED: &str = "[redacted]";

pub(super) fn parse(line: &Line) -> Value {
    let prefix = line.prefix.to_ascii_uppercase();
    let hide_from = SECRETS
        .iter()
        .find(|(p, _)| p[1..] == prefix[1..])
        .map_or(usize::MAX, |(_, i)| *i);
    let fields = line
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Value::Str(if i >= hide_from {
                REDACTED.to_owned()
            } else {
                f.text.to_owned()
            })
        })
        .collect();
    Value::Map(vec![
        ("fields", Value::List(fields)),
        ("prefix", Value::Str(prefix)),
    ])
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn unknown(prefix: &str, fields: &[&str]) -> Value {
        Value::Map(vec![
            ("prefix", prefix.into()),
            ("fields", Value::from(fields.to_vec())),
        ])
        .sorted()
    }

    #[test]
    fn keeps_unknown_lines_as_strings() {
        let rows = [
            (
                r#"+QIND: "csq",21,99"#,
                unknown("+QIND", &["csq", "21", "99"]),
            ),
            (r#"+QIND: "act","LTE""#, unknown("+QIND", &["act", "LTE"])),
            (
                r#"+QSPN: "Twilio","Twilio","",0,"310260""#,
                unknown("+QSPN", &["Twilio", "Twilio", "", "0", "310260"]),
            ),
            (
                "+QCFG: \"band\",0x260,0x42000000000000381a,0x0",
                unknown("+QCFG", &["band", "0x260", "0x42000000000000381a", "0x0"]),
            ),
            (
                "^HCSQ: \"LTE\",30,19,66,0",
                unknown("^HCSQ", &["LTE", "30", "19", "66", "0"]),
            ),
            (
                "^SYSINFOEX:2,4,5,1,,3,\"WCDMA\",41,\"HSPA+\"",
                unknown(
                    "^SYSINFOEX",
                    &["2", "4", "5", "1", "", "3", "WCDMA", "41", "HSPA+"],
                ),
            ),
            (
                "%XSNRSQ: 39,3,130,1",
                unknown("%XSNRSQ", &["39", "3", "130", "1"]),
            ),
            ("$QCRMCALL: 1,V4", unknown("$QCRMCALL", &["1", "V4"])),
            (
                "*PSUTTZ: 2020,3,13",
                unknown("*PSUTTZ", &["2020", "3", "13"]),
            ),
            (
                "+CGEV: ME PDN DEACT 1",
                unknown("+CGEV", &["ME PDN DEACT 1"]),
            ),
            ("+cfun: 1", unknown("+CFUN", &["1"])),
            ("^SYSSTART", unknown("^SYSSTART", &[])),
            ("+QIND: SMS DONE", unknown("+QIND", &["SMS DONE"])),
            (
                "+CGPADDR: 1,10.64.12.34",
                unknown("+CGPADDR", &["1", "10.64.12.34"]),
            ),
            ("+XYZ:", unknown("+XYZ", &[])),
        ];
        for (line, want) in rows {
            assert_eq!(parse(line.as_bytes()), Ok(("unknown", want)), "{line:?}");
        }
    }

    #[test]
    fn redacts_credentials_of_known_vendor_commands() {
        for (line, want) in [
            (
                r#"+QICSGP: 1,"internet","user","s3cret",1"#,
                unknown(
                    "+QICSGP",
                    &["1", "internet", "user", "[redacted]", "[redacted]"],
                ),
            ),
            (
                r#"+CSTT: "CMNET","user","s3cret""#,
                unknown("+CSTT", &["CMNET", "user", "[redacted]"]),
            ),
            (
                r#"+uauthreq: 1,1,"user","s3cret""#,
                unknown("+UAUTHREQ", &["1", "1", "user", "[redacted]"]),
            ),
        ] {
            assert_eq!(parse(line.as_bytes()), Ok(("unknown", want)), "{line:?}");
        }
    }
}
