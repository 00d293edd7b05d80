//! PDP context definitions: `+CGDCONT` and `+CGAUTH` (3GPP TS 27.007 §10.1).

use super::fields::Line;
use super::ParseError;
use crate::Value;

/// `+CGDCONT: <cid>,<PDP_type>,<APN>[,<PDP_addr>,...]` →
/// `%{cid: integer, pdp_type: String.t() | nil, apn: String.t() | nil}`.
///
/// `pdp_type` as sent (`"IP"`, `"IPV6"`, `"IPV4V6"`, `"PPP"`, `"Non-IP"`);
/// an empty APN (`,,` or `""`) is nil. Later fields are not read.
pub(super) fn cgdcont(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cgdcont");
    let cid = r.int(0, "cid")?;
    Ok(Value::Map(vec![
        ("apn", Value::opt(r.opt_str(2))),
        ("cid", cid.into()),
        ("pdp_type", Value::opt(r.opt_str(1))),
    ]))
}

/// The `<auth_prot>` atoms (27.007 defines 0..2; 3 is the common vendor
/// extension "PAP or CHAP").
const AUTH: [&str; 4] = ["none", "pap", "chap", "pap_or_chap"];

/// `+CGAUTH: <cid>,<auth_prot>[,<userid>[,<password>]]` →
/// `%{cid: integer, auth: :none | :pap | :chap | :pap_or_chap, username:
/// String.t() | nil}`.
///
/// The password is never read: not into the result, not into an error. Only
/// the first three fields are looked at, and errors name fields by position
/// only for them.
pub(super) fn cgauth(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cgauth");
    let cid = r.int(0, "cid")?;
    let auth = r.int_in(1, "auth_prot", 0, 3, &[], "0..3")?;
    let auth = AUTH[auth as usize];
    Ok(Value::Map(vec![
        ("auth", Value::Atom(auth)),
        ("cid", cid.into()),
        ("username", Value::opt(r.opt_str(2))),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn cgdcont(cid: i64, t: Option<&str>, apn: Option<&str>) -> Value {
        Value::Map(vec![
            ("cid", cid.into()),
            ("pdp_type", Value::opt(t)),
            ("apn", Value::opt(apn)),
        ])
        .sorted()
    }

    #[test]
    fn parses_real_cgdcont_answers() {
        let rows = [
            // ModemManager's table
            ("+CGDCONT: 1,\"IP\",,,0,0", cgdcont(1, Some("IP"), None)),
            (
                "+CGDCONT: 1,\"IP\",\"nate.sktelecom.com\",\"\",0,0",
                cgdcont(1, Some("IP"), Some("nate.sktelecom.com")),
            ),
            (
                "+CGDCONT: 2,\"IP\",\"ac.vodafone.es.MNC001.MCC214.GPRS\",\"\",0,0",
                cgdcont(2, Some("IP"), Some("ac.vodafone.es.MNC001.MCC214.GPRS")),
            ),
            (
                "+CGDCONT: 10,\"IP\",\"inet.es\",\"\",0,0",
                cgdcont(10, Some("IP"), Some("inet.es")),
            ),
            (
                "+CGDCONT: 1,\"IPV6\",\"telefonica.es\",\"\",0,0",
                cgdcont(1, Some("IPV6"), Some("telefonica.es")),
            ),
            // Quectel EC25 (8 trailing fields)
            (
                "+CGDCONT: 1,\"IPV4V6\",\"hologram\",\"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\",0,0,0,0",
                cgdcont(1, Some("IPV4V6"), Some("hologram")),
            ),
            // SIMCom SIM7600, empty APN quoted
            (
                "+CGDCONT: 1,\"IP\",\"\",\"0.0.0.0\",0,0,0,0",
                cgdcont(1, Some("IP"), None),
            ),
            // u-blox with odd spacing
            (
                "+CGDCONT: 1 , \"IP\" , \"internet\" ",
                cgdcont(1, Some("IP"), Some("internet")),
            ),
            (
                "+cgdcont:3,\"Non-IP\",\"iot.nb\"",
                cgdcont(3, Some("Non-IP"), Some("iot.nb")),
            ),
        ];
        for (line, want) in rows {
            assert_eq!(parse(line.as_bytes()), Ok(("cgdcont", want)), "{line:?}");
        }
        let err = parse(b"+CGDCONT: x,\"IP\"").unwrap_err();
        assert_eq!(err.reason, "invalid_field");
        assert!(err.detail.contains("<cid>"), "{}", err.detail);
    }

    fn cgauth(cid: i64, auth: &'static str, user: Option<&str>) -> Value {
        Value::Map(vec![
            ("cid", cid.into()),
            ("auth", Value::Atom(auth)),
            ("username", Value::opt(user)),
        ])
        .sorted()
    }

    #[test]
    fn parses_cgauth_and_drops_the_password() {
        let rows = [
            ("+CGAUTH: 1,0", cgauth(1, "none", None)),
            ("+CGAUTH: 1,0,\"\"", cgauth(1, "none", None)),
            ("+CGAUTH: 1,1,\"user\"", cgauth(1, "pap", Some("user"))),
            (
                "+CGAUTH: 1,2,\"user\",\"s3cret\"",
                cgauth(1, "chap", Some("user")),
            ),
            (
                "+CGAUTH: 2,3,\"u@x\",\"s3cret\"",
                cgauth(2, "pap_or_chap", Some("u@x")),
            ),
            (
                "+cgauth:1 ,1 , \"user\" , \"s3cret\"",
                cgauth(1, "pap", Some("user")),
            ),
        ];
        for (line, want) in rows {
            let got = parse(line.as_bytes());
            assert!(!format!("{got:?}").contains("s3cret"), "{line:?}");
            assert_eq!(got, Ok(("cgauth", want)), "{line:?}");
        }
    }

    #[test]
    fn cgauth_errors_never_show_the_password() {
        for line in [
            "+CGAUTH: x,1,\"user\",\"s3cret\"",
            "+CGAUTH: 1,7,\"user\",\"s3cret\"",
            "+CGAUTH: 1,,\"user\",\"s3cret\"",
            "+CGAUTH: 1,1,\"user\",\"s3cret",
            "+CGAUTH: 1,1,\"user\",\"s3cret\"x",
        ] {
            let err = parse(line.as_bytes()).unwrap_err();
            assert!(!err.detail.contains("s3cret"), "{line:?}: {}", err.detail);
        }
    }
}
