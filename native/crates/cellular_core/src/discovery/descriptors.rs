//! The raw USB descriptors a device's sysfs `descriptors` file holds: the
//! 18-byte device descriptor, then every configuration's descriptors as the
//! device sent them (configuration, interface, endpoint and class-specific
//! descriptors, each starting with `bLength`, `bDescriptorType`).
//!
//! One read of this file gives the classes of all of a device's interfaces,
//! instead of one `modalias` (or four `bInterface*` files) per interface.
//! Multi-byte fields are little-endian, as on the bus (some old kernels wrote
//! the device descriptor in CPU order, which is the same on every
//! little-endian target).

/// An interface descriptor (alternate setting 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceDescriptor {
    /// `bConfigurationValue` of the configuration it belongs to.
    pub config: u8,
    pub number: u8,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
}

/// What discovery needs from a device's descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptors {
    pub vendor_id: u16,
    pub product_id: u16,
    pub device_class: u8,
    pub interfaces: Vec<InterfaceDescriptor>,
}

impl Descriptors {
    /// The interface `number` of configuration `config`.
    pub fn interface(&self, config: u8, number: u8) -> Option<&InterfaceDescriptor> {
        self.interfaces
            .iter()
            .find(|i| i.config == config && i.number == number)
    }
}

const DEVICE: u8 = 1;
const CONFIGURATION: u8 = 2;
const INTERFACE: u8 = 4;

/// Parses a `descriptors` file. `None` unless it starts with a device
/// descriptor; a truncated or malformed tail ends the walk (what was parsed
/// before it is kept).
pub fn parse(bytes: &[u8]) -> Option<Descriptors> {
    let device = bytes.get(..18)?;
    if device[0] != 18 || device[1] != DEVICE {
        return None;
    }
    let mut out = Descriptors {
        vendor_id: u16::from_le_bytes([device[8], device[9]]),
        product_id: u16::from_le_bytes([device[10], device[11]]),
        device_class: device[4],
        interfaces: Vec::new(),
    };

    let mut rest = bytes.get(18..)?;
    let mut config = 0u8;
    while rest.len() >= 2 {
        let len = usize::from(rest[0]);
        if len < 2 || len > rest.len() {
            break;
        }
        let (desc, tail) = rest.split_at(len);
        match desc[1] {
            CONFIGURATION if len >= 9 => config = desc[5],
            INTERFACE if len >= 9 && desc[3] == 0 => out.interfaces.push(InterfaceDescriptor {
                config,
                number: desc[2],
                class: desc[5],
                subclass: desc[6],
                protocol: desc[7],
            }),
            _ => {}
        }
        rest = tail;
    }
    Some(out)
}

/// Builds a `descriptors` file (for tests and fixtures): a device descriptor
/// and one configuration (value 1) with the given interfaces
/// `(number, class, subclass, protocol)`, each with two bulk endpoints.
pub fn build(
    vendor_id: u16,
    product_id: u16,
    device_class: u8,
    interfaces: &[(u8, u8, u8, u8)],
) -> Vec<u8> {
    let [vl, vh] = vendor_id.to_le_bytes();
    let [pl, ph] = product_id.to_le_bytes();
    let mut out = vec![
        18,
        DEVICE,
        0x00,
        0x02,
        device_class,
        0,
        0,
        64,
        vl,
        vh,
        pl,
        ph,
        0x18,
        0x03,
        1,
        2,
        3,
        1,
    ];
    let mut config = Vec::new();
    for &(number, class, subclass, protocol) in interfaces {
        // Endpoint numbers are 4 bits (1..=15); interface numbers go to 255.
        let endpoint = 1 + number % 15;
        config.extend_from_slice(&[9, INTERFACE, number, 0, 2, class, subclass, protocol, 0]);
        config.extend_from_slice(&[7, 5, 0x80 | endpoint, 2, 0x00, 0x02, 0]);
        config.extend_from_slice(&[7, 5, endpoint, 2, 0x00, 0x02, 0]);
    }
    let total = u16::try_from(9 + config.len()).unwrap_or(u16::MAX);
    let [tl, th] = total.to_le_bytes();
    let count = u8::try_from(interfaces.len()).unwrap_or(u8::MAX);
    out.extend_from_slice(&[9, CONFIGURATION, tl, th, count, 1, 0, 0xa0, 250]);
    out.extend_from_slice(&config);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `discovery` fuzz target: interface numbers from 0x7f
    /// on overflowed the endpoint address (a panic in debug builds).
    #[test]
    fn builds_every_interface_number_with_valid_endpoints() {
        let numbers: Vec<(u8, u8, u8, u8)> = (0..=u8::MAX).map(|n| (n, 0xff, 0, 0)).collect();
        let bytes = build(1, 2, 0, &numbers);
        let parsed = parse(&bytes).unwrap();
        let back: Vec<u8> = parsed.interfaces.iter().map(|i| i.number).collect();
        assert_eq!(back, (0..=u8::MAX).collect::<Vec<u8>>());
        // Every endpoint descriptor (bLength 7, type 5) has address 1..=15,
        // IN (0x80) or OUT.
        let mut rest = &bytes[18..];
        let mut endpoints = 0;
        while let [len, kind, ..] = *rest {
            if kind == 5 {
                let number = rest[2] & 0x7f;
                assert!((1..=15).contains(&number), "{:#04x}", rest[2]);
                endpoints += 1;
            }
            rest = &rest[usize::from(len)..];
        }
        assert_eq!(endpoints, 2 * 256);
    }

    #[test]
    fn round_trip() {
        let bytes = build(
            0x2c7c,
            0x0125,
            0,
            &[
                (0, 0xff, 0xff, 0xff),
                (2, 0xff, 0, 0),
                (4, 0xff, 0xff, 0xff),
            ],
        );
        let d = parse(&bytes).expect("parse");
        assert_eq!(
            (d.vendor_id, d.product_id, d.device_class),
            (0x2c7c, 0x0125, 0)
        );
        assert_eq!(d.interfaces.len(), 3);
        assert_eq!(
            d.interface(1, 2),
            Some(&InterfaceDescriptor {
                config: 1,
                number: 2,
                class: 0xff,
                subclass: 0,
                protocol: 0
            })
        );
        assert_eq!(d.interface(2, 2), None);
        assert_eq!(d.interface(1, 3), None);
    }

    #[test]
    fn class_specific_and_endpoint_descriptors_are_skipped() {
        // A device descriptor (2c7c:0125) and the start of configuration 1:
        // interface 0 with two endpoints, interface 1 with a class-specific
        // descriptor and an interrupt endpoint, laid out byte by byte.
        let bytes: Vec<u8> = vec![
            0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x7c, 0x2c, 0x25, 0x01, 0x18, 0x03,
            0x01, 0x02, 0x03, 0x01, // device
            0x09, 0x02, 0xd1, 0x00, 0x05, 0x01, 0x00, 0xa0,
            0xfa, // configuration 1, 5 interfaces
            0x09, 0x04, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0x00, // interface 0: ff/ff/ff
            0x07, 0x05, 0x81, 0x02, 0x00, 0x02, 0x00, 0x07, 0x05, 0x01, 0x02, 0x00, 0x02,
            0x00, //
            0x09, 0x04, 0x01, 0x00, 0x03, 0xff, 0x00, 0x00, 0x00, // interface 1: ff/00/00
            0x05, 0x24, 0x00, 0x10, 0x01, // class-specific
            0x07, 0x05, 0x83, 0x03, 0x0a, 0x00, 0x09,
        ];
        let d = parse(&bytes).expect("parse");
        assert_eq!((d.vendor_id, d.product_id), (0x2c7c, 0x0125));
        let classes: Vec<_> = d
            .interfaces
            .iter()
            .map(|i| (i.number, i.class, i.subclass))
            .collect();
        assert_eq!(classes, vec![(0, 0xff, 0xff), (1, 0xff, 0x00)]);
    }

    #[test]
    fn alternate_settings_and_other_configs() {
        let mut bytes = build(0x1546, 0x1146, 0xef, &[(0, 0x02, 0x02, 0x01)]);
        // Alternate setting 1 of interface 0, ignored.
        bytes.extend_from_slice(&[9, INTERFACE, 0, 1, 0, 0x0a, 0, 0, 0]);
        // Configuration 2 with interface 0 of another class.
        bytes.extend_from_slice(&[9, CONFIGURATION, 18, 0, 1, 2, 0, 0xa0, 250]);
        bytes.extend_from_slice(&[9, INTERFACE, 0, 0, 1, 0xff, 0, 0, 0]);
        let d = parse(&bytes).expect("parse");
        assert_eq!(d.interface(1, 0).map(|i| i.class), Some(0x02));
        assert_eq!(d.interface(2, 0).map(|i| i.class), Some(0xff));
        assert_eq!(d.interfaces.len(), 2);
    }

    #[test]
    fn garbage_is_rejected_or_cut() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[18, 1, 0, 2]), None);
        assert_eq!(parse(&[0u8; 18]), None);
        let mut bytes = build(1, 2, 0, &[(0, 0xff, 0, 0)]);
        bytes.extend_from_slice(&[0, 4, 1, 2]); // bLength 0: stop
        bytes.extend_from_slice(&[9, INTERFACE, 5, 0, 0, 0xff, 0, 0, 0]);
        assert_eq!(parse(&bytes).map(|d| d.interfaces.len()), Some(1));
        let mut bytes = build(1, 2, 0, &[(0, 0xff, 0, 0)]);
        bytes.extend_from_slice(&[200, INTERFACE, 5]); // runs past the end
        assert_eq!(parse(&bytes).map(|d| d.interfaces.len()), Some(1));
        // Every truncation of a valid file parses without panicking.
        let full = build(0x2c7c, 0x0125, 0, &[(0, 0xff, 0xff, 0xff), (1, 0xff, 0, 0)]);
        for n in 0..=full.len() {
            let _ = parse(&full[..n]);
        }
    }
}
