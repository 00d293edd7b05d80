//! PLACEHOLDER: signal conversion. To be replaced by the signal work.
use crate::Value;

/// A converted signal reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub asu: i64,
    pub dbm: i64,
    pub bars: i64,
}

impl Signal {
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("asu", self.asu.into()),
            ("dbm", self.dbm.into()),
            ("bars", self.bars.into()),
        ])
    }
}

pub fn from_gsm_asu(asu: i64) -> Signal {
    Signal { asu, dbm: 0, bars: 0 }
}

pub fn from_lte_rssi(dbm: i64) -> Signal {
    Signal { asu: 0, dbm, bars: 0 }
}
