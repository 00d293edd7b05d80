//! PLACEHOLDER: USB tty discovery from sysfs. To be replaced by the discovery work.
use crate::Value;
use std::path::Path;

/// A profile's override of one interface's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOverride {
    pub vendor_id: u16,
    pub product_id: u16,
    pub interface: u8,
    pub role: String,
}

/// Scans `root` (normally `/sys`) for USB devices with serial or net interfaces.
pub fn scan(_root: &Path, _overrides: &[RoleOverride]) -> Vec<Value> {
    Vec::new()
}
