//! Signal conversions: GSM ASU and LTE RSSI (bit-for-bit the numbers
//! vintage_net_mobile/vintage_net_qmi users already see), LTE RSRP/RSRQ/SINR
//! bars, and 27.007 `+CESQ` raw values.
//!
//! ```
//! use cellular_core::signal;
//!
//! let s = signal::from_gsm_asu(17);
//! assert_eq!((s.asu, s.dbm, s.bars), (17, -79, 3));
//!
//! let lte = signal::from_lte(Some(-98), Some(-12), Some(8));
//! assert_eq!(lte.bars, 2);
//! ```

use crate::Value;

/// A converted GSM-style signal reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub asu: i64,
    pub dbm: i64,
    pub bars: i64,
}

impl Signal {
    /// `%{asu, dbm, bars}`
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("asu", self.asu.into()),
            ("bars", self.bars.into()),
            ("dbm", self.dbm.into()),
        ])
    }
}

/// Converts a `+CSQ` `<rssi>` (a GSM ASU, 0..31 or 99 for unknown).
///
/// - The ASU is clamped first: below 0 → 0; above 30, except 99 → 30.
/// - dBm = 2·ASU − 113, and 99 → −113.
/// - Bars: 99 → 0, ≤ 9 → 1, ≤ 14 → 2, ≤ 19 → 3, else 4.
/// - The returned `asu` is the input as given, not the clamped value
///   (vintage_net_qmi and vintage_net_mobile do the same).
pub fn from_gsm_asu(asu: i64) -> Signal {
    let clamped = match asu {
        99 => 99,
        a if a < 0 => 0,
        a if a > 30 => 30,
        a => a,
    };
    let (dbm, bars) = match clamped {
        99 => (-113, 0),
        a => (
            2 * a - 113,
            match a {
                ..=9 => 1,
                10..=14 => 2,
                15..=19 => 3,
                _ => 4,
            },
        ),
    };
    Signal { asu, dbm, bars }
}

/// Converts an LTE RSSI in dBm (as vintage_net_qmi does).
///
/// - ASU: 99 if dBm ≤ −113, 31 if dBm ≥ −50, else (dBm + 113) / 2 rounded
///   toward zero.
/// - Bars: > −65 → 4, > −75 → 3, > −85 → 2, > −113 → 1, else 0.
/// - The returned `dbm` is the input as given.
pub fn from_lte_rssi(dbm: i64) -> Signal {
    let asu = if dbm <= -113 {
        99
    } else if dbm >= -50 {
        31
    } else {
        (dbm + 113) / 2
    };
    let bars = if dbm > -65 {
        4
    } else if dbm > -75 {
        3
    } else if dbm > -85 {
        2
    } else if dbm > -113 {
        1
    } else {
        0
    };
    Signal { asu, dbm, bars }
}

/// RSRP thresholds (dBm) for 1, 2, 3 and 4 bars: Android's defaults
/// (`CarrierConfigManager.KEY_LTE_RSRP_THRESHOLDS_INT_ARRAY`).
pub const RSRP_THRESHOLDS: [i64; 4] = [-115, -105, -95, -85];

/// RSRQ thresholds (dB) for 1..4 bars: Android's defaults
/// (`KEY_LTE_RSRQ_THRESHOLDS_INT_ARRAY`).
pub const RSRQ_THRESHOLDS: [i64; 4] = [-19, -17, -14, -12];

/// SINR (RSSNR) thresholds (dB) for 1..4 bars: Android's defaults
/// (`KEY_LTE_RSSNR_THRESHOLDS_INT_ARRAY`; its 4.5 dB step is 5 here, the
/// first whole dB at or above it).
pub const SINR_THRESHOLDS: [i64; 4] = [-3, 1, 5, 13];

/// Values outside these ranges are sentinels or garbage, and read as
/// unknown: RSRP −156..−31 dBm and RSRQ −34..3 dB (36.133's extended report
/// ranges), SINR −30..50 dB.
pub const RSRP_RANGE: (i64, i64) = (-156, -31);
pub const RSRQ_RANGE: (i64, i64) = (-34, 3);
pub const SINR_RANGE: (i64, i64) = (-30, 50);

/// An LTE signal reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LteSignal {
    /// RSRP in dBm, if known and in range.
    pub rsrp: Option<i64>,
    /// RSRQ in dB, if known and in range.
    pub rsrq: Option<i64>,
    /// SINR in dB, if known and in range.
    pub sinr: Option<i64>,
    /// Bars (0..4) from each measurement, nil when it is unknown.
    pub rsrp_bars: Option<i64>,
    pub rsrq_bars: Option<i64>,
    pub sinr_bars: Option<i64>,
    /// The overall bars (0..4): the RSRP bars when the RSRP is known (as
    /// Android does by default); otherwise the lower of the RSRQ and SINR
    /// bars that are known; 0 when nothing is known.
    pub bars: i64,
    /// The LTE ASU: RSRP + 140 clamped to 0..97, or 99 when unknown.
    pub asu: i64,
}

impl LteSignal {
    /// `%{rsrp, rsrq, sinr, rsrp_bars, rsrq_bars, sinr_bars, bars, asu, dbm}`
    /// where `dbm` is the RSRP (so the map also fits the `%{asu, dbm, bars}`
    /// shape of [`Signal`]).
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("asu", self.asu.into()),
            ("bars", self.bars.into()),
            ("dbm", Value::opt(self.rsrp)),
            ("rsrp", Value::opt(self.rsrp)),
            ("rsrp_bars", Value::opt(self.rsrp_bars)),
            ("rsrq", Value::opt(self.rsrq)),
            ("rsrq_bars", Value::opt(self.rsrq_bars)),
            ("sinr", Value::opt(self.sinr)),
            ("sinr_bars", Value::opt(self.sinr_bars)),
        ])
    }
}

fn in_range(v: Option<i64>, (lo, hi): (i64, i64)) -> Option<i64> {
    v.filter(|v| (lo..=hi).contains(v))
}

/// The number of thresholds the value reaches (0..4).
fn bars_for(v: i64, thresholds: &[i64; 4]) -> i64 {
    thresholds.iter().filter(|t| v >= **t).count() as i64
}

/// Converts LTE measurements (any may be unknown). See [`LteSignal`] and the
/// threshold constants for the rules.
pub fn from_lte(rsrp: Option<i64>, rsrq: Option<i64>, sinr: Option<i64>) -> LteSignal {
    let rsrp = in_range(rsrp, RSRP_RANGE);
    let rsrq = in_range(rsrq, RSRQ_RANGE);
    let sinr = in_range(sinr, SINR_RANGE);
    let rsrp_bars = rsrp.map(|v| bars_for(v, &RSRP_THRESHOLDS));
    let rsrq_bars = rsrq.map(|v| bars_for(v, &RSRQ_THRESHOLDS));
    let sinr_bars = sinr.map(|v| bars_for(v, &SINR_THRESHOLDS));
    let bars = rsrp_bars
        .or_else(|| match (rsrq_bars, sinr_bars) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
        .unwrap_or(0);
    let asu = rsrp.map_or(99, |v| (v + 140).clamp(0, 97));
    LteSignal {
        rsrp,
        rsrq,
        sinr,
        rsrp_bars,
        rsrq_bars,
        sinr_bars,
        bars,
        asu,
    }
}

/// A 27.007 `+CESQ` `<rsrp>` (0..97, 255 unknown) in dBm.
///
/// Value n (1..96) means n − 141 ≤ RSRP < n − 140, so the lower bound
/// n − 141 is returned; 0 ("below −140") gives −140 and 97 ("−44 or above")
/// gives −44. 255 and anything outside 0..97 give `None`.
pub fn cesq_rsrp_dbm(raw: i64) -> Option<i64> {
    match raw {
        0 => Some(-140),
        1..=97 => Some(raw - 141),
        _ => None,
    }
}

/// A 27.007 `+CESQ` `<rsrq>` (0..34, 255 unknown) in whole dB.
///
/// Value n (1..33) means −20 + n/2 ≤ RSRQ < −19.5 + n/2 in 0.5 dB steps;
/// the lower bound is rounded down to a whole dB (n = 20 → −10, n = 21 →
/// −10, n = 34 → −3). 0 ("below −19.5") gives −20. 255 and anything outside
/// 0..34 give `None`. The raw value keeps the half-dB step.
pub fn cesq_rsrq_db(raw: i64) -> Option<i64> {
    match raw {
        0 => Some(-20),
        // floor(-20 + n/2) for n >= 0
        1..=34 => Some(-20 + raw.div_euclid(2)),
        _ => None,
    }
}

/// Converts `+CESQ` raw `<rsrp>` and `<rsrq>` values into an [`LteSignal`]
/// (no SINR: CESQ has none).
pub fn from_cesq(rsrp_raw: i64, rsrq_raw: i64) -> LteSignal {
    from_lte(cesq_rsrp_dbm(rsrp_raw), cesq_rsrq_db(rsrq_raw), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vintage_net_qmi rules, written out literally as a second,
    /// independent implementation.
    fn reference_gsm(asu: i64) -> (i64, i64, i64) {
        let c = if asu < 0 {
            0
        } else if asu == 99 {
            99
        } else if asu > 30 {
            30
        } else {
            asu
        };
        let dbm = if c == 99 { -113 } else { c * 2 - 113 };
        let bars = if c == 99 {
            0
        } else if c <= 9 {
            1
        } else if c <= 14 {
            2
        } else if c <= 19 {
            3
        } else {
            4
        };
        (asu, dbm, bars)
    }

    #[test]
    fn gsm_asu_matches_the_reference_everywhere() {
        for asu in -1000..=1000 {
            let s = from_gsm_asu(asu);
            assert_eq!((s.asu, s.dbm, s.bars), reference_gsm(asu), "{asu}");
        }
        for asu in [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1] {
            let s = from_gsm_asu(asu);
            assert_eq!((s.asu, s.dbm, s.bars), reference_gsm(asu), "{asu}");
        }
    }

    #[test]
    fn gsm_asu_known_points() {
        assert_eq!(
            from_gsm_asu(99),
            Signal {
                asu: 99,
                dbm: -113,
                bars: 0
            }
        );
        assert_eq!(
            from_gsm_asu(0),
            Signal {
                asu: 0,
                dbm: -113,
                bars: 1
            }
        );
        assert_eq!(
            from_gsm_asu(9),
            Signal {
                asu: 9,
                dbm: -95,
                bars: 1
            }
        );
        assert_eq!(
            from_gsm_asu(10),
            Signal {
                asu: 10,
                dbm: -93,
                bars: 2
            }
        );
        assert_eq!(
            from_gsm_asu(19),
            Signal {
                asu: 19,
                dbm: -75,
                bars: 3
            }
        );
        assert_eq!(
            from_gsm_asu(20),
            Signal {
                asu: 20,
                dbm: -73,
                bars: 4
            }
        );
        assert_eq!(
            from_gsm_asu(31),
            Signal {
                asu: 31,
                dbm: -53,
                bars: 4
            }
        );
        assert_eq!(
            from_gsm_asu(-5),
            Signal {
                asu: -5,
                dbm: -113,
                bars: 1
            }
        );
    }

    #[test]
    fn lte_rssi_known_points() {
        assert_eq!(
            from_lte_rssi(-113),
            Signal {
                asu: 99,
                dbm: -113,
                bars: 0
            }
        );
        assert_eq!(
            from_lte_rssi(-112),
            Signal {
                asu: 0,
                dbm: -112,
                bars: 1
            }
        );
        assert_eq!(
            from_lte_rssi(-111),
            Signal {
                asu: 1,
                dbm: -111,
                bars: 1
            }
        );
        assert_eq!(
            from_lte_rssi(-85),
            Signal {
                asu: 14,
                dbm: -85,
                bars: 1
            }
        );
        assert_eq!(
            from_lte_rssi(-84),
            Signal {
                asu: 14,
                dbm: -84,
                bars: 2
            }
        );
        assert_eq!(
            from_lte_rssi(-65),
            Signal {
                asu: 24,
                dbm: -65,
                bars: 3
            }
        );
        assert_eq!(
            from_lte_rssi(-64),
            Signal {
                asu: 24,
                dbm: -64,
                bars: 4
            }
        );
        assert_eq!(
            from_lte_rssi(-51),
            Signal {
                asu: 31,
                dbm: -51,
                bars: 4
            }
        );
        assert_eq!(
            from_lte_rssi(-50),
            Signal {
                asu: 31,
                dbm: -50,
                bars: 4
            }
        );
        assert_eq!(
            from_lte_rssi(0),
            Signal {
                asu: 31,
                dbm: 0,
                bars: 4
            }
        );
        for dbm in [i64::MIN, i64::MAX] {
            let s = from_lte_rssi(dbm);
            assert_eq!(s.dbm, dbm);
        }
    }

    #[test]
    fn lte_bars_follow_the_android_thresholds() {
        let bars = |rsrp| from_lte(Some(rsrp), None, None).bars;
        assert_eq!(bars(-140), 0);
        assert_eq!(bars(-116), 0);
        assert_eq!(bars(-115), 1);
        assert_eq!(bars(-106), 1);
        assert_eq!(bars(-105), 2);
        assert_eq!(bars(-95), 3);
        assert_eq!(bars(-86), 3);
        assert_eq!(bars(-85), 4);
        assert_eq!(bars(-44), 4);
        let q = |rsrq| from_lte(None, Some(rsrq), None).rsrq_bars;
        assert_eq!(q(-20), Some(0));
        assert_eq!(q(-19), Some(1));
        assert_eq!(q(-17), Some(2));
        assert_eq!(q(-14), Some(3));
        assert_eq!(q(-12), Some(4));
        let s = |sinr| from_lte(None, None, Some(sinr)).sinr_bars;
        assert_eq!(s(-4), Some(0));
        assert_eq!(s(-3), Some(1));
        assert_eq!(s(1), Some(2));
        assert_eq!(s(4), Some(2));
        assert_eq!(s(5), Some(3));
        assert_eq!(s(13), Some(4));
    }

    #[test]
    fn lte_overall_bars_and_asu() {
        // RSRP decides when known.
        let l = from_lte(Some(-98), Some(-20), Some(-10));
        assert_eq!(
            (l.bars, l.rsrp_bars, l.rsrq_bars, l.sinr_bars),
            (2, Some(2), Some(0), Some(0))
        );
        assert_eq!(l.asu, 42);
        // Otherwise the weaker of RSRQ and SINR.
        let l = from_lte(None, Some(-11), Some(2));
        assert_eq!((l.bars, l.asu), (2, 99));
        assert_eq!(from_lte(None, Some(-11), None).bars, 4);
        assert_eq!(from_lte(None, None, Some(20)).bars, 4);
        assert_eq!(from_lte(None, None, None).bars, 0);
        // Out-of-range values are unknown.
        let l = from_lte(Some(0), Some(-255), Some(255));
        assert_eq!(
            (l.rsrp, l.rsrq, l.sinr, l.bars, l.asu),
            (None, None, None, 0, 99)
        );
        assert_eq!(from_lte(Some(-156), None, None).asu, 0);
        assert_eq!(from_lte(Some(-31), None, None).asu, 97);
        assert_eq!(from_lte(Some(-157), None, None).rsrp, None);
    }

    #[test]
    fn values_have_sorted_keys() {
        assert!(from_gsm_asu(17).to_value().is_sorted());
        assert!(from_lte(Some(-90), Some(-10), Some(3))
            .to_value()
            .is_sorted());
    }

    #[test]
    fn lte_to_value_carries_dbm() {
        let v = from_lte(Some(-90), None, None).to_value();
        assert_eq!(v.get("dbm"), Some(&Value::Int(-90)));
        assert_eq!(v.get("rsrq"), Some(&Value::Nil));
        assert_eq!(v.get("bars"), Some(&Value::Int(3)));
    }

    #[test]
    fn cesq_conversions() {
        // ModemManager's table: rsrp 80 → -61 dBm, rsrq 20 → -10 dB.
        assert_eq!(cesq_rsrp_dbm(80), Some(-61));
        assert_eq!(cesq_rsrq_db(20), Some(-10));
        assert_eq!(cesq_rsrp_dbm(0), Some(-140));
        assert_eq!(cesq_rsrp_dbm(1), Some(-140));
        assert_eq!(cesq_rsrp_dbm(97), Some(-44));
        assert_eq!(cesq_rsrp_dbm(98), None);
        assert_eq!(cesq_rsrp_dbm(255), None);
        assert_eq!(cesq_rsrp_dbm(-1), None);
        assert_eq!(cesq_rsrq_db(0), Some(-20));
        assert_eq!(cesq_rsrq_db(1), Some(-20)); // -19.5 rounded down
        assert_eq!(cesq_rsrq_db(21), Some(-10)); // -9.5 rounded down
        assert_eq!(cesq_rsrq_db(33), Some(-4)); // -3.5
        assert_eq!(cesq_rsrq_db(34), Some(-3));
        assert_eq!(cesq_rsrq_db(35), None);
        assert_eq!(cesq_rsrq_db(255), None);
        for raw in 1..=34i64 {
            let exact = -20.0 + raw as f64 / 2.0;
            let got = cesq_rsrq_db(raw).unwrap() as f64;
            assert!(got <= exact && exact - got < 1.0, "{raw}");
        }
        let l = from_cesq(80, 20);
        assert_eq!(
            (l.rsrp, l.rsrq, l.sinr, l.bars),
            (Some(-61), Some(-10), None, 4)
        );
        let l = from_cesq(255, 255);
        assert_eq!((l.rsrp, l.rsrq, l.bars, l.asu), (None, None, 0, 99));
        let l = from_cesq(30, 255); // -111 dBm
        assert_eq!((l.rsrp, l.bars), (Some(-111), 1));
    }
}
