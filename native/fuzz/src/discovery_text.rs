//! USB discovery: what it reads from sysfs.
//!
//! Discovery reads no `uevent` files: it takes a device's raw `descriptors`,
//! an interface's `modalias`, hex attributes (`idVendor`,
//! `bInterfaceClass`, ...), string attributes, link targets (`class/tty/*`)
//! and directory names. The first byte picks what the rest is:
//!
//! | selector | input | checks |
//! |---|---|---|
//! | 0 | `descriptors` bytes | ids as in the device descriptor; bounded interface count; rebuild → parse keeps every interface of configuration 1 |
//! | 1 | a hex attribute | agrees with `u32::from_str_radix` on the trimmed text |
//! | 2 | a `modalias` | a parsed one, printed again, parses to the same fields |
//! | 3 | a link target | the owner is one path component with a colon |
//! | 4 | names split at 0x1F | `natural_cmp` is a total order (equal only when identical); `config_and_number` never panics |
//! | 5 | attribute contents split at 0x1F | a whole scan of a small sysfs tree holding them (an empty part: the file is absent) |

use cellular_core::discovery::fuzzing::{config_and_number, link_owner, parse_hex, parse_modalias};
use cellular_core::discovery::{descriptors, natural_cmp, scan_devices, usb_system, RoleOverride};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn check_descriptors(bytes: &[u8]) {
    let Some(d) = descriptors::parse(bytes) else {
        return;
    };
    assert!(bytes.len() >= 18 && bytes[0] == 18 && bytes[1] == 1);
    assert_eq!(d.vendor_id, u16::from_le_bytes([bytes[8], bytes[9]]));
    assert_eq!(d.product_id, u16::from_le_bytes([bytes[10], bytes[11]]));
    assert!(d.interfaces.len() <= (bytes.len() - 18) / 9);
    let first: Vec<(u8, u8, u8, u8)> = d
        .interfaces
        .iter()
        .filter(|i| i.config == 1)
        .map(|i| (i.number, i.class, i.subclass, i.protocol))
        .collect();
    let rebuilt = descriptors::build(d.vendor_id, d.product_id, d.device_class, &first);
    let again = descriptors::parse(&rebuilt).expect("built descriptors parse");
    let back: Vec<(u8, u8, u8, u8)> = again
        .interfaces
        .iter()
        .map(|i| (i.number, i.class, i.subclass, i.protocol))
        .collect();
    assert_eq!(back, first);
    for i in &d.interfaces {
        assert!(d.interface(i.config, i.number).is_some());
    }
}

fn check_hex(text: &str) {
    if let Some(v) = parse_hex(text) {
        assert_eq!(
            u32::from_str_radix(text.trim(), 16).ok(),
            Some(v),
            "{text:?}"
        );
    }
}

fn check_modalias(text: &str) {
    if let Some(m) = parse_modalias(text) {
        let printed = format!(
            "usb:v{:04X}p{:04X}d0000dc00dsc00dp00ic{:02X}isc{:02X}ip{:02X}in{:02X}",
            m.vendor_id, m.product_id, m.class, m.subclass, m.protocol, m.number
        );
        assert_eq!(parse_modalias(&printed), Some(m), "{text:?} → {printed:?}");
    }
}

fn check_link(target: &[u8]) {
    if let Some(owner) = link_owner(target) {
        assert!(owner.contains(':') && !owner.contains('/'), "{owner:?}");
        assert!(
            target.split(|&b| b == b'/').any(|c| c == owner.as_bytes()),
            "{owner:?} is not a component of {target:?}"
        );
    }
}

fn check_names(rest: &[u8]) {
    // At most 12 names: the transitivity check is cubic.
    let names: Vec<String> = crate::segments(rest, 0x1f)
        .into_iter()
        .take(12)
        .map(|s| String::from_utf8_lossy(&s).into_owned())
        .collect();
    for a in &names {
        assert_eq!(natural_cmp(a, a), Ordering::Equal);
        if config_and_number(a).is_some() {
            assert!(a.rsplit_once(':').is_some_and(|(_, s)| s.contains('.')));
        }
        for b in &names {
            let ab = natural_cmp(a, b);
            assert_eq!(ab, natural_cmp(b, a).reverse(), "{a:?} {b:?}");
            assert_eq!(ab == Ordering::Equal, a == b, "{a:?} {b:?}");
            for c in &names {
                if ab != Ordering::Greater && natural_cmp(b, c) != Ordering::Greater {
                    assert_ne!(natural_cmp(a, c), Ordering::Greater, "{a:?} {b:?} {c:?}");
                }
            }
        }
    }
}

/// The files of the small tree that the scan case writes, in input order,
/// relative to `bus/usb/devices/1-1`.
const FILES: &[&str] = &[
    "descriptors",
    "1-1:1.0/modalias",
    "1-1:1.2/modalias",
    "idVendor",
    "idProduct",
    "manufacturer",
    "product",
    "serial",
    "1-1:1.2/bInterfaceNumber",
    "1-1:1.2/bInterfaceClass",
    "1-1:1.2/bInterfaceSubClass",
    "1-1:1.2/bInterfaceProtocol",
];

/// A sysfs-shaped tree with one device `1-1` and interfaces `1-1:1.0`
/// (option, ttyUSB0, indexed in `class/tty`) and `1-1:1.2` (a `driver` link,
/// ttyUSB1 found only in its directory), made once per process.
fn tree() -> Option<&'static Path> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("cellular_fuzz_{}", std::process::id()));
        let make = || -> std::io::Result<()> {
            use std::fs::create_dir_all;
            use std::os::unix::fs::symlink;
            let _ = std::fs::remove_dir_all(&root);
            let devices = root.join("bus/usb/devices");
            let dev = devices.join("1-1");
            create_dir_all(dev.join("1-1:1.0/ttyUSB0/tty/ttyUSB0"))?;
            create_dir_all(dev.join("1-1:1.2/ttyUSB1/tty/ttyUSB1"))?;
            create_dir_all(root.join("bus/usb/drivers/option"))?;
            create_dir_all(root.join("bus/usb/drivers/qmi_wwan"))?;
            create_dir_all(root.join("class/tty"))?;
            create_dir_all(root.join("class/net"))?;
            symlink("1-1/1-1:1.0", devices.join("1-1:1.0"))?;
            symlink("1-1/1-1:1.2", devices.join("1-1:1.2"))?;
            symlink(
                "../../../bus/usb/devices/1-1:1.0",
                root.join("bus/usb/drivers/option/1-1:1.0"),
            )?;
            symlink(
                "../../../../../bus/usb/drivers/qmi_wwan",
                dev.join("1-1:1.2/driver"),
            )?;
            symlink(
                "../../bus/usb/devices/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0",
                root.join("class/tty/ttyUSB0"),
            )?;
            Ok(())
        };
        make().ok().map(|()| root)
    })
    .as_deref()
}

fn check_scan(rest: &[u8]) {
    let Some(root) = tree() else {
        return;
    };
    let dev = root.join("bus/usb/devices/1-1");
    let mut parts = crate::segments(rest, 0x1f).into_iter();
    for file in FILES {
        let path = dev.join(file);
        match parts.next() {
            Some(content) if !content.is_empty() => {
                let _ = std::fs::write(&path, content);
            }
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let overrides = [RoleOverride {
        vendor_id: 0x2c7c,
        product_id: 0x0125,
        interface: 2,
        role: "ppp".into(),
    }];
    let found = scan_devices(root, &overrides);
    assert!(found.len() <= 1, "{found:?}");
    for d in &found {
        assert_eq!(d.usb_path, "1-1");
        assert!(d.interfaces.windows(2).all(|w| w[0].number < w[1].number));
        let ttys: Vec<&String> = d.interfaces.iter().flat_map(|i| &i.ttys).collect();
        for t in d.at_tty.iter().chain(&d.ppp_tty) {
            assert!(ttys.contains(&t), "{t:?} is not an interface's tty: {d:?}");
        }
    }
    let _ = usb_system(root);
}

/// The `discovery` target.
pub fn discovery(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % 6 {
        0 => check_descriptors(rest),
        1 => check_hex(&text),
        2 => check_modalias(&text),
        3 => check_link(rest),
        4 => check_names(rest),
        _ => check_scan(rest),
    }
}
