//! Fixed tables and small conversions used by the interpreter: 3GPP CME
//! error texts, signal figures derived from CSQ, identity check digits.

/// CME error numbers used by the simulator (3GPP TS 27.007 §9.2).
pub mod cme {
    pub const PHONE_FAILURE: u16 = 0;
    pub const NOT_ALLOWED: u16 = 3;
    pub const NOT_SUPPORTED: u16 = 4;
    pub const SIM_NOT_INSERTED: u16 = 10;
    pub const SIM_PIN_REQUIRED: u16 = 11;
    pub const SIM_PUK_REQUIRED: u16 = 12;
    pub const SIM_FAILURE: u16 = 13;
    pub const SIM_BUSY: u16 = 14;
    pub const INCORRECT_PASSWORD: u16 = 16;
    pub const NO_NETWORK: u16 = 30;
    pub const NETWORK_TIMEOUT: u16 = 31;
    pub const INCORRECT_PARAMETERS: u16 = 50;
    pub const UNKNOWN: u16 = 100;
    pub const GPRS_UNSPECIFIED: u16 = 148;
}

/// The verbose text of a CME error number (`AT+CMEE=2`).
pub fn cme_text(code: u16) -> &'static str {
    match code {
        0 => "phone failure",
        1 => "no connection to phone",
        3 => "operation not allowed",
        4 => "operation not supported",
        10 => "SIM not inserted",
        11 => "SIM PIN required",
        12 => "SIM PUK required",
        13 => "SIM failure",
        14 => "SIM busy",
        15 => "SIM wrong",
        16 => "incorrect password",
        17 => "SIM PIN2 required",
        18 => "SIM PUK2 required",
        20 => "memory full",
        21 => "invalid index",
        22 => "not found",
        30 => "no network service",
        31 => "network timeout",
        32 => "network not allowed - emergency calls only",
        50 => "incorrect parameters",
        148 => "unspecified GPRS error",
        149 => "PDP authentication failure",
        _ => "unknown",
    }
}

/// Radio figures derived from one CSQ `<rssi>` so that every command reports
/// the same conditions. `None` when the signal is unknown (99).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Radio {
    /// RSSI in dBm (-113..-51).
    pub rssi_dbm: i32,
    /// RSRP in dBm.
    pub rsrp_dbm: i32,
    /// RSRQ in dB.
    pub rsrq_db: i32,
    /// SINR in dB.
    pub sinr_db: i32,
}

impl Radio {
    pub fn from_csq(rssi: u8) -> Option<Radio> {
        if rssi > 31 {
            return None;
        }
        let r = i32::from(rssi);
        let rssi_dbm = -113 + 2 * r;
        Some(Radio {
            rssi_dbm,
            rsrp_dbm: (rssi_dbm - 25).clamp(-140, -44),
            rsrq_db: (-20 + r / 2).clamp(-19, -3),
            sinr_db: (r - 8).clamp(-20, 30),
        })
    }

    /// `+CESQ` `<rsrq>` index (0..34).
    pub fn cesq_rsrq(&self) -> i32 {
        ((self.rsrq_db + 20) * 2).clamp(0, 34)
    }

    /// `+CESQ` `<rsrp>` index (0..97).
    pub fn cesq_rsrp(&self) -> i32 {
        (self.rsrp_dbm + 141).clamp(0, 97)
    }

    /// Quectel's SINR scale in `+QCSQ` (0..250, SINR = value/5 - 20).
    pub fn qcsq_sinr(&self) -> i32 {
        ((self.sinr_db + 20) * 5).clamp(0, 250)
    }
}

/// The Luhn check digit of a digit string (IMEI, ICCID).
pub fn luhn_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0') % 10);
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// The E.118 country prefix used in ICCIDs for an MCC (a few common ones;
/// "99" otherwise).
pub fn iccid_country(mcc: &str) -> &'static str {
    match mcc {
        "302" | "310" | "311" | "312" | "313" | "314" | "315" | "316" => "01",
        "234" | "235" => "44",
        "262" => "49",
        "208" => "33",
        "204" => "31",
        "214" => "34",
        "222" => "39",
        "240" => "46",
        "244" => "358",
        "460" => "86",
        "440" => "81",
        "505" => "61",
        _ => "99",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_known_numbers() {
        // The example IMEI of 3GPP TS 23.003 annex B: 49015420323751 -> 8.
        assert_eq!(luhn_digit("49015420323751"), '8');
        // A well-known test card number.
        assert_eq!(luhn_digit("7992739871"), '3');
    }

    #[test]
    fn radio_figures_are_monotonic_and_bounded() {
        assert_eq!(Radio::from_csq(99), None);
        assert_eq!(Radio::from_csq(32), None);
        let mut last = Radio::from_csq(0).unwrap();
        assert_eq!(last.rssi_dbm, -113);
        for csq in 1..=31 {
            let r = Radio::from_csq(csq).unwrap();
            assert!(r.rssi_dbm > last.rssi_dbm);
            assert!(r.rsrp_dbm >= last.rsrp_dbm);
            assert!((0..=97).contains(&r.cesq_rsrp()));
            assert!((0..=34).contains(&r.cesq_rsrq()));
            assert!((0..=250).contains(&r.qcsq_sinr()));
            last = r;
        }
        assert_eq!(last.rssi_dbm, -51);
    }

    #[test]
    fn cme_texts() {
        assert_eq!(cme_text(cme::SIM_NOT_INSERTED), "SIM not inserted");
        assert_eq!(cme_text(cme::INCORRECT_PASSWORD), "incorrect password");
        assert_eq!(cme_text(9999), "unknown");
    }
}
