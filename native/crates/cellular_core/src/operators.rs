//! PLACEHOLDER: MCC/MNC operator table. To be replaced by the discovery/tables work.

/// One row of the operator table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub mcc: &'static str,
    pub mnc: &'static str,
    pub brand: &'static str,
    pub operator: &'static str,
    pub country: &'static str,
    pub iso: &'static str,
}

/// Looks up an operator by MCC and MNC (strings, leading zeros significant).
pub fn lookup(_mcc: &str, _mnc: &str) -> Option<&'static Operator> {
    None
}
