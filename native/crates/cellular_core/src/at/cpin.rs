//! `+CPIN: <code>` (3GPP TS 27.007 §8.3).

use super::fields::{shorten, Line};
use super::ParseError;
use crate::Value;

/// Every code this parser knows, with its atom: the code text lowercased,
/// spaces and dashes turned into underscores. The 27.007 codes come first,
/// then the SIM-absent texts modems send instead of a `+CME ERROR: 10`.
pub const CODES: &[(&str, &str)] = &[
    ("READY", "ready"),
    ("SIM PIN", "sim_pin"),
    ("SIM PUK", "sim_puk"),
    ("PH-SIM PIN", "ph_sim_pin"),
    ("PH-FSIM PIN", "ph_fsim_pin"),
    ("PH-FSIM PUK", "ph_fsim_puk"),
    ("SIM PIN2", "sim_pin2"),
    ("SIM PUK2", "sim_puk2"),
    ("PH-NET PIN", "ph_net_pin"),
    ("PH-NET PUK", "ph_net_puk"),
    ("PH-NETSUB PIN", "ph_netsub_pin"),
    ("PH-NETSUB PUK", "ph_netsub_puk"),
    ("PH-SP PIN", "ph_sp_pin"),
    ("PH-SP PUK", "ph_sp_puk"),
    ("PH-CORP PIN", "ph_corp_pin"),
    ("PH-CORP PUK", "ph_corp_puk"),
    // Not 27.007 codes, but real answers and URCs:
    ("NOT INSERTED", "not_inserted"),         // Quectel, SIMCom
    ("NOT READY", "not_ready"),               // Quectel URC after SIM removal
    ("SIM REMOVED", "sim_removed"),           // SIMCom URC
    ("SIM NOT INSERTED", "sim_not_inserted"), // Telit, u-blox
];

/// `+CPIN: <code>` → `%{state: atom}` from [`CODES`] (any letter case,
/// quoted or not, runs of spaces allowed). Unknown text is an error: no atom
/// is ever made from modem input.
pub(super) fn parse(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cpin");
    let text = match &line.fields[..] {
        [] => return Err(r.missing("code")),
        [f] => f.text,
        _ => line.rest,
    };
    if text.is_empty() {
        return Err(r.missing("code"));
    }
    let state = CODES
        .iter()
        .find(|(code, _)| same_code(code, text))
        .map(|(_, atom)| *atom)
        .ok_or_else(|| {
            ParseError::new(
                "invalid_field",
                format!("cpin: <code> {} is not a known +CPIN code", shorten(text)),
            )
        })?;
    Ok(Value::Map(vec![("state", Value::Atom(state))]))
}

/// Compares ignoring letter case and treating runs of spaces as one space.
pub(super) fn same_code(code: &str, text: &str) -> bool {
    let mut t = text.bytes().peekable();
    for c in code.bytes() {
        let Some(b) = t.next() else { return false };
        if !b.eq_ignore_ascii_case(&c) {
            return false;
        }
        if b == b' ' {
            while t.peek() == Some(&b' ') {
                t.next();
            }
        }
    }
    t.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::CODES;
    use crate::at::parse;
    use crate::Value;

    fn state(line: &str) -> Result<Value, String> {
        match parse(line.as_bytes()) {
            Ok(("cpin", v)) => Ok(v.get("state").cloned().unwrap_or(Value::Nil)),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn parses_real_cpin_answers() {
        let rows = [
            ("+CPIN: READY", "ready"),     // every modem
            ("+CPIN:READY", "ready"),      // Telit (no space)
            ("+CPIN: SIM PIN", "sim_pin"), // EC25 with a locked SIM
            ("+CPIN: SIM PUK", "sim_puk"), // after three wrong PINs
            ("+CPIN: SIM PIN2", "sim_pin2"),
            ("+CPIN: PH-NET PIN", "ph_net_pin"), // network-locked device
            ("+CPIN: PH-SIM PIN", "ph_sim_pin"),
            ("+CPIN: NOT INSERTED", "not_inserted"),
            ("+CPIN: NOT READY", "not_ready"), // Quectel URC on SIM removal
            ("+CPIN: SIM REMOVED", "sim_removed"), // SIMCom URC
            ("+CPIN: \"READY\"", "ready"),     // quoted
            ("+CPIN: \"SIM PIN\"", "sim_pin"),
            ("+cpin: ready\r\n", "ready"),      // lower case
            ("+CPIN:  SIM  PUK2 ", "sim_puk2"), // odd spacing
        ];
        for (line, atom) in rows {
            assert_eq!(state(line), Ok(Value::Atom(atom)), "{line:?}");
        }
    }

    #[test]
    fn every_code_round_trips_to_its_documented_atom() {
        for (code, atom) in CODES {
            assert_eq!(state(&format!("+CPIN: {code}")), Ok(Value::Atom(atom)));
            let derived = code.to_ascii_lowercase().replace([' ', '-'], "_");
            assert_eq!(derived, *atom, "atom rule for {code}");
        }
    }

    #[test]
    fn refuses_unknown_codes_without_making_atoms() {
        for (line, reason) in [
            ("+CPIN: FOO", "invalid_field"),
            ("+CPIN: SIM PINX", "invalid_field"),
            ("+CPIN: SIM", "invalid_field"),
            ("+CPIN: ", "missing_field"),
            ("+CPIN: \"\"", "missing_field"),
        ] {
            let err = parse(line.as_bytes()).unwrap_err();
            assert_eq!(err.reason, reason, "{line:?}");
        }
        let err = parse(b"+CPIN: BOGUS").unwrap_err();
        assert!(err.detail.contains("\"BOGUS\""), "{}", err.detail);
    }
}
