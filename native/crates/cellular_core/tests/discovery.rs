//! Discovery against fixture sysfs trees with real symlinks.

#![forbid(unsafe_code)]

mod sysfs_fixture;

use cellular_core::discovery::{self, Role, RoleOverride, UsbDevice};
use cellular_core::Value;
use std::fs;
use std::os::unix::fs::symlink;
use sysfs_fixture::{Device, Iface, Tree};

fn scan(tree: &Tree) -> Vec<UsbDevice> {
    discovery::scan_devices(tree.root(), &[])
}

fn ttys(dev: &UsbDevice) -> (Option<&str>, Option<&str>) {
    (dev.at_tty.as_deref(), dev.ppp_tty.as_deref())
}

#[test]
fn ec25_alone() {
    let tree = Tree::new("ec25");
    tree.host(1, "dwc2").device(&Device::ec25("1-1.3", 0));

    let devices = scan(&tree);
    assert_eq!(devices.len(), 1);
    let ec25 = &devices[0];
    assert_eq!(ec25.usb_path, "1-1.3");
    assert_eq!((ec25.vendor_id, ec25.product_id), (0x2c7c, 0x0125));
    assert_eq!(ec25.product.as_deref(), Some("Android"));
    assert_eq!(ttys(ec25), (Some("ttyUSB2"), Some("ttyUSB3")));
    assert_eq!(ec25.interfaces.len(), 5);
    let qmi = &ec25.interfaces[4];
    assert_eq!(qmi.net, vec!["wwan0".to_string()]);
    assert_eq!(qmi.role, Some(Role::Qmi));
    assert_eq!(qmi.driver.as_deref(), Some("qmi_wwan"));
    assert_eq!(ec25.interfaces[0].role, Some(Role::Qcdm));
    assert_eq!(ec25.interfaces[2].ttys, vec!["ttyUSB2".to_string()]);
    assert_eq!(ec25.port_table.map(|t| t.plugin()), Some("quectel"));
}

#[test]
fn adapter_takes_tty_usb0_first() {
    let tree = Tree::new("ftdi");
    tree.host(1, "dwc2")
        .device(&Device::ftdi("1-1.2", "ttyUSB0"))
        .device(&Device::ec25("1-1.3", 1));

    let devices = scan(&tree);
    assert_eq!(devices.len(), 2);
    let (ftdi, ec25) = (&devices[0], &devices[1]);
    assert_eq!(ftdi.usb_path, "1-1.2");
    assert_eq!(ttys(ftdi), (None, None));
    assert_eq!(ftdi.interfaces[0].ttys, vec!["ttyUSB0".to_string()]);
    assert_eq!(ftdi.port_table, None);
    assert_eq!(ttys(ec25), (Some("ttyUSB3"), Some("ttyUSB4")));
}

#[test]
fn two_modems_in_natural_usb_path_order() {
    let tree = Tree::new("two");
    tree.host(1, "xhci-hcd")
        .device(&Device::sim7080("1-1.10", 0x9206, 4))
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::sim7080("2-1", 0x9205, 10));

    let devices = scan(&tree);
    let paths: Vec<&str> = devices.iter().map(|d| d.usb_path.as_str()).collect();
    assert_eq!(paths, vec!["1-1.2", "1-1.10", "2-1"]);
    assert_eq!(ttys(&devices[0]), (Some("ttyUSB2"), Some("ttyUSB3")));
    // 9206: AT on 02, PPP on 05 (03 and 04 ignored).
    assert_eq!(ttys(&devices[1]), (Some("ttyUSB6"), Some("ttyUSB9")));
    // 9205: AT on 02, PPP on 03.
    assert_eq!(ttys(&devices[2]), (Some("ttyUSB12"), Some("ttyUSB13")));
}

#[test]
fn cdc_acm_modem() {
    let tree = Tree::new("lara");
    tree.host(1, "dwc2").device(&Device::lara_r2("1-1.4", 0));
    let devices = scan(&tree);
    assert_eq!(devices.len(), 1);
    let lara = &devices[0];
    assert_eq!(ttys(lara), (Some("ttyACM0"), Some("ttyACM1")));
    assert_eq!(lara.interfaces.len(), 6);
    assert_eq!(lara.interfaces[1].class, 0x0a);
    assert_eq!(lara.interfaces[4].role, Some(Role::AtSecondary));
}

#[test]
fn huawei_roles_from_class_subclass_protocol() {
    let tree = Tree::new("huawei");
    tree.host(1, "dwc2")
        .device(&Device::huawei_e3372("1-1.2", 0));
    let devices = scan(&tree);
    assert_eq!(ttys(&devices[0]), (Some("ttyUSB1"), Some("ttyUSB0")));
    assert_eq!(devices[0].interfaces[1].net, vec!["wwan0".to_string()]);
}

#[test]
fn non_modem_devices_are_skipped() {
    let tree = Tree::new("skip");
    tree.host(1, "dwc2")
        .device(&Device::hub("1-1"))
        .device(&Device::flash_drive("1-1.1"))
        .device(&Device::ec25("1-1.3", 0));
    let devices = scan(&tree);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].usb_path, "1-1.3");
}

#[test]
fn unbound_modem_has_no_ttys() {
    let tree = Tree::new("unbound");
    tree.host(1, "dwc2")
        .device(&Device::ec25("1-1.3", 0).unbound());
    let devices = scan(&tree);
    assert_eq!(devices.len(), 1);
    assert_eq!(ttys(&devices[0]), (None, None));
    assert!(devices[0]
        .interfaces
        .iter()
        .all(|i| i.driver.is_none() && i.ttys.is_empty()));
    // Roles still come from the table.
    assert_eq!(devices[0].interfaces[2].role, Some(Role::AtPrimary));
}

#[test]
fn one_bound_at_port_serves_both() {
    let tree = Tree::new("half");
    let mut ec25 = Device::ec25("1-1.3", 0);
    ec25.interfaces[3].driver = None;
    tree.host(1, "dwc2").device(&ec25);
    let devices = scan(&tree);
    assert_eq!(ttys(&devices[0]), (Some("ttyUSB2"), Some("ttyUSB2")));
}

#[test]
fn overrides_change_roles() {
    let tree = Tree::new("override");
    tree.host(1, "dwc2").device(&Device::ec25("1-1.3", 0));
    let overrides = [RoleOverride {
        vendor_id: 0x2c7c,
        product_id: 0x0125,
        interface: 1,
        role: "ppp".into(),
    }];
    let devices = discovery::scan_devices(tree.root(), &overrides);
    assert_eq!(ttys(&devices[0]), (Some("ttyUSB2"), Some("ttyUSB1")));
}

#[test]
fn odd_trees_never_panic() {
    let tree = Tree::new("odd");
    tree.host(1, "dwc2").device(&Device::ec25("1-1.3", 0));
    let devices = tree.root().join("bus/usb/devices");

    // Ids come from the descriptors, else the interfaces' modalias, else
    // idVendor/idProduct. Devices with neither descriptors nor modalias and: no
    // idVendor; a non-hex idProduct; an out-of-range id.
    let without_modalias = |usb_path: &str, tty_base: u32| {
        tree.device(&Device::ec25(usb_path, tty_base));
        let dev = format!("devices/platform/soc/hcd1/usb1/1-1/{usb_path}");
        fs::remove_file(tree.root().join(dev).join("descriptors")).unwrap();
        for n in 0..5 {
            let attr =
                format!("devices/platform/soc/hcd1/usb1/1-1/{usb_path}/{usb_path}:1.{n}/modalias");
            fs::remove_file(tree.root().join(attr)).unwrap();
        }
    };
    without_modalias("1-1.4", 10);
    fs::remove_file(
        tree.root()
            .join("devices/platform/soc/hcd1/usb1/1-1/1-1.4/idVendor"),
    )
    .unwrap();
    without_modalias("1-1.5", 20);
    tree.write("devices/platform/soc/hcd1/usb1/1-1/1-1.5/idProduct", "zzzz");
    without_modalias("1-1.6", 30);
    tree.write(
        "devices/platform/soc/hcd1/usb1/1-1/1-1.6/idProduct",
        "123456",
    );
    // Without modalias but with good ids, a device is still found.
    without_modalias("1-1.9", 40);
    // Dangling device link, a link loop, an interface of a missing device.
    symlink("../../../devices/nowhere", devices.join("1-1.7")).unwrap();
    symlink("1-1.8", devices.join("1-1.8")).unwrap();
    symlink("loop-a", devices.join("loop-b")).unwrap();
    symlink("loop-b", devices.join("loop-a")).unwrap();
    symlink("../../../devices/nowhere", devices.join("9-9:1.0")).unwrap();
    // A plain file where a device should be; an empty directory.
    fs::write(devices.join("3-1"), "junk").unwrap();
    fs::create_dir(devices.join("4-1")).unwrap();
    // An interface with a non-hex number, one with FIFOs as its modalias and
    // class, and a tty dir that is a dangling link.
    let ec25 = tree.root().join("devices/platform/soc/hcd1/usb1/1-1/1-1.3");
    fs::write(ec25.join("descriptors"), b"\x12\x01garbage").unwrap();
    tree.write(
        "devices/platform/soc/hcd1/usb1/1-1/1-1.3/1-1.3:1.1/bInterfaceNumber",
        "xx",
    );
    tree.write(
        "devices/platform/soc/hcd1/usb1/1-1/1-1.3/1-1.3:1.1/modalias",
        "usb:garbage",
    );
    let iface0 = ec25.join("1-1.3:1.0");
    for attr in ["modalias", "bInterfaceClass"] {
        fs::remove_file(iface0.join(attr)).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(iface0.join(attr))
            .status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "mkfifo");
    }
    symlink("/nonexistent/tty", ec25.join("1-1.3:1.2/tty")).unwrap();
    // A huge attribute.
    tree.write(
        "devices/platform/soc/hcd1/usb1/1-1/1-1.3/manufacturer",
        &"x".repeat(100_000),
    );

    let found = scan(&tree);
    let paths: Vec<&str> = found.iter().map(|d| d.usb_path.as_str()).collect();
    assert_eq!(paths, vec!["1-1.3", "1-1.9"]);
    assert_eq!(ttys(&found[1]), (Some("ttyUSB42"), Some("ttyUSB43")));
    assert_eq!(found[1].product_id, 0x0125);
    let ec25 = &found[0];
    let numbers: Vec<u8> = ec25.interfaces.iter().map(|i| i.number).collect();
    assert_eq!(numbers, vec![2, 3, 4]);
    assert_eq!(ttys(ec25), (Some("ttyUSB2"), Some("ttyUSB3")));
    assert_eq!(ec25.manufacturer.as_ref().map(String::len), Some(4096));
}

#[test]
fn missing_roots_are_empty() {
    let tree = Tree::new("empty");
    assert!(scan(&tree).is_empty());
    assert!(discovery::scan_devices(&tree.root().join("nope"), &[]).is_empty());
    let system = discovery::usb_system(&tree.root().join("nope"));
    assert_eq!(system, discovery::UsbSystem::default());
}

#[test]
fn usb_system_facts() {
    let tree = Tree::new("system");
    tree.host(2, "xhci-hcd")
        .host(1, "dwc2")
        .udc("fe980000.usb", "dwc2", "not attached")
        .device(&Device::ec25("1-1.3", 0))
        .device(&Device::ftdi("2-1", "ttyUSB9"));

    let system = discovery::usb_system(tree.root());
    let hosts: Vec<(&str, u32, Option<&str>)> = system
        .host_controllers
        .iter()
        .map(|h| (h.name.as_str(), h.bus, h.driver.as_deref()))
        .collect();
    assert_eq!(
        hosts,
        vec![("usb1", 1, Some("dwc2")), ("usb2", 2, Some("xhci-hcd"))]
    );
    assert_eq!(system.udcs.len(), 1);
    assert_eq!(system.udcs[0].name, "fe980000.usb");
    assert_eq!(system.udcs[0].driver.as_deref(), Some("dwc2"));
    assert_eq!(system.udcs[0].state.as_deref(), Some("not attached"));
    assert_eq!(system.usb_drivers, vec!["ftdi_sio", "option", "qmi_wwan"]);
    assert_eq!(system.usb_serial_drivers, vec!["ftdi_sio", "option1"]);
    let v = system.to_value();
    assert!(matches!(v.get("host_controllers"), Some(Value::List(l)) if l.len() == 2));
    // No device has mass-storage interfaces only.
    assert!(system.storage_devices.is_empty());
}

#[test]
fn mass_storage_devices_are_board_facts() {
    // A modem waiting for usb_modeswitch (Huawei 12d1:1f01, a virtual
    // CD-ROM) and a flash drive are both listed; a hub and a modem are not.
    let tree = Tree::new("storage");
    tree.host(1, "xhci-hcd")
        .device(&Device::flash_drive("1-1.10"))
        .device(
            &Device::new("1-1.2", 0x12d1, 0x1f01)
                .strings("HUAWEI_MOBILE", "HUAWEI_MOBILE", "0123456789AB")
                .iface(Iface::new(0, 0x08, 0x06, 0x50).driver("usb-storage"))
                .iface(Iface::new(1, 0x08, 0x06, 0x50)),
        )
        .device(&Device::hub("1-1.4"))
        .device(&Device::ec25("1-1.3", 0));

    let system = discovery::usb_system(tree.root());
    let found: Vec<(&str, u16, u16, Option<&str>)> = system
        .storage_devices
        .iter()
        .map(|d| {
            (
                d.usb_path.as_str(),
                d.vendor_id,
                d.product_id,
                d.driver.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("1-1.2", 0x12d1, 0x1f01, Some("usb-storage")),
            ("1-1.10", 0x0781, 0x5567, Some("usb-storage")),
        ]
    );
    assert_eq!(
        system.storage_devices[0].manufacturer.as_deref(),
        Some("HUAWEI_MOBILE")
    );
    let v = system.to_value();
    assert!(matches!(v.get("storage_devices"), Some(Value::List(l)) if l.len() == 2));
}

#[test]
fn gadget_only_board() {
    let tree = Tree::new("gadget");
    tree.udc("20980000.usb", "dwc2", "configured");
    let system = discovery::usb_system(tree.root());
    assert!(system.host_controllers.is_empty());
    assert_eq!(system.udcs.len(), 1);
    assert!(scan(&tree).is_empty());
}

#[test]
fn extra_interface_kinds() {
    // A CDC-ECM modem (class 02/06 + 0a) with one vendor-class AT port.
    let tree = Tree::new("ecm");
    tree.host(1, "dwc2").device(
        &Device::new("1-1.2", 0x1e0e, 0x9205)
            .iface(
                Iface::new(2, 0xff, 0xff, 0xff)
                    .driver("option")
                    .tty("ttyUSB0"),
            )
            .iface(
                Iface::new(6, 0x02, 0x06, 0x00)
                    .driver("cdc_ether")
                    .net("usb0"),
            )
            .iface(Iface::new(7, 0x0a, 0x00, 0x00).driver("cdc_ether")),
    );
    let devices = scan(&tree);
    assert_eq!(ttys(&devices[0]), (Some("ttyUSB0"), Some("ttyUSB0")));
    assert_eq!(devices[0].interfaces[1].net, vec!["usb0".to_string()]);
    assert_eq!(devices[0].interfaces[1].role, None);
}

#[test]
fn descriptors_alone_or_files_alone_give_the_same_scan() {
    let tree = Tree::new("sources");
    tree.host(1, "dwc2")
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::lara_r2("1-1.3", 0))
        .device(&Device::huawei_e3372("1-1.4", 4));
    let all = scan(&tree);
    assert_eq!(all.len(), 3);

    // Only descriptors: no modalias, no bInterface* files, no idVendor.
    let only_descriptors = Tree::new("descriptors");
    only_descriptors
        .host(1, "dwc2")
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::lara_r2("1-1.3", 0))
        .device(&Device::huawei_e3372("1-1.4", 4));
    for entry in walk(only_descriptors.root()) {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "modalias"
            || name.starts_with("bInterface")
            || name == "idVendor"
            || name == "idProduct"
        {
            fs::remove_file(&entry).unwrap();
        }
    }
    assert_eq!(scan(&only_descriptors), all);

    // Only per-interface files: no descriptors, no modalias.
    let only_files = Tree::new("files");
    only_files
        .host(1, "dwc2")
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::lara_r2("1-1.3", 0))
        .device(&Device::huawei_e3372("1-1.4", 4));
    for entry in walk(only_files.root()) {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "modalias" || name == "descriptors" {
            fs::remove_file(&entry).unwrap();
        }
    }
    assert_eq!(scan(&only_files), all);
}

#[test]
fn without_class_directories_interfaces_are_listed_one_by_one() {
    let tree = Tree::new("noclass");
    tree.host(1, "dwc2")
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::lara_r2("1-1.3", 0));
    let expected = scan(&tree);
    fs::remove_dir_all(tree.root().join("class")).unwrap();
    fs::remove_dir_all(tree.root().join("bus/usb/drivers")).unwrap();
    assert_eq!(scan(&tree), expected);
    assert_eq!(ttys(&expected[0]), (Some("ttyUSB2"), Some("ttyUSB3")));
    assert_eq!(expected[0].interfaces[4].net, vec!["wwan0".to_string()]);
}

/// Every regular file under `root` (symlinks not followed).
fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out
}

#[test]
fn a_busy_bus_scans_the_same_with_the_index_read_alongside() {
    // From 8 devices on, the indexes are read on a second thread.
    let tree = Tree::new("busy");
    tree.host(1, "xhci-hcd");
    let mut expected = Vec::new();
    for port in 1..=12u32 {
        let path = format!("1-1.{port}");
        if port % 3 == 0 {
            tree.device(&Device::ftdi(&path, &format!("ttyUSB{}", 100 + port)));
            expected.push((path, None, None));
        } else {
            let base = port * 5;
            tree.device(&Device::ec25(&path, base));
            expected.push((
                path,
                Some(format!("ttyUSB{}", base + 2)),
                Some(format!("ttyUSB{}", base + 3)),
            ));
        }
    }
    let found: Vec<_> = scan(&tree)
        .into_iter()
        .map(|d| (d.usb_path, d.at_tty, d.ppp_tty))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_device_away_from_its_hub_is_found_through_its_link() {
    // The kernel keeps a device in its parent hub's directory, and a scan
    // looks there first; a tree laid out otherwise still scans the same by
    // following the device's link.
    let tree = Tree::new("moved");
    tree.host(1, "dwc2")
        .device(&Device::ec25("1-1.2", 0))
        .device(&Device::lara_r2("1-1.3", 0));
    let expected = scan(&tree);
    assert_eq!(expected.len(), 2);
    let usb1 = fs::read_link(tree.root().join("bus/usb/devices/usb1")).unwrap();
    let nested = tree
        .root()
        .join("bus/usb/devices")
        .join(usb1)
        .join("1-1/1-1.3");
    let away = tree.root().join("devices/elsewhere/1-1.3");
    fs::create_dir_all(away.parent().unwrap()).unwrap();
    fs::rename(&nested, &away).unwrap();
    let link = tree.root().join("bus/usb/devices/1-1.3");
    fs::remove_file(&link).unwrap();
    symlink("../../../devices/elsewhere/1-1.3", &link).unwrap();
    assert_eq!(scan(&tree), expected);
}
