//! A small builder of sysfs-shaped trees for discovery tests and benchmarks,
//! with real symlinks laid out as the kernel does (the Elixir twin is
//! `VintageNetCellular.SysfsFixture` in test/support):
//!
//! ```text
//! <root>/devices/platform/soc/hcd<bus>/usb<bus>/1-1/1-1.3          device (idVendor, ..., descriptors)
//! <root>/devices/.../1-1.3/1-1.3:1.2/{bInterface*,modalias,driver}   interface
//! <root>/devices/.../1-1.3/1-1.3:1.2/ttyUSB2/tty/ttyUSB2              usb-serial port
//! <root>/devices/.../1-1.3/1-1.3:1.0/tty/ttyACM0                      CDC-ACM port
//! <root>/devices/.../1-1.3/1-1.3:1.4/net/wwan0                        net device
//! <root>/bus/usb/devices/{usbN,1-1.3,1-1.3:1.2} -> ../../../devices/...
//! <root>/bus/usb/drivers/<driver>/1-1.3:1.2 -> ../../../../devices/...  (bound interfaces)
//! <root>/bus/usb-serial/drivers/<name>
//! <root>/class/tty/ttyUSB2, <root>/class/net/wwan0, <root>/class/udc/<udc>
//! ```
//!
//! The tree is removed when the [`Tree`] is dropped. No crates beyond std.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One interface of a fixture device.
#[derive(Debug, Clone)]
pub struct Iface {
    pub number: u8,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
    /// The bound driver, or `None` for an unbound interface.
    pub driver: Option<&'static str>,
    /// The tty this interface exposes when bound (`ttyUSB2`, `ttyACM0`).
    pub tty: Option<String>,
    /// The net device this interface exposes when bound (`wwan0`).
    pub net: Option<String>,
}

impl Iface {
    pub fn new(number: u8, class: u8, subclass: u8, protocol: u8) -> Self {
        Iface {
            number,
            class,
            subclass,
            protocol,
            driver: None,
            tty: None,
            net: None,
        }
    }

    pub fn driver(mut self, driver: &'static str) -> Self {
        self.driver = Some(driver);
        self
    }

    pub fn tty(mut self, tty: impl Into<String>) -> Self {
        self.tty = Some(tty.into());
        self
    }

    pub fn net(mut self, net: impl Into<String>) -> Self {
        self.net = Some(net.into());
        self
    }
}

/// A fixture USB device.
#[derive(Debug, Clone)]
pub struct Device {
    pub usb_path: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub device_class: u8,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    pub interfaces: Vec<Iface>,
}

impl Device {
    pub fn new(usb_path: &str, vendor_id: u16, product_id: u16) -> Self {
        Device {
            usb_path: usb_path.to_owned(),
            vendor_id,
            product_id,
            device_class: 0,
            manufacturer: None,
            product: None,
            serial: None,
            interfaces: Vec::new(),
        }
    }

    pub fn strings(mut self, manufacturer: &str, product: &str, serial: &str) -> Self {
        self.manufacturer = Some(manufacturer.to_owned());
        self.product = Some(product.to_owned());
        self.serial = Some(serial.to_owned());
        self
    }

    pub fn iface(mut self, iface: Iface) -> Self {
        self.interfaces.push(iface);
        self
    }

    /// Unbinds every interface (no driver, so no tty or net device).
    pub fn unbound(mut self) -> Self {
        for iface in &mut self.interfaces {
            iface.driver = None;
        }
        self
    }

    /// A Quectel-layout modem (EC25 2c7c:0125 and friends): 00 DM, 01 NMEA,
    /// 02 AT, 03 AT/PPP on `option` as ttyUSB<base>..<base+3>, 04 QMI (wwan0).
    /// It reports "Android"/"Android", as some EC25 firmware does.
    pub fn quectel(usb_path: &str, product_id: u16, tty_base: u32) -> Self {
        let mut dev =
            Device::new(usb_path, 0x2c7c, product_id).strings("Android", "Android", "0000");
        for n in 0..4u8 {
            let (sub, proto) = if n == 0 { (0xff, 0xff) } else { (0, 0) };
            dev = dev.iface(
                Iface::new(n, 0xff, sub, proto)
                    .driver("option")
                    .tty(format!("ttyUSB{}", tty_base + u32::from(n))),
            );
        }
        dev.iface(
            Iface::new(4, 0xff, 0xff, 0xff)
                .driver("qmi_wwan")
                .net("wwan0"),
        )
    }

    pub fn ec25(usb_path: &str, tty_base: u32) -> Self {
        Device::quectel(usb_path, 0x0125, tty_base)
    }

    /// SIMCom SIM7080 (1e0e:9205 default layout, 00..03; or 1e0e:9206, 00..05).
    pub fn sim7080(usb_path: &str, product_id: u16, tty_base: u32) -> Self {
        let count = if product_id == 0x9206 { 6 } else { 4 };
        let mut dev =
            Device::new(usb_path, 0x1e0e, product_id).strings("SIMCOM_Ltd", "SIMCOM_SIM7080G", "");
        for n in 0..count {
            dev = dev.iface(
                Iface::new(n, 0xff, 0xff, 0xff)
                    .driver("option")
                    .tty(format!("ttyUSB{}", tty_base + u32::from(n))),
            );
        }
        dev
    }

    /// u-blox LARA-R2 (1546:110a): CDC-ACM pairs 0/1, 2/3, 4/5 as ttyACM<base>..
    pub fn lara_r2(usb_path: &str, acm_base: u32) -> Self {
        let mut dev =
            Device::new(usb_path, 0x1546, 0x110a).strings("u-blox", "u-blox Cellular Module", "");
        for (i, n) in [0u8, 2, 4].into_iter().enumerate() {
            dev = dev
                .iface(
                    Iface::new(n, 0x02, 0x02, 0x01)
                        .driver("cdc_acm")
                        .tty(format!("ttyACM{}", acm_base + i as u32)),
                )
                .iface(Iface::new(n + 1, 0x0a, 0x00, 0x00).driver("cdc_acm"));
        }
        dev
    }

    /// Huawei E3372 in modem ("stick") mode, 12d1:1506: 00 ff/02/01 PPP,
    /// 01 ff/02/16 NCM (wwan0), 02 ff/02/02 PCUI AT.
    pub fn huawei_e3372(usb_path: &str, tty_base: u32) -> Self {
        Device::new(usb_path, 0x12d1, 0x1506)
            .strings("HUAWEI_MOBILE", "HUAWEI_MOBILE", "")
            .iface(
                Iface::new(0, 0xff, 0x02, 0x01)
                    .driver("option")
                    .tty(format!("ttyUSB{tty_base}")),
            )
            .iface(
                Iface::new(1, 0xff, 0x02, 0x16)
                    .driver("huawei_cdc_ncm")
                    .net("wwan0"),
            )
            .iface(
                Iface::new(2, 0xff, 0x02, 0x02)
                    .driver("option")
                    .tty(format!("ttyUSB{}", tty_base + 1)),
            )
    }

    /// An FTDI FT232R USB-serial adapter (0403:6001), one port.
    pub fn ftdi(usb_path: &str, tty: &str) -> Self {
        Device::new(usb_path, 0x0403, 0x6001)
            .strings("FTDI", "FT232R USB UART", "A50285BI")
            .iface(Iface::new(0, 0xff, 0xff, 0xff).driver("ftdi_sio").tty(tty))
    }

    /// A USB hub (class 09), which discovery must skip.
    pub fn hub(usb_path: &str) -> Self {
        let mut dev =
            Device::new(usb_path, 0x0424, 0x2514).iface(Iface::new(0, 0x09, 0, 0).driver("hub"));
        dev.device_class = 0x09;
        dev
    }

    /// A USB flash drive (class 08), which discovery must skip.
    pub fn flash_drive(usb_path: &str) -> Self {
        Device::new(usb_path, 0x0781, 0x5567)
            .strings("SanDisk", "Cruzer Blade", "4C530001")
            .iface(Iface::new(0, 0x08, 0x06, 0x50).driver("usb-storage"))
    }
}

/// A fixture tree in a unique temporary directory, removed on drop.
pub struct Tree {
    root: PathBuf,
}

impl Tree {
    /// Creates an empty tree (no host controller, no devices).
    pub fn new(tag: &str) -> Tree {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let root = std::env::temp_dir().join(format!(
            "vnc-sysfs-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&root).expect("create fixture root");
        Tree { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `contents` plus a newline to `rel` (relative to the root).
    pub fn write(&self, rel: impl AsRef<Path>, contents: &str) {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, format!("{contents}\n")).expect("write attr");
    }

    pub fn mkdir(&self, rel: impl AsRef<Path>) {
        fs::create_dir_all(self.root.join(rel)).expect("mkdir");
    }

    /// Creates a relative symlink at `link` pointing at `target` (both relative to the root).
    pub fn link(&self, link: impl AsRef<Path>, target: impl AsRef<Path>) {
        let link = self.root.join(link);
        let target = self.root.join(target);
        let parent = link.parent().expect("link parent").to_path_buf();
        fs::create_dir_all(&parent).expect("mkdir");
        let _ = fs::remove_file(&link);
        symlink(relative(&parent, &target), &link).expect("symlink");
    }

    fn controller_dir(bus: u32) -> PathBuf {
        PathBuf::from(format!("devices/platform/soc/hcd{bus}"))
    }

    fn device_dir(usb_path: &str) -> PathBuf {
        // "1-1.3.2" -> usb1/1-1/1-1.3/1-1.3.2
        let bus: u32 = usb_path
            .split('-')
            .next()
            .and_then(|b| b.parse().ok())
            .unwrap_or(1);
        let mut dir = Tree::controller_dir(bus).join(format!("usb{bus}"));
        let mut prefix = String::new();
        for (i, part) in usb_path.split('.').enumerate() {
            if i > 0 {
                prefix.push('.');
            }
            prefix.push_str(part);
            dir.push(&prefix);
        }
        dir
    }

    /// Adds host controller `usb<bus>` (a root hub whose controller is bound to `driver`).
    pub fn host(&self, bus: u32, driver: &str) -> &Self {
        let ctrl = Tree::controller_dir(bus);
        let hub = ctrl.join(format!("usb{bus}"));
        self.write(hub.join("idVendor"), "1d6b");
        self.write(hub.join("idProduct"), "0002");
        self.write(hub.join("bDeviceClass"), "09");
        self.write(hub.join("product"), "Fixture Host Controller");
        self.mkdir(format!("bus/platform/drivers/{driver}"));
        self.link(
            ctrl.join("driver"),
            format!("bus/platform/drivers/{driver}"),
        );
        self.link(format!("bus/usb/devices/usb{bus}"), hub);
        self
    }

    /// Adds a device-mode controller in class/udc.
    pub fn udc(&self, name: &str, driver: &str, state: &str) -> &Self {
        let dev = PathBuf::from(format!("devices/platform/soc/{name}"));
        let udc = dev.join("udc").join(name);
        self.write(udc.join("state"), state);
        self.mkdir(format!("bus/platform/drivers/{driver}"));
        self.link(dev.join("driver"), format!("bus/platform/drivers/{driver}"));
        self.link(udc.join("device"), &dev);
        self.link(format!("class/udc/{name}"), &udc);
        self
    }

    /// Registers a driver in bus/usb/drivers (and bus/usb-serial/drivers for
    /// usb-serial ones), as a loaded module or built-in driver would.
    pub fn driver(&self, name: &str) -> &Self {
        self.mkdir(format!("bus/usb/drivers/{name}"));
        let serial = match name {
            "option" => Some("option1"),
            "ftdi_sio" => Some("ftdi_sio"),
            "cp210x" => Some("cp210x"),
            "ch341" => Some("ch341-uart"),
            _ => None,
        };
        if let Some(serial) = serial {
            self.mkdir(format!("bus/usb-serial/drivers/{serial}"));
        }
        self
    }

    /// Adds a device with its interfaces, ttys and net devices.
    pub fn device(&self, dev: &Device) -> &Self {
        let dir = Tree::device_dir(&dev.usb_path);
        self.write(dir.join("idVendor"), &format!("{:04x}", dev.vendor_id));
        self.write(dir.join("idProduct"), &format!("{:04x}", dev.product_id));
        self.write(
            dir.join("bDeviceClass"),
            &format!("{:02x}", dev.device_class),
        );
        for (name, value) in [
            ("manufacturer", &dev.manufacturer),
            ("product", &dev.product),
            ("serial", &dev.serial),
        ] {
            if let Some(value) = value {
                self.write(dir.join(name), value);
            }
        }
        let ifaces: Vec<(u8, u8, u8, u8)> = dev
            .interfaces
            .iter()
            .map(|i| (i.number, i.class, i.subclass, i.protocol))
            .collect();
        let descriptors = cellular_core::discovery::descriptors::build(
            dev.vendor_id,
            dev.product_id,
            dev.device_class,
            &ifaces,
        );
        fs::write(self.root.join(&dir).join("descriptors"), descriptors)
            .expect("write descriptors");
        self.link(format!("bus/usb/devices/{}", dev.usb_path), &dir);

        for iface in &dev.interfaces {
            let name = format!("{}:1.{}", dev.usb_path, iface.number);
            let idir = dir.join(&name);
            self.write(
                idir.join("bInterfaceNumber"),
                &format!("{:02x}", iface.number),
            );
            self.write(
                idir.join("bInterfaceClass"),
                &format!("{:02x}", iface.class),
            );
            self.write(
                idir.join("bInterfaceSubClass"),
                &format!("{:02x}", iface.subclass),
            );
            self.write(
                idir.join("bInterfaceProtocol"),
                &format!("{:02x}", iface.protocol),
            );
            self.write(
                idir.join("modalias"),
                &format!(
                    "usb:v{:04X}p{:04X}d0318dc{:02X}dsc00dp00ic{:02X}isc{:02X}ip{:02X}in{:02X}",
                    dev.vendor_id,
                    dev.product_id,
                    dev.device_class,
                    iface.class,
                    iface.subclass,
                    iface.protocol,
                    iface.number
                ),
            );
            self.link(format!("bus/usb/devices/{name}"), &idir);

            let Some(driver) = iface.driver else { continue };
            self.driver(driver);
            self.link(idir.join("driver"), format!("bus/usb/drivers/{driver}"));
            self.link(format!("bus/usb/drivers/{driver}/{name}"), &idir);
            if let Some(tty) = &iface.tty {
                let tty_dir = if driver == "cdc_acm" {
                    idir.join("tty").join(tty)
                } else {
                    idir.join(tty).join("tty").join(tty)
                };
                self.write(tty_dir.join("dev"), "188:0");
                self.link(format!("class/tty/{tty}"), &tty_dir);
            }
            if let Some(net) = &iface.net {
                let net_dir = idir.join("net").join(net);
                self.write(net_dir.join("ifindex"), "3");
                self.link(format!("class/net/{net}"), &net_dir);
            }
        }
        self
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// The path of `to` relative to directory `from` (both absolute, no `..`).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for part in &to[common..] {
        rel.push(part);
    }
    rel
}
