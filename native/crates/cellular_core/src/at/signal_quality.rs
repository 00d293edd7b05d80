//! `+CSQ` and `+CESQ` (3GPP TS 27.007 signal quality).

use super::fields::Line;
use super::ParseError;
use crate::Value;

/// `+CSQ: <rssi>,<ber>` → `%{rssi: 0..31 | 99, ber: 0..7 | 99}`.
///
/// Raw values as the modem sent them; 99 means unknown. Convert with
/// `crate::signal::from_gsm_asu`.
pub(super) fn csq(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("csq");
    r.at_most(2)?;
    let rssi = r.int_in(0, "rssi", 0, 31, &[99], "0..31 and 99")?;
    let ber = r.int_in(1, "ber", 0, 7, &[99], "0..7 and 99")?;
    Ok(Value::Map(vec![("ber", ber.into()), ("rssi", rssi.into())]))
}

/// `+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>` → a map of the six raw
/// integers, each range-checked against 27.007: rxlev 0..63 | 99, ber 0..7 |
/// 99, rscp 0..96 | 255, ecno 0..49 | 255, rsrq 0..34 | 255, rsrp 0..97 |
/// 255 (99 and 255 mean unknown). Convert rsrp/rsrq with
/// `crate::signal::from_cesq`.
pub(super) fn cesq(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cesq");
    r.at_most(6)?;
    let rxlev = r.int_in(0, "rxlev", 0, 63, &[99], "0..63 and 99")?;
    let ber = r.int_in(1, "ber", 0, 7, &[99], "0..7 and 99")?;
    let rscp = r.int_in(2, "rscp", 0, 96, &[255], "0..96 and 255")?;
    let ecno = r.int_in(3, "ecno", 0, 49, &[255], "0..49 and 255")?;
    let rsrq = r.int_in(4, "rsrq", 0, 34, &[255], "0..34 and 255")?;
    let rsrp = r.int_in(5, "rsrp", 0, 97, &[255], "0..97 and 255")?;
    Ok(Value::Map(vec![
        ("ber", ber.into()),
        ("ecno", ecno.into()),
        ("rscp", rscp.into()),
        ("rsrp", rsrp.into()),
        ("rsrq", rsrq.into()),
        ("rxlev", rxlev.into()),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn csq(rssi: i64, ber: i64) -> Value {
        Value::Map(vec![("rssi", rssi.into()), ("ber", ber.into())]).sorted()
    }

    /// Real `+CSQ` answers: (line, rssi, ber).
    const CSQ_OK: &[(&str, i64, i64)] = &[
        ("+CSQ: 5,99", 5, 99),           // vintage_net_mobile test transcript
        ("+CSQ: 21,99", 21, 99),         // Quectel EC25, SIMCom SIM7600
        ("+CSQ: 23,99", 23, 99),         // Fibocom L860 manual example
        ("+CSQ: 3,99", 3, 99),           // Quectel BG96 weak signal
        ("+CSQ: 28,0", 28, 0),           // Quectel UG96 manual example
        ("+CSQ: 25,0", 25, 0),           // SIMCom SIM7670G
        ("+CSQ: 31, 99", 31, 99),        // Motorola G20 (space after comma)
        ("+CSQ: 99,99", 99, 99),         // no signal
        ("+CSQ: 0,99", 0, 99),           // -113 dBm or less
        ("+CSQ:17,99", 17, 99),          // no space after colon
        ("+CSQ: 17, 99 \r\n", 17, 99),   // odd spacing and CR/LF
        ("\r\n+CSQ: 17,99\r\n", 17, 99), // leading CR/LF
        ("+csq: 17,99", 17, 99),         // lower-case prefix
        ("+CSQ: 017,099", 17, 99),       // leading zeros
        ("+CSQ:\t18,\t99", 18, 99),      // tabs
    ];

    #[test]
    fn parses_real_csq_answers() {
        for (line, rssi, ber) in CSQ_OK {
            assert_eq!(
                parse(line.as_bytes()),
                Ok(("csq", csq(*rssi, *ber))),
                "{line:?}"
            );
        }
    }

    /// Broken `+CSQ` lines: (line, reason, text the detail must contain).
    const CSQ_BAD: &[(&str, &str, &str)] = &[
        (
            "+CSQ: 5A,99",
            "invalid_field",
            "<rssi> (field 1) is not an integer: \"5A\"",
        ),
        ("+CSQ: 0x12aAz,99", "invalid_field", "rssi"),
        ("+CSQ: 32,99", "invalid_field", "outside 0..31 and 99"),
        ("+CSQ: -1,99", "invalid_field", "rssi"),
        (
            "+CSQ: 99,9",
            "invalid_field",
            "<ber> (field 2) is outside 0..7 and 99",
        ),
        ("+CSQ: 17", "missing_field", "<ber>"),
        ("+CSQ: ", "missing_field", "<rssi>"),
        ("+CSQ: ,99", "missing_field", "<rssi>"),
        ("+CSQ: 17,99,1", "extra_field", "3 fields"),
        ("+CSQ: \"Missing quote", "unterminated_quote", "field 1"),
    ];

    #[test]
    fn refuses_broken_csq_lines() {
        for (line, reason, detail) in CSQ_BAD {
            let err = parse(line.as_bytes()).unwrap_err();
            assert_eq!(err.reason, *reason, "{line:?}: {err:?}");
            assert!(err.detail.contains(detail), "{line:?}: {}", err.detail);
        }
    }

    fn cesq(v: [i64; 6]) -> Value {
        Value::Map(vec![
            ("rxlev", v[0].into()),
            ("ber", v[1].into()),
            ("rscp", v[2].into()),
            ("ecno", v[3].into()),
            ("rsrq", v[4].into()),
            ("rsrp", v[5].into()),
        ])
        .sorted()
    }

    /// Real `+CESQ` answers (ModemManager's test table, u-blox SARA-R4,
    /// Quectel BG96 on Cat-M1).
    const CESQ_OK: &[(&str, [i64; 6])] = &[
        ("+CESQ: 99,99,255,255,20,80", [99, 99, 255, 255, 20, 80]), // LTE
        ("+CESQ: 99,99,95,40,255,255", [99, 99, 95, 40, 255, 255]), // UMTS
        ("+CESQ: 10,6,255,255,255,255", [10, 6, 255, 255, 255, 255]), // GSM
        ("+CESQ: 99,99,255,255,13,39", [99, 99, 255, 255, 13, 39]), // Cat-M1, weak
        ("+CESQ: 99,99,255,255,255,255", [99, 99, 255, 255, 255, 255]), // no service
        (
            "+CESQ:99, 99, 255, 255, 34, 97 ",
            [99, 99, 255, 255, 34, 97],
        ),
        ("+cesq: 99,99,255,255,0,0", [99, 99, 255, 255, 0, 0]),
    ];

    #[test]
    fn parses_real_cesq_answers() {
        for (line, v) in CESQ_OK {
            assert_eq!(parse(line.as_bytes()), Ok(("cesq", cesq(*v))), "{line:?}");
        }
    }

    #[test]
    fn refuses_broken_cesq_lines() {
        for (line, reason, detail) in [
            ("+CESQ: 99,99,255,255,20", "missing_field", "<rsrp>"),
            (
                "+CESQ: 99,99,255,255,35,80",
                "invalid_field",
                "<rsrq> (field 5)",
            ),
            (
                "+CESQ: 99,99,255,255,20,98",
                "invalid_field",
                "<rsrp> (field 6)",
            ),
            ("+CESQ: 64,99,255,255,20,80", "invalid_field", "<rxlev>"),
            ("+CESQ: 99,99,255,255,20,80,1", "extra_field", "7 fields"),
        ] {
            let err = parse(line.as_bytes()).unwrap_err();
            assert_eq!(err.reason, reason, "{line:?}: {err:?}");
            assert!(err.detail.contains(detail), "{line:?}: {}", err.detail);
        }
    }
}
