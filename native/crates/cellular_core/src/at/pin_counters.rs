//! Remaining PIN and PUK attempts: 3GPP TS 27.007 `+CPINR` (§8.65), Quectel
//! `+QPINC` and SIMCom `+SPIC`.
//!
//! Each gives the attempts left, so that the connection manager never sends
//! a PIN the SIM could answer by locking itself into PUK.

use super::cpin::same_code;
use super::fields::Line;
use super::ParseError;
use crate::Value;

/// Attempts are small counters; anything larger is a garbled line.
const MAX_ATTEMPTS: i64 = 255;

/// `+CPINR: <code>,<retries>[,<default_retries>]` →
/// `%{code, retries, default_retries}`:
///
/// - `code`: `:sim_pin`, `:sim_puk`, `:sim_pin2`, `:sim_puk2`, or `:other`
///   for any other lock (personalisation codes), as `+CPIN:` names them;
/// - `retries`: attempts left, 0..=255;
/// - `default_retries`: attempts after a reset, or nil.
pub(super) fn cpinr(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cpinr");
    r.at_most(3)?;
    let text = r.opt_str(0).ok_or_else(|| r.missing("code"))?;
    let code = ["SIM PIN", "SIM PUK", "SIM PIN2", "SIM PUK2"]
        .iter()
        .zip(["sim_pin", "sim_puk", "sim_pin2", "sim_puk2"])
        .find(|(known, _)| same_code(known, text))
        .map_or("other", |(_, atom)| atom);
    let retries = r.int_in(1, "retries", 0, MAX_ATTEMPTS, &[], "0..255")?;
    let default_retries = match r.present(2) {
        None => None,
        Some(_) => Some(r.int_in(2, "default_retries", 0, MAX_ATTEMPTS, &[], "0..255")?),
    };
    Ok(Value::Map(vec![
        ("code", Value::Atom(code)),
        ("default_retries", Value::opt(default_retries)),
        ("retries", retries.into()),
    ]))
}

/// `+QPINC: <facility>,<pin counter>,<puk counter>` (Quectel) →
/// `%{facility, pin, puk}`: `facility` as sent (`"SC"` is the SIM PIN,
/// `"P2"` PIN2), `pin`/`puk` the attempts left.
pub(super) fn qpinc(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("qpinc");
    r.at_most(3)?;
    let facility = r.opt_str(0).ok_or_else(|| r.missing("facility"))?;
    let pin = r.int_in(1, "pin_counter", 0, MAX_ATTEMPTS, &[], "0..255")?;
    let puk = r.int_in(2, "puk_counter", 0, MAX_ATTEMPTS, &[], "0..255")?;
    Ok(Value::Map(vec![
        ("facility", facility.into()),
        ("pin", pin.into()),
        ("puk", puk.into()),
    ]))
}

/// `+SPIC: <pin1>,<puk1>,<pin2>,<puk2>` (SIMCom) → `%{pin, puk, pin2, puk2}`,
/// the attempts left of each; PIN2/PUK2 nil when the modem leaves them out.
pub(super) fn spic(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("spic");
    r.at_most(4)?;
    let pin = r.int_in(0, "pin1", 0, MAX_ATTEMPTS, &[], "0..255")?;
    let puk = r.int_in(1, "puk1", 0, MAX_ATTEMPTS, &[], "0..255")?;
    let opt = |i: usize, name: &str| match r.present(i) {
        None => Ok(None),
        Some(_) => r.int_in(i, name, 0, MAX_ATTEMPTS, &[], "0..255").map(Some),
    };
    let pin2 = opt(2, "pin2")?;
    let puk2 = opt(3, "puk2")?;
    Ok(Value::Map(vec![
        ("pin", pin.into()),
        ("pin2", Value::opt(pin2)),
        ("puk", puk.into()),
        ("puk2", Value::opt(puk2)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::Value;

    fn int(v: &Value, key: &str) -> Option<i64> {
        match v.get(key) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// Real answers: 27.007's example form, a Quectel EC25 and BG96, a
    /// SIMCom SIM7600 and A7670, a u-blox SARA-R4 and a Telit LE910C1 (all
    /// answer `AT+CPINR`), with and without quotes.
    #[test]
    fn parses_real_cpinr_answers() {
        let rows: &[(&str, &str, i64, Option<i64>)] = &[
            ("+CPINR: SIM PIN,3,3", "sim_pin", 3, Some(3)),
            ("+CPINR: \"SIM PIN\",2,3", "sim_pin", 2, Some(3)),
            ("+CPINR: SIM PUK,10,10", "sim_puk", 10, Some(10)),
            ("+CPINR: \"SIM PIN2\",3,3", "sim_pin2", 3, Some(3)),
            ("+CPINR: \"SIM PUK2\",10,10\r\n", "sim_puk2", 10, Some(10)),
            ("+CPINR: SIM PIN,1", "sim_pin", 1, None),
            ("+CPINR: \"PH-NET PIN\",255,255", "other", 255, Some(255)),
            ("+cpinr: sim pin,0,3", "sim_pin", 0, Some(3)),
        ];
        for (line, code, retries, default) in rows {
            let (kind, v) = parse(line.as_bytes()).unwrap();
            assert_eq!(kind, "cpinr", "{line}");
            assert_eq!(v.get("code"), Some(&Value::Atom(code)), "{line}");
            assert_eq!(int(&v, "retries"), Some(*retries), "{line}");
            assert_eq!(int(&v, "default_retries"), *default, "{line}");
        }
    }

    #[test]
    fn parses_real_qpinc_answers() {
        // Quectel EC25/BG96 `AT+QPINC?` lines and an `AT+QPINC="SC"` answer.
        let rows: &[(&str, &str, i64, i64)] = &[
            ("+QPINC: \"SC\",3,10", "SC", 3, 10),
            ("+QPINC: \"P2\",3,10", "P2", 3, 10),
            ("+QPINC: \"SC\",1,10", "SC", 1, 10),
            ("+QPINC: \"SC\",0,9", "SC", 0, 9),
        ];
        for (line, facility, pin, puk) in rows {
            let (kind, v) = parse(line.as_bytes()).unwrap();
            assert_eq!(kind, "qpinc", "{line}");
            assert_eq!(v.get("facility"), Some(&Value::from(*facility)), "{line}");
            assert_eq!(int(&v, "pin"), Some(*pin), "{line}");
            assert_eq!(int(&v, "puk"), Some(*puk), "{line}");
        }
    }

    #[test]
    fn parses_real_spic_answers() {
        // SIMCom SIM7600 / SIM7000 / A7670 `AT+SPIC`.
        let rows: &[(&str, i64, i64, Option<i64>)] = &[
            ("+SPIC: 3,10,3,10", 3, 10, Some(3)),
            ("+SPIC: 1,10,0,10", 1, 10, Some(0)),
            ("+SPIC: 2,10", 2, 10, None),
        ];
        for (line, pin, puk, pin2) in rows {
            let (kind, v) = parse(line.as_bytes()).unwrap();
            assert_eq!(kind, "spic", "{line}");
            assert_eq!(int(&v, "pin"), Some(*pin), "{line}");
            assert_eq!(int(&v, "puk"), Some(*puk), "{line}");
            assert_eq!(int(&v, "pin2"), *pin2, "{line}");
        }
    }

    #[test]
    fn refuses_broken_counters_naming_the_field() {
        let rows: &[(&str, &str, &str)] = &[
            (
                "+CPINR: SIM PIN,x,3",
                "invalid_field",
                "<retries> (field 2)",
            ),
            ("+CPINR: SIM PIN", "missing_field", "<retries>"),
            ("+CPINR: ", "missing_field", "<code>"),
            ("+CPINR: SIM PIN,3,3,3", "extra_field", "4 fields"),
            ("+CPINR: SIM PIN,300,3", "invalid_field", "outside 0..255"),
            (
                "+QPINC: \"SC\",-1,10",
                "invalid_field",
                "<pin_counter> (field 2)",
            ),
            ("+QPINC: \"SC\",3", "missing_field", "<puk_counter>"),
            ("+SPIC: 3,ten,3,10", "invalid_field", "<puk1> (field 2)"),
            ("+SPIC: 3,10,3,10,1", "extra_field", "5 fields"),
        ];
        for (line, reason, detail) in rows {
            let e = parse(line.as_bytes()).unwrap_err();
            assert_eq!(e.reason, *reason, "{line}: {}", e.detail);
            assert!(e.detail.contains(detail), "{line}: {}", e.detail);
        }
    }
}
