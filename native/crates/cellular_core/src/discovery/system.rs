//! Board-level USB facts: host controllers, device-mode (gadget) controllers
//! and the USB drivers the kernel has registered.
//!
//! These are raw facts for `VintageNetCellular.Diagnose`, which words them.
//!
//! - Host controllers appear as root hubs `bus/usb/devices/usbN`; the
//!   controller itself is the root hub's parent device, whose `driver` link
//!   names e.g. `xhci-hcd`, `ehci-platform` or `dwc2`.
//! - Device-mode controllers (UDCs) appear in `class/udc/<name>`, with a
//!   `device` link to the controller (driver e.g. `dwc2`) and a `state`.
//! - `bus/usb/drivers/*` lists the USB interface drivers (option, cdc_acm,
//!   qmi_wwan, ...); `bus/usb-serial/drivers/*` the usb-serial ones (`option1`,
//!   `ftdi_sio`, ...). A driver listed there is built in or loaded.
//! - Mass-storage devices: USB devices whose every interface is of class
//!   `08`. Many modems first enumerate this way (a virtual CD-ROM holding
//!   Windows drivers) and only show their modem interfaces once
//!   usb_modeswitch has sent them a mode-switch message. Diagnose tells such
//!   a modem from a flash drive by its vendor.

use super::sysfs::{link_name, list_dir, natural_cmp, read_hex, read_string};
use crate::Value;
use std::fs;
use std::path::Path;

/// A USB host controller (a root hub `usbN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostController {
    /// `"usb1"`
    pub name: String,
    /// The bus number (1 for `usb1`).
    pub bus: u32,
    /// The root hub's `product`, e.g. "xHCI Host Controller".
    pub product: Option<String>,
    /// The controller's driver, e.g. "xhci-hcd" or "dwc2".
    pub driver: Option<String>,
}

/// A USB device-mode controller (UDC), as listed in `class/udc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udc {
    /// e.g. `"fe980000.usb"`
    pub name: String,
    /// The controller's driver, e.g. "dwc2".
    pub driver: Option<String>,
    /// The UDC's `state`, e.g. "not attached" or "configured".
    pub state: Option<String>,
}

/// A USB device with mass-storage interfaces only (class `08`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageDevice {
    /// e.g. `"1-1.3"`
    pub usb_path: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    /// The driver bound to its first interface, e.g. "usb-storage".
    pub driver: Option<String>,
}

/// Everything [`usb_system`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbSystem {
    pub host_controllers: Vec<HostController>,
    pub storage_devices: Vec<StorageDevice>,
    pub udcs: Vec<Udc>,
    pub usb_drivers: Vec<String>,
    pub usb_serial_drivers: Vec<String>,
}

/// Reads the board-level USB facts under `root` (normally `/sys`).
pub fn usb_system(root: &Path) -> UsbSystem {
    let devices = root.join("bus/usb/devices");
    let mut host_controllers: Vec<HostController> = list_dir(&devices)
        .into_iter()
        .filter_map(|name| {
            let bus = name.strip_prefix("usb")?.parse::<u32>().ok()?;
            let hub = devices.join(&name);
            Some(HostController {
                product: read_string(&hub.join("product")),
                driver: controller_driver(&hub),
                name,
                bus,
            })
        })
        .collect();
    host_controllers.sort_unstable_by_key(|h| h.bus);

    let udc_dir = root.join("class/udc");
    let mut udcs: Vec<Udc> = list_dir(&udc_dir)
        .into_iter()
        .map(|name| {
            let udc = udc_dir.join(&name);
            Udc {
                driver: link_name(&udc.join("device/driver")),
                state: read_string(&udc.join("state")),
                name,
            }
        })
        .collect();
    udcs.sort_unstable_by(|a, b| natural_cmp(&a.name, &b.name));

    UsbSystem {
        storage_devices: storage_devices(&devices),
        host_controllers,
        udcs,
        usb_drivers: list_dir(&root.join("bus/usb/drivers")),
        usb_serial_drivers: list_dir(&root.join("bus/usb-serial/drivers")),
    }
}

/// The devices under `bus/usb/devices` whose interfaces are all mass storage,
/// in USB path order. Unreadable entries are skipped.
fn storage_devices(devices: &Path) -> Vec<StorageDevice> {
    let names = list_dir(devices);
    let mut found: Vec<StorageDevice> = names
        .iter()
        .filter(|name| !name.contains(':') && !name.starts_with("usb"))
        .filter_map(|name| {
            let dir = devices.join(name);
            let prefix = format!("{name}:");
            let interfaces: Vec<&String> =
                names.iter().filter(|n| n.starts_with(&prefix)).collect();
            let all_storage = !interfaces.is_empty()
                && interfaces
                    .iter()
                    .all(|i| read_hex(&devices.join(i).join("bInterfaceClass")) == Some(0x08));
            if !all_storage {
                return None;
            }
            Some(StorageDevice {
                usb_path: name.clone(),
                vendor_id: u16::try_from(read_hex(&dir.join("idVendor"))?).ok()?,
                product_id: u16::try_from(read_hex(&dir.join("idProduct"))?).ok()?,
                manufacturer: read_string(&dir.join("manufacturer")),
                product: read_string(&dir.join("product")),
                driver: interfaces
                    .first()
                    .and_then(|i| link_name(&devices.join(i).join("driver"))),
            })
        })
        .collect();
    found.sort_unstable_by(|a, b| natural_cmp(&a.usb_path, &b.usb_path));
    found
}

/// The driver of the device a root hub hangs off.
fn controller_driver(hub: &Path) -> Option<String> {
    let real = fs::canonicalize(hub).ok()?;
    link_name(&real.parent()?.join("driver"))
}

impl HostController {
    /// `%{name, bus, product, driver}`
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("name", self.name.as_str().into()),
            ("bus", self.bus.into()),
            ("product", Value::opt(self.product.clone())),
            ("driver", Value::opt(self.driver.clone())),
        ])
    }
}

impl Udc {
    /// `%{name, driver, state}`
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("name", self.name.as_str().into()),
            ("driver", Value::opt(self.driver.clone())),
            ("state", Value::opt(self.state.clone())),
        ])
    }
}

impl StorageDevice {
    /// `%{driver, manufacturer, product, product_id, usb_path, vendor_id}`
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("driver", Value::opt(self.driver.clone())),
            ("manufacturer", Value::opt(self.manufacturer.clone())),
            ("product", Value::opt(self.product.clone())),
            ("product_id", self.product_id.into()),
            ("usb_path", self.usb_path.as_str().into()),
            ("vendor_id", self.vendor_id.into()),
        ])
    }
}

impl UsbSystem {
    /// `%{host_controllers: [...], storage_devices: [...], udcs: [...], usb_drivers: [...],
    /// usb_serial_drivers: [...]}`
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            (
                "host_controllers",
                Value::List(
                    self.host_controllers
                        .iter()
                        .map(HostController::to_value)
                        .collect(),
                ),
            ),
            (
                "storage_devices",
                Value::List(
                    self.storage_devices
                        .iter()
                        .map(StorageDevice::to_value)
                        .collect(),
                ),
            ),
            (
                "udcs",
                Value::List(self.udcs.iter().map(Udc::to_value).collect()),
            ),
            ("usb_drivers", self.usb_drivers.clone().into()),
            ("usb_serial_drivers", self.usb_serial_drivers.clone().into()),
        ])
    }
}
