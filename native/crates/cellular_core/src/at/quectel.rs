//! Quectel `+QNWINFO` and `+QCSQ`.

use super::fields::{decimal, round_tenths, Line};
use super::reg::split_plmn;
use super::ParseError;
use crate::Value;

/// `+QNWINFO: <act>,<oper>,<band>,<channel>` or `+QNWINFO: No Service` →
/// `%{service, act, operator, mcc, mnc, band, channel}`:
///
/// - `service`: false for the `No Service` answer (every other field nil);
/// - `act`: the access technology text as sent (`"FDD LTE"`, `"TDD NR5G"`,
///   `"EDGE"`, `"eMTC"`, `"NBIoT"`);
/// - `operator`: the numeric operator as sent (`"310410"`), `mcc`/`mnc`
///   split from it (strings, leading zeros kept) or nil when not numeric;
/// - `band`: the band text as sent (`"LTE BAND 12"`, `"NR5G BAND 41"`);
/// - `channel`: the (E/U/NR-)ARFCN as an integer.
pub(super) fn qnwinfo(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("qnwinfo");
    r.at_most(4)?;
    let no_service = r.len() == 1
        && r.get(0)
            .is_some_and(|f| f.text.eq_ignore_ascii_case("No Service"));
    if no_service {
        return Ok(Value::Map(vec![
            ("act", Value::Nil),
            ("band", Value::Nil),
            ("channel", Value::Nil),
            ("mcc", Value::Nil),
            ("mnc", Value::Nil),
            ("operator", Value::Nil),
            ("service", false.into()),
        ]));
    }
    let act = r.opt_str(0).ok_or_else(|| r.missing("act"))?;
    let operator = r.opt_str(1);
    let (mcc, mnc) = operator.and_then(split_plmn).unzip();
    let channel = r.opt_int(3, "channel")?;
    Ok(Value::Map(vec![
        ("act", act.into()),
        ("band", Value::opt(r.opt_str(2))),
        ("channel", Value::opt(channel)),
        ("mcc", Value::opt(mcc)),
        ("mnc", Value::opt(mnc)),
        ("operator", Value::opt(operator)),
        ("service", true.into()),
    ]))
}

/// The `+QCSQ` system modes whose values are LTE's
/// `<rssi>,<rsrp>,<sinr>,<rsrq>` (EC2x/EG2x, BG96, BG95/BG77 names).
const LTE_MODES: &[&str] = &["LTE", "CAT-M1", "CAT-NB1", "EMTC", "NBIOT"];

/// Converts Quectel's `<lte_sinr>` to dB.
///
/// The Quectel manuals (EC2x, BG96) define it as a logarithmic value in
/// 1/5 dB steps over 0..250, meaning -20 dB..+30 dB: `dB = raw / 5 - 20`.
/// The result is rounded to the nearest dB (raw/5 never ends in .5, so there
/// are no ties). A raw value outside 0..250 gives nil.
pub fn qcsq_sinr_db(raw: i64) -> Option<i64> {
    (0..=250)
        .contains(&raw)
        .then(|| round_tenths((raw - 100) * 2))
}

/// `+QCSQ: <sysmode>[,<value1>[,<value2>[,<value3>[,<value4>]]]]` →
/// `%{sysmode, rssi, rsrp, sinr, sinr_raw, rsrq, rscp, ecio, values}`.
///
/// - `sysmode`: the mode as sent (`"LTE"`, `"CAT-M1"`, `"WCDMA"`, `"GSM"`,
///   `"NOSERVICE"`, ...);
/// - `values`: every value after it, as integers, in order;
/// - the named fields depend on the mode (nil where the mode has none):
///   - LTE, CAT-M1, CAT-NB1, eMTC, NBIoT: `rssi` (dBm), `rsrp` (dBm),
///     `sinr_raw` (Quectel's 0..250 code), `sinr` (dB, see
///     [`qcsq_sinr_db`]), `rsrq` (dB). Some firmware (EG21-G) reports the
///     LTE RSSI as a positive magnitude (77 for -77 dBm); a positive LTE
///     RSSI is negated, since no real one is above 0 dBm;
///   - WCDMA, TDSCDMA: `rssi`, `rscp` (dBm) and `ecio` (as sent);
///   - GSM: `rssi`;
///   - CDMA, HDR: `rssi` and `ecio`;
///   - NOSERVICE and modes not listed (NR5G on RM50x): only `values`.
pub(super) fn qcsq(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("qcsq");
    let sysmode = r.opt_str(0).ok_or_else(|| r.missing("sysmode"))?;
    let mut values = Vec::with_capacity(4);
    for i in 1..r.len() {
        let f = r.get(i).map_or("", |f| f.text);
        let v = decimal(f).ok_or_else(|| r.invalid(i, "value", "is not an integer"))?;
        values.push(v);
    }
    let v = |i: usize| values.get(i).copied();
    let is = |modes: &[&str]| modes.iter().any(|m| m.eq_ignore_ascii_case(sysmode));
    let (mut rssi, mut rsrp, mut sinr_raw, mut rsrq, mut rscp, mut ecio) =
        (None, None, None, None, None, None);
    if is(LTE_MODES) {
        rssi = v(0).map(|x| if x > 0 { -x } else { x });
        rsrp = v(1);
        sinr_raw = v(2);
        rsrq = v(3);
    } else if is(&["WCDMA", "TDSCDMA"]) {
        rssi = v(0);
        rscp = v(1);
        ecio = v(2);
    } else if is(&["GSM"]) {
        rssi = v(0);
    } else if is(&["CDMA", "HDR"]) {
        rssi = v(0);
        ecio = v(1);
    }
    Ok(Value::Map(vec![
        ("ecio", Value::opt(ecio)),
        ("rscp", Value::opt(rscp)),
        ("rsrp", Value::opt(rsrp)),
        ("rsrq", Value::opt(rsrq)),
        ("rssi", Value::opt(rssi)),
        ("sinr", Value::opt(sinr_raw.and_then(qcsq_sinr_db))),
        ("sinr_raw", Value::opt(sinr_raw)),
        ("sysmode", sysmode.into()),
        ("values", Value::from(values)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::qcsq_sinr_db;
    use crate::at::parse;
    use crate::Value;

    fn qnw(
        act: &str,
        op: &str,
        mcc: Option<&str>,
        mnc: Option<&str>,
        band: &str,
        ch: i64,
    ) -> Value {
        Value::Map(vec![
            ("service", true.into()),
            ("act", act.into()),
            ("operator", op.into()),
            ("mcc", Value::opt(mcc)),
            ("mnc", Value::opt(mnc)),
            ("band", band.into()),
            ("channel", ch.into()),
        ])
        .sorted()
    }

    #[test]
    fn parses_real_qnwinfo_answers() {
        let rows = [
            // The issue's EC25 example and vintage_net_mobile's transcript
            (
                r#"+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110"#,
                qnw(
                    "FDD LTE",
                    "310410",
                    Some("310"),
                    Some("410"),
                    "LTE BAND 12",
                    5110,
                ),
            ),
            (
                r#"+QNWINFO: "FDD LTE","310260","LTE BAND 4",2300"#,
                qnw(
                    "FDD LTE",
                    "310260",
                    Some("310"),
                    Some("260"),
                    "LTE BAND 4",
                    2300,
                ),
            ),
            (
                r#"+QNWINFO: "FDD LTE","25001","LTE BAND 7",3100"#,
                qnw(
                    "FDD LTE",
                    "25001",
                    Some("250"),
                    Some("01"),
                    "LTE BAND 7",
                    3100,
                ),
            ),
            // EC25 on 2G, BG96 on Cat-M1, RM500Q on NR
            (
                r#"+QNWINFO: "EDGE","46001","GSM 1800",637"#,
                qnw("EDGE", "46001", Some("460"), Some("01"), "GSM 1800", 637),
            ),
            (
                r#"+QNWINFO: "eMTC","310410","LTE BAND 12",5110"#,
                qnw(
                    "eMTC",
                    "310410",
                    Some("310"),
                    Some("410"),
                    "LTE BAND 12",
                    5110,
                ),
            ),
            (
                r#"+QNWINFO: "TDD NR5G","46000","NR5G BAND 41",504990"#,
                qnw(
                    "TDD NR5G",
                    "46000",
                    Some("460"),
                    Some("00"),
                    "NR5G BAND 41",
                    504990,
                ),
            ),
            // leading-zero MNC test network, odd spacing
            (
                r#"+qnwinfo:"FDD LTE" , "00101" ,"LTE BAND 3", 1300 "#,
                qnw(
                    "FDD LTE",
                    "00101",
                    Some("001"),
                    Some("01"),
                    "LTE BAND 3",
                    1300,
                ),
            ),
        ];
        for (line, want) in rows {
            assert_eq!(parse(line.as_bytes()), Ok(("qnwinfo", want)), "{line:?}");
        }
    }

    #[test]
    fn parses_no_service() {
        for line in [
            "+QNWINFO: No Service",
            "+QNWINFO: \"No Service\"",
            "+qnwinfo: no service\r\n",
        ] {
            let (kind, v) = parse(line.as_bytes()).unwrap();
            assert_eq!(kind, "qnwinfo");
            assert_eq!(v.get("service"), Some(&Value::Bool(false)), "{line:?}");
            assert_eq!(v.get("act"), Some(&Value::Nil));
        }
    }

    #[test]
    fn refuses_broken_qnwinfo() {
        let e = parse(br#"+QNWINFO: "FDD LTE","310410","LTE BAND 12",x"#).unwrap_err();
        assert_eq!(e.reason, "invalid_field");
        assert!(e.detail.contains("<channel> (field 4)"), "{}", e.detail);
        assert_eq!(parse(b"+QNWINFO: ").unwrap_err().reason, "missing_field");
        assert_eq!(
            parse(br#"+QNWINFO: "a","b","c",1,2"#).unwrap_err().reason,
            "extra_field"
        );
    }

    /// (line, sysmode, rssi, rsrp, sinr, sinr_raw, rsrq, rscp, ecio)
    type Q = (&'static str, &'static str, [Option<i64>; 7]);

    #[test]
    fn parses_real_qcsq_answers() {
        let rows: &[Q] = &[
            // The issue's EC25 example
            (
                r#"+QCSQ: "LTE",-52,-81,195,-10"#,
                "LTE",
                [
                    Some(-52),
                    Some(-81),
                    Some(19),
                    Some(195),
                    Some(-10),
                    None,
                    None,
                ],
            ),
            // BG96 on Cat-M1 (Quectel forum): sinr 67 is -6.6 dB
            (
                r#"+QCSQ: "CAT-M1",-91,-129,67,-20"#,
                "CAT-M1",
                [
                    Some(-91),
                    Some(-129),
                    Some(-7),
                    Some(67),
                    Some(-20),
                    None,
                    None,
                ],
            ),
            // EG21-G reports the RSSI as a magnitude
            (
                r#"+QCSQ: "LTE",77,-116,76,-17"#,
                "LTE",
                [
                    Some(-77),
                    Some(-116),
                    Some(-5),
                    Some(76),
                    Some(-17),
                    None,
                    None,
                ],
            ),
            (
                r#"+QCSQ: "LTE",-69,-102,150,-12"#,
                "LTE",
                [
                    Some(-69),
                    Some(-102),
                    Some(10),
                    Some(150),
                    Some(-12),
                    None,
                    None,
                ],
            ),
            (
                r#"+QCSQ: "eMTC",-75,-101,110,-13"#,
                "eMTC",
                [
                    Some(-75),
                    Some(-101),
                    Some(2),
                    Some(110),
                    Some(-13),
                    None,
                    None,
                ],
            ),
            (
                r#"+QCSQ: "WCDMA",-71,-75,-4"#,
                "WCDMA",
                [Some(-71), None, None, None, None, Some(-75), Some(-4)],
            ),
            (
                r#"+QCSQ: "GSM",-69"#,
                "GSM",
                [Some(-69), None, None, None, None, None, None],
            ),
            (r#"+QCSQ: "NOSERVICE""#, "NOSERVICE", [None; 7]),
            ("+QCSQ: NOSERVICE", "NOSERVICE", [None; 7]),
            (
                r#"+qcsq:"LTE", -52 , -81 ,195, -10 "#,
                "LTE",
                [
                    Some(-52),
                    Some(-81),
                    Some(19),
                    Some(195),
                    Some(-10),
                    None,
                    None,
                ],
            ),
        ];
        for (line, mode, f) in rows {
            let (kind, v) = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e:?}"));
            assert_eq!(kind, "qcsq");
            assert_eq!(v.get("sysmode"), Some(&Value::from(*mode)), "{line:?}");
            for (key, want) in ["rssi", "rsrp", "sinr", "sinr_raw", "rsrq", "rscp", "ecio"]
                .iter()
                .zip(f.iter())
            {
                assert_eq!(v.get(key), Some(&Value::opt(*want)), "{line:?} {key}");
            }
        }
        let (_, v) = parse(br#"+QCSQ: "NR5G",-85,20,-11"#).unwrap();
        assert_eq!(v.get("values"), Some(&Value::from(vec![-85i64, 20, -11])));
        assert_eq!(v.get("rsrp"), Some(&Value::Nil));
    }

    #[test]
    fn converts_quectel_sinr() {
        assert_eq!(qcsq_sinr_db(0), Some(-20));
        assert_eq!(qcsq_sinr_db(100), Some(0));
        assert_eq!(qcsq_sinr_db(250), Some(30));
        assert_eq!(qcsq_sinr_db(67), Some(-7)); // -6.6
        assert_eq!(qcsq_sinr_db(74), Some(-5)); // -5.2
        assert_eq!(qcsq_sinr_db(-1), None);
        assert_eq!(qcsq_sinr_db(251), None);
        for raw in 0..=250 {
            let exact = f64::from(raw as i32) / 5.0 - 20.0;
            let got = qcsq_sinr_db(raw).unwrap() as f64;
            assert!((got - exact).abs() <= 0.5, "{raw}");
        }
    }

    #[test]
    fn refuses_broken_qcsq() {
        let e = parse(br#"+QCSQ: "LTE",-52,x,195,-10"#).unwrap_err();
        assert_eq!(e.reason, "invalid_field");
        assert!(e.detail.contains("(field 3)"), "{}", e.detail);
        assert_eq!(parse(b"+QCSQ: ").unwrap_err().reason, "missing_field");
    }
}
