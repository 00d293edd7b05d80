//! The generated port-role table and its lookups.
//!
//! `generated/port_roles.rs` is written by `scripts/gen_tables.py` from
//! `data/usb_modem_ports.json` (facts restated from ModemManager's
//! udev port-type rules) and the interface-class notes in
//! `data/README.md`. All arrays are sorted for binary search.

use super::Role;

#[path = "../generated/port_roles.rs"]
mod data;

/// The role of one interface of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRole {
    pub vendor_id: u16,
    pub product_id: u16,
    pub interface: u8,
    pub role: Role,
}

impl PortRole {
    pub const fn new(vendor_id: u16, product_id: u16, interface: u8, role: Role) -> Self {
        PortRole {
            vendor_id,
            product_id,
            interface,
            role,
        }
    }
}

/// A device the table lists: ModemManager's plugin name and the model names
/// from its rules (may be empty), kept as indices into the generated names
/// (see [`TableDevice::plugin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDevice {
    pub vendor_id: u16,
    pub product_id: u16,
    plugin_at: u16,
    model_at: u16,
}

impl TableDevice {
    /// A device whose plugin and model are names `plugin_at` and `model_at`
    /// of the generated name table.
    pub const fn new(vendor_id: u16, product_id: u16, plugin_at: u16, model_at: u16) -> Self {
        TableDevice {
            vendor_id,
            product_id,
            plugin_at,
            model_at,
        }
    }

    /// ModemManager's plugin name, e.g. `"quectel"` (may be empty).
    pub fn plugin(&self) -> &'static str {
        name(self.plugin_at)
    }

    /// The model names from the rules, joined by `" / "` (may be empty).
    pub fn model(&self) -> &'static str {
        name(self.model_at)
    }
}

/// Name `i` of the generated table: `DEVICE_TEXT[DEVICE_STARTS[i]..DEVICE_STARTS[i + 1]]`;
/// an index outside it (impossible for the generated table) reads as empty.
fn name(i: u16) -> &'static str {
    let i = usize::from(i);
    match (data::DEVICE_STARTS.get(i), data::DEVICE_STARTS.get(i + 1)) {
        (Some(&start), Some(&end)) => data::DEVICE_TEXT
            .get(usize::from(start)..usize::from(end))
            .unwrap_or(""),
        _ => "",
    }
}

/// The role a class rule gives before discovery picks the primary AT port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionalRole {
    /// An AT port; the lowest-numbered one becomes `at_primary` unless the
    /// device already has one, the others `at_secondary`.
    At,
    /// The port to dial PPP on.
    Ppp,
}

/// An interface-class fallback rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassRule {
    /// Only for this vendor, or any vendor.
    pub vendor_id: Option<u16>,
    pub class: u8,
    /// Inclusive subclass range.
    pub subclass_min: u8,
    pub subclass_max: u8,
    /// This protocol, or any.
    pub protocol: Option<u8>,
    pub role: ProvisionalRole,
}

impl ClassRule {
    pub const fn new(
        vendor_id: Option<u16>,
        class: u8,
        subclass_min: u8,
        subclass_max: u8,
        protocol: Option<u8>,
        role: ProvisionalRole,
    ) -> Self {
        ClassRule {
            vendor_id,
            class,
            subclass_min,
            subclass_max,
            protocol,
            role,
        }
    }

    fn matches(&self, vendor_id: u16, class: u8, subclass: u8, protocol: u8) -> bool {
        self.vendor_id.is_none_or(|v| v == vendor_id)
            && self.class == class
            && (self.subclass_min..=self.subclass_max).contains(&subclass)
            && self.protocol.is_none_or(|p| p == protocol)
    }
}

/// All interface rows, sorted by `(vendor_id, product_id, interface)`.
pub fn port_roles() -> &'static [PortRole] {
    data::PORT_ROLES
}

/// All devices of the table, sorted by `(vendor_id, product_id)`.
pub fn devices() -> &'static [TableDevice] {
    data::DEVICES
}

/// The vendor ids the table lists (devices or vendor-specific class rules),
/// sorted and without duplicates: the vendors whose unknown ports are worth
/// probing with `AT`.
pub fn vendors() -> Vec<u16> {
    let mut vendors: Vec<u16> = data::DEVICES
        .iter()
        .map(|d| d.vendor_id)
        .chain(data::CLASS_RULES.iter().filter_map(|r| r.vendor_id))
        .collect();
    vendors.sort_unstable();
    vendors.dedup();
    vendors
}

/// The table's rows for one device (empty when it isn't listed).
pub fn roles_for(vendor_id: u16, product_id: u16) -> &'static [PortRole] {
    let rows = data::PORT_ROLES;
    let key = (vendor_id, product_id);
    let start = rows.partition_point(|r| (r.vendor_id, r.product_id) < key);
    let len = rows[start..].partition_point(|r| (r.vendor_id, r.product_id) == key);
    &rows[start..start + len]
}

/// The table's role for one interface.
pub fn role(vendor_id: u16, product_id: u16, interface: u8) -> Option<Role> {
    let rows = roles_for(vendor_id, product_id);
    rows.binary_search_by_key(&interface, |r| r.interface)
        .ok()
        .map(|i| rows[i].role)
}

/// The table's entry for a device, if it lists it.
pub fn device(vendor_id: u16, product_id: u16) -> Option<&'static TableDevice> {
    let rows = data::DEVICES;
    rows.binary_search_by_key(&(vendor_id, product_id), |d| (d.vendor_id, d.product_id))
        .ok()
        .map(|i| &rows[i])
}

/// The first class rule that matches an interface.
pub fn class_role(
    vendor_id: u16,
    class: u8,
    subclass: u8,
    protocol: u8,
) -> Option<ProvisionalRole> {
    data::CLASS_RULES
        .iter()
        .find(|rule| rule.matches(vendor_id, class, subclass, protocol))
        .map(|rule| rule.role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_come_from_the_name_table() {
        // Every listed device has a plugin; names read back whole.
        assert!(
            devices().iter().all(|d| !d.plugin().is_empty()),
            "a device without plugin"
        );
        assert_eq!(name(u16::MAX), "");
        let last = u16::try_from(data::DEVICE_STARTS.len() - 1).unwrap();
        assert_eq!(name(last), "");
        let quectel = device(0x2c7c, 0x0125).unwrap();
        assert_eq!(
            (quectel.vendor_id, quectel.product_id, quectel.plugin()),
            (0x2c7c, 0x0125, "quectel")
        );
    }

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(port_roles()
            .windows(2)
            .all(|w| (w[0].vendor_id, w[0].product_id, w[0].interface)
                < (w[1].vendor_id, w[1].product_id, w[1].interface)));
        assert!(devices()
            .windows(2)
            .all(|w| (w[0].vendor_id, w[0].product_id) < (w[1].vendor_id, w[1].product_id)));
        // 258 from ModemManager's rules, 4 from the project's supplement.
        assert_eq!(devices().len(), 262);
    }

    #[test]
    fn sierra_qcserial_layout() {
        // EM74xx/MC74xx/EM7565 (bound by qcserial): 00 DM, 02 NMEA, 03 the AT port.
        for pid in [0x9071, 0x9079, 0x9091] {
            assert_eq!(role(0x1199, pid, 0), Some(Role::Qcdm));
            assert_eq!(role(0x1199, pid, 2), Some(Role::Gps));
            assert_eq!(role(0x1199, pid, 3), Some(Role::AtPrimary));
            assert_eq!(device(0x1199, pid).map(|d| d.plugin()), Some("sierra"));
        }
    }

    #[test]
    fn supplement_devices() {
        // data/usb_modem_ports_supplement.json: BG95/BG77 and EM05-G share the
        // Quectel layout; SARA-R410M and the LARA-R6 (90fa) have QMI on 03.
        for pid in [0x0700, 0x030e] {
            assert_eq!(role(0x2c7c, pid, 0), Some(Role::Qcdm));
            assert_eq!(role(0x2c7c, pid, 2), Some(Role::AtPrimary));
            assert_eq!(role(0x2c7c, pid, 3), Some(Role::AtSecondary));
        }
        assert_eq!(role(0x2c7c, 0x030e, 4), Some(Role::Qmi));
        assert_eq!(role(0x05c6, 0x90b2, 2), Some(Role::AtPrimary));
        assert_eq!(role(0x05c6, 0x90b2, 3), Some(Role::Qmi));
        assert_eq!(role(0x05c6, 0x90fa, 1), Some(Role::AtPrimary));
        assert_eq!(
            device(0x2c7c, 0x0700).map(|d| d.model()),
            Some("Quectel BG95/BG77/BG600L")
        );
    }

    #[test]
    fn quectel_layout() {
        // README: 00 QCDM, 01 GPS, 02 primary AT, 03 secondary AT.
        for pid in [0x0125, 0x0195, 0x0296, 0x0121] {
            assert_eq!(role(0x2c7c, pid, 0), Some(Role::Qcdm));
            assert_eq!(role(0x2c7c, pid, 1), Some(Role::Gps));
            assert_eq!(role(0x2c7c, pid, 2), Some(Role::AtPrimary));
            assert_eq!(role(0x2c7c, pid, 3), Some(Role::AtSecondary));
            assert_eq!(role(0x2c7c, pid, 4), None);
        }
        assert_eq!(device(0x2c7c, 0x0125).map(|d| d.plugin()), Some("quectel"));
    }

    #[test]
    fn simcom_layouts() {
        assert_eq!(role(0x1e0e, 0x9001, 4), Some(Role::Audio));
        assert_eq!(role(0x1e0e, 0x9205, 3), Some(Role::Ppp));
        assert_eq!(role(0x1e0e, 0x9206, 3), Some(Role::Ignore));
        assert_eq!(role(0x1e0e, 0x9206, 5), Some(Role::Ppp));
        assert_eq!(role(0x1e0e, 0x9011, 4), Some(Role::AtPrimary));
        assert_eq!(role(0x1e0e, 0x9011, 5), Some(Role::Ppp));
    }

    #[test]
    fn unknown_devices() {
        assert!(roles_for(0x0403, 0x6001).is_empty());
        assert_eq!(role(0x0403, 0x6001, 0), None);
        assert_eq!(device(0x0403, 0x6001), None);
        assert_eq!(device(0xffff, 0xffff), None);
        assert_eq!(device(0, 0), None);
    }

    #[test]
    fn vendors_are_sorted_unique_and_complete() {
        let v = vendors();
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert!(devices()
            .iter()
            .all(|d| v.binary_search(&d.vendor_id).is_ok()));
        // Quectel (a device row) and Huawei (class rules only).
        assert!(v.binary_search(&0x2c7c).is_ok());
        assert!(v.binary_search(&0x12d1).is_ok());
        // FTDI and Arduino are not modem vendors.
        assert!(v.binary_search(&0x0403).is_err());
        assert!(v.binary_search(&0x2341).is_err());
    }

    #[test]
    fn class_rules() {
        assert_eq!(
            class_role(0x1546, 0x02, 0x02, 0x01),
            Some(ProvisionalRole::At)
        );
        assert_eq!(
            class_role(0x2341, 0x02, 0x02, 0x00),
            Some(ProvisionalRole::At)
        );
        assert_eq!(class_role(0x1546, 0x02, 0x06, 0x00), None); // CDC-ECM
        assert_eq!(
            class_role(0x12d1, 0xff, 0x02, 0x02),
            Some(ProvisionalRole::At)
        );
        assert_eq!(
            class_role(0x12d1, 0xff, 0x01, 0x02),
            Some(ProvisionalRole::At)
        );
        assert_eq!(
            class_role(0x12d1, 0xff, 0x02, 0x01),
            Some(ProvisionalRole::Ppp)
        );
        assert_eq!(
            class_role(0x12d1, 0xff, 0x06, 0x01),
            Some(ProvisionalRole::Ppp)
        );
        assert_eq!(class_role(0x12d1, 0xff, 0x02, 0x16), None);
        // The Huawei scheme is Huawei's only.
        assert_eq!(class_role(0x2c7c, 0xff, 0x02, 0x01), None);
        assert_eq!(class_role(0x2c7c, 0xff, 0xff, 0xff), None);
    }
}
