//! Kernel uevent datagrams, as `cellular_port uevents` reads them from its
//! netlink socket.
//!
//! Input: one datagram.
//!
//! Invariants: parsing never panics; an event has a non-empty action and
//! devpath and every kept value within `MAX_VALUE` bytes; its term uses only
//! the uevent atom table, has its map keys in the VM's order and decodes back
//! to itself; a rejection says why.

use cellular_core::etf;
use cellular_core::uevent::{parse, Message, ATOMS, MAX_VALUE, SUBSYSTEMS};

pub fn uevent(data: &[u8]) {
    match parse(data) {
        Message::Kernel(event) => {
            assert!(!event.action.is_empty() && !event.devpath.is_empty());
            for value in [
                Some(&event.action),
                Some(&event.devpath),
                Some(&event.subsystem),
                event.devname.as_ref(),
                event.devtype.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                assert!(value.len() <= MAX_VALUE, "{} bytes", value.len());
            }
            assert_eq!(
                event.relevant(),
                SUBSYSTEMS.contains(&event.subsystem.as_str())
            );
            let value = event.to_value();
            assert!(value.is_sorted());
            let mut atoms = Vec::new();
            value.atoms(&mut atoms);
            assert!(atoms.iter().all(|a| ATOMS.contains(a)), "{atoms:?}");
            assert_eq!(etf::decode(&etf::encode(&value), ATOMS), Ok(value));
        }
        Message::Udev => assert!(data.starts_with(b"libudev\0")),
        Message::Invalid(reason) => assert!(!reason.is_empty()),
    }
}
