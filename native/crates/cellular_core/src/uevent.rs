//! Kernel uevents, parsed without I/O.
//!
//! The kernel announces every device it adds, removes, binds or unbinds on
//! the netlink family `NETLINK_KOBJECT_UEVENT`, multicast group 1. Each
//! datagram is one event:
//!
//! ```text
//! add@/devices/.../ttyUSB2\0ACTION=add\0DEVPATH=/devices/.../ttyUSB2\0SUBSYSTEM=tty\0...\0
//! ```
//!
//! a header `ACTION@DEVPATH`, then `KEY=VALUE` fields, each ended by a NUL.
//! udev re-broadcasts its own processed copies on group 2 with a binary
//! header starting `libudev\0`; those are recognised and ignored (the
//! library needs the kernel's word only, and udev may not even run).
//!
//! `cellular_port uevents` reads the socket and passes the datagrams here;
//! the events of the subsystems a modem shows up in ([`SUBSYSTEMS`]) go to
//! `VintageNetCellular.Uevents` as terms ([`Uevent::to_value`]), which then
//! makes the connection managers that are still looking for a modem scan
//! sysfs at once instead of at their next poll.
//!
//! Nothing here trusts its input: any byte string gives a [`Message`], no
//! panic; each kept value is cut at [`MAX_VALUE`] bytes, and at most
//! [`MAX_MESSAGE`] bytes of a datagram are looked at.
//!
//! ```
//! use cellular_core::uevent::{parse, Message};
//!
//! let bytes = b"add@/devices/virtual/net/lo\0ACTION=add\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0SEQNUM=822\0";
//! let Message::Kernel(event) = parse(bytes) else { panic!() };
//! assert_eq!((event.action.as_str(), event.subsystem.as_str()), ("add", "net"));
//! assert!(event.relevant());
//! ```

use crate::Value;

/// The most bytes of one datagram that are parsed (the kernel's own limit,
/// `UEVENT_BUFFER_SIZE`, is 2048).
pub const MAX_MESSAGE: usize = 8192;

/// The most bytes kept of one value (a devpath, a device name...).
pub const MAX_VALUE: usize = 512;

/// The subsystems whose events can change what USB discovery finds: the
/// USB device and its interfaces, their ttys, the CDC-WDM control nodes
/// (`usbmisc`) and network interfaces.
pub const SUBSYSTEMS: &[&str] = &["tty", "usb", "net", "usbmisc"];

/// Every atom the uevent frames hold (`VintageNetCellular.Uevents` keeps
/// the same list, so `binary_to_term(frame, [:safe])` finds them all).
pub const ATOMS: &[&str] = &[
    "uevent",
    "uevents_listening",
    "uevents_unavailable",
    "uevents_lost",
    "action",
    "devname",
    "devpath",
    "devtype",
    "seqnum",
    "subsystem",
];

/// One kernel event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uevent {
    /// `add`, `remove`, `bind`, `unbind`, `change`, `move`, `online`...
    pub action: String,
    /// The device's path under /sys, e.g. `/devices/.../1-1.2:1.2/ttyUSB2/tty/ttyUSB2`
    pub devpath: String,
    /// `tty`, `usb`, `net`...
    pub subsystem: String,
    /// The node under /dev, when there is one (`ttyUSB2`, `bus/usb/001/004`)
    pub devname: Option<String>,
    /// `usb_device`, `usb_interface`, `wwan`...
    pub devtype: Option<String>,
    /// The kernel's sequence number of the event
    pub seqnum: Option<u64>,
}

/// What one datagram was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An event from the kernel
    Kernel(Uevent),
    /// udev's re-broadcast (`libudev` header): not the kernel's word
    Udev,
    /// Not a uevent; the reason
    Invalid(String),
}

/// Parses one datagram (see the module's documentation).
pub fn parse(bytes: &[u8]) -> Message {
    let bytes = &bytes[..bytes.len().min(MAX_MESSAGE)];
    if bytes.starts_with(b"libudev\0") {
        return Message::Udev;
    }
    let mut fields = bytes.split(|&b| b == 0).filter(|f| !f.is_empty());
    let Some(header) = fields.next() else {
        return Message::Invalid("empty datagram".into());
    };
    let Some(at) = header.iter().position(|&b| b == b'@') else {
        return Message::Invalid(format!("no ACTION@DEVPATH header: {}", text(header, 64)));
    };
    let mut action = text(&header[..at], MAX_VALUE);
    let mut devpath = text(&header[at + 1..], MAX_VALUE);
    let mut subsystem = None;
    let mut devname = None;
    let mut devtype = None;
    let mut seqnum = None;
    for field in fields {
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (&field[..eq], &field[eq + 1..]);
        match key {
            b"ACTION" => action = text(value, MAX_VALUE),
            b"DEVPATH" => devpath = text(value, MAX_VALUE),
            b"SUBSYSTEM" => subsystem = Some(text(value, MAX_VALUE)),
            b"DEVNAME" => devname = Some(text(value, MAX_VALUE)),
            b"DEVTYPE" => devtype = Some(text(value, MAX_VALUE)),
            b"SEQNUM" => seqnum = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()),
            _ => {}
        }
    }
    if action.is_empty() || devpath.is_empty() {
        return Message::Invalid(format!(
            "empty action or devpath in header: {}",
            text(header, 64)
        ));
    }
    let Some(subsystem) = subsystem else {
        return Message::Invalid(format!("no SUBSYSTEM in the event on {devpath}"));
    };
    Message::Kernel(Uevent {
        action,
        devpath,
        subsystem,
        devname,
        devtype,
        seqnum,
    })
}

/// At most `max` bytes of `bytes` as text (invalid UTF-8 replaced), cut on
/// a character boundary.
fn text(bytes: &[u8], max: usize) -> String {
    let bytes = &bytes[..bytes.len().min(max)];
    let s = String::from_utf8_lossy(bytes);
    if s.len() <= max {
        return s.into_owned();
    }
    // U+FFFD takes 3 bytes where it replaced 1: cut again.
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl Uevent {
    /// Whether the event is in one of the [`SUBSYSTEMS`].
    pub fn relevant(&self) -> bool {
        SUBSYSTEMS.contains(&self.subsystem.as_str())
    }

    /// The term sent to the BEAM:
    /// `{:uevent, %{action:, devname:, devpath:, devtype:, seqnum:, subsystem:}}`,
    /// absent fields being `nil`.
    pub fn to_value(&self) -> Value {
        Value::Tuple(vec![
            Value::Atom("uevent"),
            Value::Map(vec![
                ("action", self.action.as_str().into()),
                ("devname", Value::opt(self.devname.as_deref())),
                ("devpath", self.devpath.as_str().into()),
                ("devtype", Value::opt(self.devtype.as_deref())),
                (
                    "seqnum",
                    Value::opt(self.seqnum.and_then(|n| i64::try_from(n).ok())),
                ),
                ("subsystem", self.subsystem.as_str().into()),
            ]),
        ])
    }
}

/// `:uevents_listening`: the socket is open; every event from now on is
/// reported.
pub fn listening() -> Value {
    Value::Atom("uevents_listening")
}

/// `{:uevents_unavailable, reason}`: the socket could not be opened; the
/// program exits after it.
pub fn unavailable(reason: &str) -> Value {
    Value::Tuple(vec![
        Value::Atom("uevents_unavailable"),
        text(reason.as_bytes(), MAX_VALUE).into(),
    ])
}

/// `{:uevents_lost, reason}`: events were dropped (the socket's buffer
/// overflowed, or a datagram was cut); whoever waits for one should look
/// for itself.
pub fn lost(reason: &str) -> Value {
    Value::Tuple(vec![
        Value::Atom("uevents_lost"),
        text(reason.as_bytes(), MAX_VALUE).into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etf;

    // The tty and net ones were captured from the kernel on a Linux 6.x host
    // (synthetic events, root writing to /sys/class/*/uevent). That host has
    // no USB device, so the USB, wwan and cdc-wdm ones are not captured: they
    // are written in the kernel's layout with the keys it sends for such
    // devices, with a Quectel EC25's ids.
    const TTY_ADD: &[u8] = b"add@/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0ACTION=add\0DEVPATH=/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0SUBSYSTEM=tty\0SYNTH_UUID=0\0MAJOR=4\0MINOR=64\0DEVNAME=ttyS0\0SEQNUM=823\0";
    const TTY_REMOVE: &[u8] = b"remove@/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0ACTION=remove\0DEVPATH=/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0SUBSYSTEM=tty\0SYNTH_UUID=0\0MAJOR=4\0MINOR=64\0DEVNAME=ttyS0\0SEQNUM=824\0";
    const NET_ADD: &[u8] = b"add@/devices/virtual/net/lo\0ACTION=add\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0SYNTH_UUID=0\0INTERFACE=lo\0IFINDEX=1\0SEQNUM=822\0";
    const USB_ADD: &[u8] = b"add@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2\0ACTION=add\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2\0SUBSYSTEM=usb\0MAJOR=189\0MINOR=3\0DEVNAME=bus/usb/001/004\0DEVTYPE=usb_device\0PRODUCT=2c7c/125/318\0TYPE=239/2/1\0BUSNUM=001\0DEVNUM=004\0SEQNUM=1504\0";
    const USB_IF_ADD: &[u8] = b"add@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.2\0ACTION=add\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.2\0SUBSYSTEM=usb\0DEVTYPE=usb_interface\0PRODUCT=2c7c/125/318\0TYPE=239/2/1\0INTERFACE=255/0/0\0MODALIAS=usb:v2C7Cp0125d0318dcEFdsc02dp01icFFiscFFip00in02\0SEQNUM=1507\0";
    const USB_BIND: &[u8] = b"bind@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.2\0ACTION=bind\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.2\0SUBSYSTEM=usb\0DEVTYPE=usb_interface\0DRIVER=option\0PRODUCT=2c7c/125/318\0TYPE=239/2/1\0INTERFACE=255/0/0\0SEQNUM=1512\0";
    const USB_REMOVE: &[u8] = b"remove@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2\0ACTION=remove\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2\0SUBSYSTEM=usb\0MAJOR=189\0MINOR=3\0DEVNAME=bus/usb/001/004\0DEVTYPE=usb_device\0PRODUCT=2c7c/125/318\0TYPE=239/2/1\0BUSNUM=001\0DEVNUM=004\0SEQNUM=1530\0";
    const WWAN_ADD: &[u8] = b"add@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.4/net/wwan0\0ACTION=add\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.4/net/wwan0\0SUBSYSTEM=net\0DEVTYPE=wwan\0INTERFACE=wwan0\0IFINDEX=4\0SEQNUM=1520\0";
    const CDC_WDM_ADD: &[u8] = b"add@/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.4/usbmisc/cdc-wdm0\0ACTION=add\0DEVPATH=/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.2/1-1.2:1.4/usbmisc/cdc-wdm0\0SUBSYSTEM=usbmisc\0MAJOR=180\0MINOR=176\0DEVNAME=cdc-wdm0\0SEQNUM=1519\0";
    const BLOCK_ADD: &[u8] = b"add@/devices/virtual/block/loop0\0ACTION=add\0DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0DEVTYPE=disk\0DISKSEQ=1\0SEQNUM=300\0";

    fn kernel(bytes: &[u8]) -> Uevent {
        match parse(bytes) {
            Message::Kernel(event) => event,
            other => panic!("not a kernel event: {other:?}"),
        }
    }

    #[test]
    fn tty_add_and_remove() {
        let add = kernel(TTY_ADD);
        assert_eq!(
            add,
            Uevent {
                action: "add".into(),
                devpath: "/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0".into(),
                subsystem: "tty".into(),
                devname: Some("ttyS0".into()),
                devtype: None,
                seqnum: Some(823),
            }
        );
        assert!(add.relevant());
        let remove = kernel(TTY_REMOVE);
        assert_eq!(
            (remove.action.as_str(), remove.seqnum),
            ("remove", Some(824))
        );
    }

    #[test]
    fn usb_device_interface_bind_remove() {
        let device = kernel(USB_ADD);
        assert_eq!(device.devtype.as_deref(), Some("usb_device"));
        assert_eq!(device.devname.as_deref(), Some("bus/usb/001/004"));
        let interface = kernel(USB_IF_ADD);
        assert_eq!(interface.devtype.as_deref(), Some("usb_interface"));
        assert_eq!(interface.devname, None);
        let bind = kernel(USB_BIND);
        assert_eq!(bind.action, "bind");
        assert!(bind.devpath.ends_with("/1-1.2:1.2"));
        let remove = kernel(USB_REMOVE);
        assert_eq!(
            (remove.action.as_str(), remove.subsystem.as_str()),
            ("remove", "usb")
        );
        assert!([device, interface, bind, remove]
            .iter()
            .all(Uevent::relevant));
    }

    #[test]
    fn net_and_usbmisc_are_relevant_block_is_not() {
        let lo = kernel(NET_ADD);
        assert_eq!((lo.subsystem.as_str(), lo.seqnum), ("net", Some(822)));
        assert!(lo.relevant());
        assert_eq!(kernel(WWAN_ADD).devtype.as_deref(), Some("wwan"));
        assert!(kernel(CDC_WDM_ADD).relevant());
        let block = kernel(BLOCK_ADD);
        assert_eq!(block.subsystem, "block");
        assert!(!block.relevant());
    }

    #[test]
    fn udev_rebroadcasts_are_ignored() {
        // udev's header: "libudev\0", a magic, header sizes, hashes, then the properties.
        let mut bytes = b"libudev\0\xfe\xed\xca\xfe\x28\0\0\0".to_vec();
        bytes.extend_from_slice(&[0; 24]);
        bytes.extend_from_slice(b"ACTION=add\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0");
        assert_eq!(parse(&bytes), Message::Udev);
    }

    #[test]
    fn what_is_not_an_event_says_why() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty datagram"),
            (b"\0\0\0", "empty datagram"),
            (b"hello\0ACTION=add\0", "no ACTION@DEVPATH header"),
            (b"@\0SUBSYSTEM=tty\0", "empty action or devpath"),
            (b"add@/devices/x\0ACTION=add\0", "no SUBSYSTEM"),
        ];
        for (bytes, why) in cases {
            match parse(bytes) {
                Message::Invalid(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn fields_are_bounded_and_odd_bytes_kept_as_text() {
        let long = "x".repeat(5000);
        let bytes = format!("add@/d\0SUBSYSTEM=tty\0DEVNAME={long}\0SEQNUM=99999999999999999999\0");
        let event = kernel(bytes.as_bytes());
        assert_eq!(event.devname.as_deref().map(str::len), Some(MAX_VALUE));
        // Out of u64's range: no number rather than a wrong one.
        assert_eq!(event.seqnum, None);

        let event = kernel(b"add@/d\xff\0SUBSYSTEM=tty\0DEVNAME=\xe2\x82\0");
        assert_eq!(event.devpath, "/d\u{fffd}");
        assert_eq!(event.devname.as_deref(), Some("\u{fffd}"));

        // A field without '=' is skipped, the rest still read.
        let event = kernel(b"add@/d\0JUNK\0SUBSYSTEM=usb\0");
        assert_eq!(event.subsystem, "usb");

        // Bytes past MAX_MESSAGE are not looked at.
        let mut big = b"add@/d\0".to_vec();
        big.resize(MAX_MESSAGE, b'a');
        big.extend_from_slice(b"\0SUBSYSTEM=tty\0");
        assert!(matches!(parse(&big), Message::Invalid(_)));

        // The cut of a value never splits a character.
        let wide = "é".repeat(MAX_VALUE);
        let event = kernel(format!("add@/d\0SUBSYSTEM=tty\0DEVNAME={wide}\0").as_bytes());
        let name = event.devname.unwrap_or_default();
        assert!(name.len() <= MAX_VALUE && name.chars().all(|c| c == 'é'));
    }

    #[test]
    fn no_input_panics() {
        // Every prefix of each real message, each with every byte flipped
        // in turn, and pseudo-random bytes with many NULs, '@' and '='.
        let samples = [TTY_ADD, TTY_REMOVE, NET_ADD, USB_ADD, USB_BIND, USB_REMOVE];
        for sample in samples {
            for end in 0..=sample.len() {
                let _ = parse(&sample[..end]);
            }
            for i in 0..sample.len() {
                let mut bytes = sample.to_vec();
                bytes[i] ^= 0xff;
                let _ = parse(&bytes);
            }
        }
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2_000 {
            let mut bytes = Vec::new();
            for _ in 0..(seed % 200) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                bytes.push(match (seed >> 33) % 6 {
                    0 => 0,
                    1 => b'@',
                    2 => b'=',
                    _ => (seed >> 41) as u8,
                });
            }
            if let Message::Kernel(event) = parse(&bytes) {
                let _ = etf::encode(&event.to_value());
            }
        }
    }

    #[test]
    fn frames_decode_with_only_the_atom_table() {
        for sample in [TTY_ADD, USB_ADD, USB_IF_ADD, WWAN_ADD, CDC_WDM_ADD] {
            let value = kernel(sample).to_value();
            assert!(value.is_sorted(), "map keys must be in the VM's order");
            let mut atoms = Vec::new();
            value.atoms(&mut atoms);
            assert!(atoms.iter().all(|a| ATOMS.contains(a)), "{atoms:?}");
            assert_eq!(etf::decode(&etf::encode(&value), ATOMS), Ok(value));
        }
        for value in [listening(), unavailable("EPERM"), lost("ENOBUFS")] {
            assert_eq!(etf::decode(&etf::encode(&value), ATOMS), Ok(value));
        }
    }
}
