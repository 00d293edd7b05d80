//! USB tty discovery from sysfs, without libudev.
//!
//! [`scan`] walks `<root>/bus/usb/devices` (normally `/sys`) and reports every
//! USB device that has at least one vendor-class (`ff`) or CDC (`02`, `0a`)
//! interface: its ids and strings, each interface's class, driver, ttys and net
//! devices, the role of each serial interface and the two ttys a modem needs.
//!
//! # What is read
//!
//! ```text
//! bus/usb/devices/1-1.3            -> ../../../devices/.../usb1/1-1/1-1.3
//!     descriptors                  raw device + configuration descriptors:
//!                                  vid:pid and every interface's class,
//!                                  subclass and protocol in one read
//!     manufacturer, product, serial
//!     idVendor, idProduct          hex, "2c7c" (only without descriptors)
//! bus/usb/devices/1-1.3:1.2        -> .../1-1.3/1-1.3:1.2 (configuration 1, interface 2)
//!     modalias, bInterfaceNumber, bInterfaceClass, ...   (only without descriptors)
//!     driver                       -> .../bus/usb/drivers/option
//!     ttyUSB2/tty/ttyUSB2          usb-serial port
//!     tty/ttyACM0                  CDC-ACM port
//!     net/wwan0                    network device
//! bus/usb/drivers/<driver>/1-1.3:1.2   the interfaces each driver is bound to
//! class/tty/ttyUSB2, class/net/wwan0   -> the interface's tty and net devices
//! ```
//!
//! A scan reads the kernel's indexes once (`bus/usb/drivers/*`, `class/tty`,
//! `class/net`) and each device's `descriptors` and strings, rather than
//! several files per interface: a 200-device tree takes a few thousand
//! syscalls. Every source has a fallback to the per-interface files, so
//! partial trees still scan.
//!
//! Only names are taken from the tree: the kernel numbers ttys in probe order,
//! so a modem's ports are found wherever they landed (an FTDI adapter may hold
//! ttyUSB0 and push the modem to ttyUSB1..4).
//!
//! # Roles
//!
//! Each interface's role comes, in this order, from:
//! 1. a profile override `{vid, pid, interface, role}` passed in by Elixir;
//! 2. the generated port table (ModemManager's port-type rules);
//! 3. the driver: an interface bound to `qmi_wwan` is `qmi`;
//! 4. the interface-class fallback: CDC-ACM (02/02) ports are AT ports, and for
//!    Huawei (12d1) vendor-class ports ff/01/02 and ff/02/02 are AT, ff/0x/01 is
//!    PPP. The lowest-numbered fallback AT port becomes `at_primary` unless the
//!    device already has one; the others are `at_secondary`.
//!
//! # The AT and PPP ttys
//!
//! `at_tty` is the first tty of the `at_primary` interface (else of an
//! `at_secondary`, else of the `ppp` interface). `ppp_tty` is the tty of the
//! `ppp` interface, else another AT port (secondary first), so that signal and
//! status polling can continue on `at_tty` while PPP runs. Only when the modem
//! has a single usable AT port do both name the same tty. Interfaces without a
//! bound driver have no tty and are passed over.
//!
//! # Robustness
//!
//! Odd trees (missing files, non-hex values, dangling or looping links, FIFOs)
//! are skipped entry by entry; nothing here panics or recurses.

pub mod descriptors;
mod sysfs;
mod system;
pub mod table;

pub use sysfs::natural_cmp;
use sysfs::sort_natural;

/// The crate-private parsers of sysfs text, for the fuzz targets in
/// `native/fuzz` only (feature `fuzzing`). Not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use super::sysfs::{parse_hex, parse_modalias, Modalias};

    /// See `link_owner`: the interface a class device's link points under.
    pub fn link_owner(target: &[u8]) -> Option<&str> {
        super::link_owner(target)
    }

    /// See `config_and_number`: `"1-1.3:1.2"` → `(1, 2)`.
    pub fn config_and_number(name: &str) -> Option<(u8, u8)> {
        super::config_and_number(name)
    }
}
pub use system::{usb_system, HostController, Udc, UsbSystem};

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use sysfs::{
    link_name, list_dir, list_dir_unsorted, parse_modalias, read_attr, read_hex, Modalias, Reader,
};
use table::{ProvisionalRole, TableDevice};

/// The role of a modem's serial (or QMI) interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The main AT command port.
    AtPrimary,
    /// Another AT port.
    AtSecondary,
    /// The AT port to dial PPP on.
    Ppp,
    /// GPS NMEA output.
    Gps,
    /// Qualcomm diagnostics.
    Qcdm,
    /// PCM audio.
    Audio,
    /// The QMI control/network interface (wwan0).
    Qmi,
    /// Known, and not to be used.
    Ignore,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::AtPrimary,
        Role::AtSecondary,
        Role::Ppp,
        Role::Gps,
        Role::Qcdm,
        Role::Audio,
        Role::Qmi,
        Role::Ignore,
    ];

    /// The role's name, as in the port table and as an Elixir atom.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::AtPrimary => "at_primary",
            Role::AtSecondary => "at_secondary",
            Role::Ppp => "ppp",
            Role::Gps => "gps",
            Role::Qcdm => "qcdm",
            Role::Audio => "audio",
            Role::Qmi => "qmi",
            Role::Ignore => "ignore",
        }
    }

    /// Parses a role name (`"at_primary"`, ...).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether AT commands can be sent on this port.
    pub fn is_at(self) -> bool {
        matches!(self, Role::AtPrimary | Role::AtSecondary | Role::Ppp)
    }
}

/// A profile's override of one interface's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOverride {
    pub vendor_id: u16,
    pub product_id: u16,
    pub interface: u8,
    /// A [`Role`] name; unknown names are ignored.
    pub role: String,
}

/// One interface of a USB device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `bInterfaceNumber`
    pub number: u8,
    /// `bInterfaceClass`
    pub class: u8,
    /// `bInterfaceSubClass`, `None` when unreadable.
    pub subclass: Option<u8>,
    /// `bInterfaceProtocol`, `None` when unreadable.
    pub protocol: Option<u8>,
    /// The bound driver's name, `None` when no driver is bound.
    pub driver: Option<String>,
    /// tty names (`ttyUSB2`, `ttyACM0`).
    pub ttys: Vec<String>,
    /// Network device names (`wwan0`).
    pub net: Vec<String>,
    /// The interface's role, if known.
    pub role: Option<Role>,
}

/// A USB device with at least one vendor-class or CDC interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbDevice {
    /// The kernel's name for the device, e.g. `1-1.3` (bus 1, port 1, port 3).
    pub usb_path: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    /// Interfaces by number.
    pub interfaces: Vec<Interface>,
    /// The primary AT port.
    pub at_tty: Option<String>,
    /// The port to run PPP on.
    pub ppp_tty: Option<String>,
    /// The port table's entry for this vid:pid, if any.
    pub port_table: Option<&'static TableDevice>,
}

/// Scans `root` (normally `/sys`) for USB devices with vendor-class or CDC
/// interfaces, ordered by `usb_path` (naturally: `1-1.2` before `1-1.10`).
pub fn scan_devices(root: &Path, overrides: &[RoleOverride]) -> Vec<UsbDevice> {
    let dir = root.join("bus/usb/devices");
    let names = list_dir_unsorted(&dir);

    let mut interfaces: Interfaces = HashMap::default();
    let mut devices: Vec<&str> = Vec::new();
    let mut root_hubs: HashMap<&str, PathBuf> = HashMap::default();
    for name in &names {
        match name.split_once(':') {
            Some((device, _)) => interfaces.entry(device).or_default().push(name),
            None if is_root_hub(name) => {
                if let Some(bus) = name.strip_prefix("usb") {
                    root_hubs.insert(bus, resolve(&dir, name));
                }
            }
            None => devices.push(name),
        }
    }
    if devices.is_empty() {
        return Vec::new();
    }
    sort_natural(&mut devices);

    // Two kinds of work: the kernel's indexes (drivers, class/tty,
    // class/net) and each device's own files. From `PARALLEL_FROM` devices
    // on, a helper thread builds the indexes and then joins in reading
    // devices, both threads taking the next unread device from a shared
    // counter, so the two cores finish together whatever the mix.
    let next = AtomicUsize::new(0);
    let read_devices = || {
        let mut reader = Reader::default();
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(name) = devices.get(i) else {
                break;
            };
            let ifaces = interfaces.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let nested = nested_path(&root_hubs, name);
            if let Some(raw) = read_raw(&mut reader, &dir, name, nested, ifaces) {
                out.push((i, raw));
            }
        }
        out
    };
    let (mut index, mut raw) = if devices.len() >= PARALLEL_FROM {
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("vnc-discovery".into())
                .spawn_scoped(scope, || (Index::build(root, &interfaces), read_devices()));
            let mut raw = read_devices();
            match helper.map(|h| h.join()) {
                Ok(Ok((index, more))) => {
                    raw.extend(more);
                    (index, raw)
                }
                // The helper couldn't start: this thread has read every
                // device already, only the indexes are left.
                Err(_) => (Index::build(root, &interfaces), raw),
                // The helper failed part-way (it can't, but then the
                // devices it took are unknown): start over on this thread.
                Ok(Err(_)) => {
                    next.store(0, Ordering::Relaxed);
                    (Index::build(root, &interfaces), read_devices())
                }
            }
        })
    } else {
        (Index::build(root, &interfaces), read_devices())
    };
    raw.sort_unstable_by_key(|(i, _)| *i);

    raw.into_iter()
        .map(|(_, device)| finish(device, &mut index, overrides))
        .collect()
}

/// From this many devices on, the indexes are read on a second thread.
const PARALLEL_FROM: usize = 8;

fn is_root_hub(name: &str) -> bool {
    name.strip_prefix("usb")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_modem_class(class: u8) -> bool {
    matches!(class, 0xff | 0x02 | 0x0a)
}

/// Which interface has which driver, ttys and net devices, gathered once per
/// scan from the kernel's own indexes instead of one directory per interface:
///
/// - `bus/usb/drivers/<driver>/` holds a link named after every interface the
///   driver is bound to (`1-1.3:1.2`);
/// - `class/tty/<tty>` and `class/net/<dev>` link to
///   `.../1-1.3:1.2/ttyUSB2/tty/ttyUSB2`, `.../1-1.3:1.0/tty/ttyACM0` and
///   `.../1-1.3:1.4/net/wwan0`: the interface is the last path component with
///   a colon.
///
/// This keeps a 200-device scan to a few thousand syscalls. Where an index is
/// missing (a partial tree), the interface's own `driver` link and directory
/// are read instead.
///
/// Only interfaces listed in `bus/usb/devices` are ever looked up, so the
/// maps keep just those, keyed by the names borrowed from that listing.
struct Index<'a> {
    /// Interface name → position in `driver_names`.
    drivers: HashMap<&'a str, usize>,
    driver_names: Vec<String>,
    ttys: Option<HashMap<&'a str, Vec<String>>>,
    net: Option<HashMap<&'a str, Vec<String>>>,
}

/// Device name → the names of its interfaces, as listed in `bus/usb/devices`.
type Interfaces<'a> = HashMap<&'a str, Vec<&'a str>>;

/// The listed interface called `name`, borrowed from the listing.
fn known<'a>(interfaces: &Interfaces<'a>, name: &str) -> Option<&'a str> {
    let (device, _) = name.split_once(':')?;
    interfaces
        .get(device)?
        .iter()
        .find(|&&iface| iface == name)
        .copied()
}

impl<'a> Index<'a> {
    fn build(root: &Path, interfaces: &Interfaces<'a>) -> Index<'a> {
        let mut dir = root.join("bus/usb/drivers");
        let driver_names = list_dir(&dir);
        let mut drivers = HashMap::default();
        for (i, driver) in driver_names.iter().enumerate() {
            dir.push(driver);
            for entry in list_dir_unsorted(&dir) {
                if let Some(name) = known(interfaces, &entry) {
                    drivers.entry(name).or_insert(i);
                }
            }
            dir.pop();
        }
        Index {
            drivers,
            driver_names,
            ttys: class_links(&root.join("class/tty"), interfaces),
            net: class_links(&root.join("class/net"), interfaces),
        }
    }
}

/// Maps interface names to the class devices under them; `None` when the
/// class directory can't be read.
fn class_links<'a>(
    dir: &Path,
    interfaces: &Interfaces<'a>,
) -> Option<HashMap<&'a str, Vec<String>>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut map: HashMap<&'a str, Vec<String>> = HashMap::default();
    // One path buffer for every link, instead of a new one per entry.
    let mut link = dir.to_path_buf();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        link.push(&name);
        let target = std::fs::read_link(&link);
        link.pop();
        let Ok(target) = target else {
            continue;
        };
        let owner = link_owner(target.as_os_str().as_encoded_bytes())
            .and_then(|owner| known(interfaces, owner));
        if let Some(owner) = owner {
            map.entry(owner).or_default().push(name);
        }
    }
    for names in map.values_mut() {
        if names.len() > 1 {
            sort_natural(names);
        }
    }
    Some(map)
}

/// The last UTF-8 component of a link target that contains a colon: the
/// interface (`1-1.3:1.2`) a class device sits under.
fn link_owner(target: &[u8]) -> Option<&str> {
    target
        .rsplit(|&b| b == b'/')
        .filter(|c| c.contains(&b':'))
        .find_map(|c| std::str::from_utf8(c).ok())
}

/// The scan's maps, keyed by short sysfs names: FNV-1a hashes them several
/// times faster than the default SipHash, and the keys come from the kernel's
/// own directory names, not from a network peer.
type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;

#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The real directory behind `dir/name` (a root hub, or a device that isn't
/// where [`nested_path`] looks), resolved once so that the attribute reads
/// below don't each follow the `bus/usb/devices` symlink (which doubles the
/// cost of an `open` on a deep tree). The link's relative
/// target is applied lexically, as the kernel's links into `devices/` allow.
fn resolve(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    let Ok(target) = std::fs::read_link(&link) else {
        return link;
    };
    let mut real = PathBuf::with_capacity(dir.as_os_str().len() + target.as_os_str().len() + 1);
    if !target.is_absolute() {
        real.push(dir);
    }
    for part in target.components() {
        match part {
            Component::ParentDir => {
                real.pop();
            }
            Component::CurDir => {}
            other => real.push(other),
        }
    }
    real
}

/// Where the kernel keeps device `name` (`<bus>-<port>[.<port>]...`): in
/// its parent hub's directory, down from root hub `usb<bus>` (`root_hubs`
/// maps the bus number to the root hub's directory), e.g.
/// `<usb1>/1-1/1-1.3` for `1-1.3`. Only the root hubs' links need reading,
/// instead of one link per device. `None` for names of another shape.
fn nested_path(root_hubs: &HashMap<&str, PathBuf>, name: &str) -> Option<PathBuf> {
    let (bus, ports) = name.split_once('-')?;
    if bus.is_empty()
        || !bus.bytes().all(|b| b.is_ascii_digit())
        || ports.is_empty()
        || !ports.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    let root = root_hubs.get(bus)?;
    let mut path = PathBuf::with_capacity(root.as_os_str().len() + 4 * name.len());
    path.push(root);
    for (i, b) in name.bytes().enumerate() {
        if b == b'.' {
            path.push(name.get(..i)?);
        }
    }
    path.push(name);
    Some(path)
}

/// What a device's own files say, read before the indexes are needed.
struct RawDevice<'a> {
    name: &'a str,
    base: PathBuf,
    vendor_id: u16,
    product_id: u16,
    manufacturer: Option<String>,
    product: Option<String>,
    serial: Option<String>,
    /// Interface name, classes, and its directory when it isn't `base/<name>`.
    interfaces: Vec<(&'a str, Classes, Option<PathBuf>)>,
}

/// Reads a device's descriptors (or per-interface files) and strings. `None`
/// when it has no vendor-class or CDC interface or its ids can't be read.
///
/// `nested` is where the device should be (see [`nested_path`]); when no
/// `descriptors` can be read there, the device's link is followed instead.
fn read_raw<'a>(
    reader: &mut Reader,
    dir: &Path,
    name: &'a str,
    nested: Option<PathBuf>,
    interface_names: &[&'a str],
) -> Option<RawDevice<'a>> {
    let mut read_descriptors = |base: &Path| {
        reader
            .bytes(base, "descriptors", MAX_DESCRIPTORS)
            .and_then(descriptors::parse)
    };
    let (base, descriptors) = match nested.map(|base| {
        let descriptors = read_descriptors(&base);
        (base, descriptors)
    }) {
        Some((base, Some(descriptors))) => (base, Some(descriptors)),
        _ => {
            let base = resolve(dir, name);
            let descriptors = read_descriptors(&base);
            (base, descriptors)
        }
    };
    let mut ids = descriptors.as_ref().map(|d| (d.vendor_id, d.product_id));

    let mut interfaces = Vec::with_capacity(interface_names.len());
    for &iface in interface_names {
        let from_descriptors = descriptors
            .as_ref()
            .zip(config_and_number(iface))
            .and_then(|(d, (config, number))| d.interface(config, number))
            .map(|i| (i.number, i.class, Some(i.subclass), Some(i.protocol)));
        if let Some(classes) = from_descriptors {
            interfaces.push((iface, classes, None));
            continue;
        }
        // Interfaces are subdirectories of their device; fall back to the
        // bus/usb/devices link for trees laid out otherwise.
        let (classes, modalias, path) = match interface_classes(&base.join(iface)) {
            Some((classes, modalias)) => (classes, modalias, None),
            None => {
                let path = dir.join(iface);
                match interface_classes(&path) {
                    Some((classes, modalias)) => (classes, modalias, Some(path)),
                    None => continue,
                }
            }
        };
        if let Some(m) = modalias {
            ids.get_or_insert((m.vendor_id, m.product_id));
        }
        interfaces.push((iface, classes, path));
    }
    if !interfaces
        .iter()
        .any(|(_, (_, class, _, _), _)| is_modem_class(*class))
    {
        return None;
    }

    let (vendor_id, product_id) = match ids {
        Some(ids) => ids,
        None => (
            u16::try_from(reader.hex(&base, "idVendor")?).ok()?,
            u16::try_from(reader.hex(&base, "idProduct")?).ok()?,
        ),
    };

    Some(RawDevice {
        name,
        vendor_id,
        product_id,
        manufacturer: reader.string(&base, "manufacturer"),
        product: reader.string(&base, "product"),
        serial: reader.string(&base, "serial"),
        interfaces,
        base,
    })
}

/// Completes a device with drivers, ttys and net devices, roles and its two ttys.
fn finish(raw: RawDevice, index: &mut Index, overrides: &[RoleOverride]) -> UsbDevice {
    let mut interfaces: Vec<Interface> = raw
        .interfaces
        .into_iter()
        .map(|(name, classes, path)| interface(&raw.base, path, name, classes, index))
        .collect();
    // Interface numbers are unique within a configuration; the dedup only
    // guards against a malformed tree. Unstable sorts throughout this crate:
    // each stable-sort instance costs the shipped files ~4 KB more code.
    interfaces.sort_unstable_by_key(|i| i.number);
    interfaces.dedup_by_key(|i| i.number);

    assign_roles(raw.vendor_id, raw.product_id, &mut interfaces, overrides);
    let (at_tty, ppp_tty) = pick_ttys(&interfaces);

    UsbDevice {
        usb_path: raw.name.to_owned(),
        vendor_id: raw.vendor_id,
        product_id: raw.product_id,
        manufacturer: raw.manufacturer,
        product: raw.product,
        serial: raw.serial,
        interfaces,
        at_tty,
        ppp_tty,
        port_table: table::device(raw.vendor_id, raw.product_id),
    }
}

/// A USB configuration's descriptors are at most 64 KiB.
const MAX_DESCRIPTORS: usize = 18 + 65_535;

/// `"1-1.3:1.2"` → `(1, 2)`: the kernel names interfaces
/// `<bus>-<ports>:<configuration>.<interface>`, both in decimal.
fn config_and_number(name: &str) -> Option<(u8, u8)> {
    let (_, suffix) = name.rsplit_once(':')?;
    let (config, number) = suffix.split_once('.')?;
    Some((config.parse().ok()?, number.parse().ok()?))
}

fn read_u8(path: &Path) -> Option<u8> {
    u8::try_from(read_hex(path)?).ok()
}

type Classes = (u8, u8, Option<u8>, Option<u8>);

/// An interface's number and classes from its `modalias` (one read), else
/// from its `bInterfaceNumber`, `bInterfaceClass`, ... files.
fn interface_classes(path: &Path) -> Option<(Classes, Option<Modalias>)> {
    let modalias = read_attr(&path.join("modalias")).and_then(|m| parse_modalias(&m));
    let classes = match modalias {
        Some(m) => (m.number, m.class, Some(m.subclass), Some(m.protocol)),
        None => (
            read_u8(&path.join("bInterfaceNumber"))?,
            read_u8(&path.join("bInterfaceClass"))?,
            read_u8(&path.join("bInterfaceSubClass")),
            read_u8(&path.join("bInterfaceProtocol")),
        ),
    };
    Some((classes, modalias))
}

/// Completes an interface with its driver, ttys and net devices: from the
/// indexes, else from its own directory (`path`, or `base/<name>`).
fn interface(
    base: &Path,
    path: Option<PathBuf>,
    name: &str,
    classes: Classes,
    index: &mut Index,
) -> Interface {
    let (number, class, subclass, protocol) = classes;
    let dir = || path.clone().unwrap_or_else(|| base.join(name));

    let driver = match index.drivers.get(name) {
        Some(&i) => index.driver_names.get(i).cloned(),
        None => link_name(&dir().join("driver")),
    };

    // Each interface name is looked up once per scan, so its lists are
    // moved out of the index rather than copied.
    let (ttys, net) = match (&mut index.ttys, &mut index.net) {
        (Some(ttys), Some(net)) => (
            ttys.remove(name).unwrap_or_default(),
            net.remove(name).unwrap_or_default(),
        ),
        _ => list_class_devices(&dir()),
    };

    Interface {
        number,
        class,
        subclass,
        protocol,
        driver,
        ttys,
        net,
        role: None,
    }
}

/// The ttys and net devices under an interface directory (the slow path, for
/// trees without `class/tty` or `class/net`).
fn list_class_devices(path: &Path) -> (Vec<String>, Vec<String>) {
    let mut ttys = Vec::new();
    let mut net = Vec::new();
    for entry in list_dir(path) {
        match entry.as_str() {
            // CDC-ACM and other tty class devices: <iface>/tty/ttyACM0
            "tty" => ttys.extend(list_dir(&path.join("tty"))),
            "net" => net.extend(list_dir(&path.join("net"))),
            // usb-serial ports: <iface>/ttyUSB2/tty/ttyUSB2
            name if name.len() > 3 && name.starts_with("tty") => ttys.push(entry),
            _ => {}
        }
    }
    sort_natural(&mut ttys);
    (ttys, net)
}

fn assign_roles(
    vendor_id: u16,
    product_id: u16,
    interfaces: &mut [Interface],
    overrides: &[RoleOverride],
) {
    let mut provisional: Vec<(usize, ProvisionalRole)> = Vec::new();

    for (index, iface) in interfaces.iter_mut().enumerate() {
        let role = override_role(overrides, vendor_id, product_id, iface.number)
            .or_else(|| table::role(vendor_id, product_id, iface.number))
            .or_else(|| (iface.driver.as_deref() == Some("qmi_wwan")).then_some(Role::Qmi));
        if role.is_some() {
            iface.role = role;
            continue;
        }
        if let (Some(subclass), Some(protocol)) = (iface.subclass, iface.protocol) {
            if let Some(p) = table::class_role(vendor_id, iface.class, subclass, protocol) {
                provisional.push((index, p));
            }
        }
    }

    let mut have_primary = interfaces.iter().any(|i| i.role == Some(Role::AtPrimary));
    for (index, provisional_role) in provisional {
        let role = match provisional_role {
            ProvisionalRole::Ppp => Role::Ppp,
            ProvisionalRole::At if !have_primary => {
                have_primary = true;
                Role::AtPrimary
            }
            ProvisionalRole::At => Role::AtSecondary,
        };
        if let Some(iface) = interfaces.get_mut(index) {
            iface.role = Some(role);
        }
    }
}

fn override_role(
    overrides: &[RoleOverride],
    vendor_id: u16,
    product_id: u16,
    interface: u8,
) -> Option<Role> {
    overrides
        .iter()
        .find(|o| {
            o.vendor_id == vendor_id && o.product_id == product_id && o.interface == interface
        })
        .and_then(|o| Role::parse(&o.role))
}

fn first_tty(interfaces: &[Interface], role: Role) -> Option<&String> {
    interfaces
        .iter()
        .filter(|i| i.role == Some(role))
        .find_map(|i| i.ttys.first())
}

fn pick_ttys(interfaces: &[Interface]) -> (Option<String>, Option<String>) {
    let at = first_tty(interfaces, Role::AtPrimary)
        .or_else(|| first_tty(interfaces, Role::AtSecondary))
        .or_else(|| first_tty(interfaces, Role::Ppp));
    let Some(at) = at else {
        return (None, None);
    };
    let ppp = [Role::Ppp, Role::AtSecondary, Role::AtPrimary]
        .into_iter()
        .flat_map(|role| interfaces.iter().filter(move |i| i.role == Some(role)))
        .filter_map(|i| i.ttys.first())
        .find(|tty| *tty != at)
        .unwrap_or(at);
    (Some(at.clone()), Some(ppp.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(number: u8, class: u8, sub: u8, proto: u8, ttys: &[&str]) -> Interface {
        Interface {
            number,
            class,
            subclass: Some(sub),
            protocol: Some(proto),
            driver: Some("option".into()),
            ttys: ttys.iter().map(|s| s.to_string()).collect(),
            net: vec![],
            role: None,
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("modem"), None);
        assert!(Role::Ppp.is_at());
        assert!(!Role::Gps.is_at());
    }

    #[test]
    fn table_roles_and_two_at_ports() {
        let mut ifs = vec![
            iface(0, 0xff, 0xff, 0xff, &["ttyUSB0"]),
            iface(1, 0xff, 0, 0, &["ttyUSB1"]),
            iface(2, 0xff, 0, 0, &["ttyUSB2"]),
            iface(3, 0xff, 0, 0, &["ttyUSB3"]),
        ];
        assign_roles(0x2c7c, 0x0125, &mut ifs, &[]);
        let roles: Vec<_> = ifs.iter().map(|i| i.role).collect();
        assert_eq!(
            roles,
            vec![
                Some(Role::Qcdm),
                Some(Role::Gps),
                Some(Role::AtPrimary),
                Some(Role::AtSecondary)
            ]
        );
        assert_eq!(
            pick_ttys(&ifs),
            (Some("ttyUSB2".into()), Some("ttyUSB3".into()))
        );
    }

    #[test]
    fn one_at_port_serves_both() {
        let mut ifs = vec![
            iface(2, 0xff, 0, 0, &["ttyUSB7"]),
            iface(3, 0xff, 0, 0, &[]),
        ];
        assign_roles(0x2c7c, 0x0125, &mut ifs, &[]);
        assert_eq!(
            pick_ttys(&ifs),
            (Some("ttyUSB7".into()), Some("ttyUSB7".into()))
        );
    }

    #[test]
    fn ppp_role_wins_over_secondary() {
        let mut ifs = vec![
            iface(2, 0xff, 0, 0, &["ttyUSB2"]),
            iface(3, 0xff, 0, 0, &["ttyUSB3"]),
            iface(4, 0xff, 0, 0, &["ttyUSB4"]),
        ];
        let overrides = [
            RoleOverride {
                vendor_id: 0x1234,
                product_id: 0x5678,
                interface: 2,
                role: "at_primary".into(),
            },
            RoleOverride {
                vendor_id: 0x1234,
                product_id: 0x5678,
                interface: 3,
                role: "at_secondary".into(),
            },
            RoleOverride {
                vendor_id: 0x1234,
                product_id: 0x5678,
                interface: 4,
                role: "ppp".into(),
            },
        ];
        assign_roles(0x1234, 0x5678, &mut ifs, &overrides);
        assert_eq!(
            pick_ttys(&ifs),
            (Some("ttyUSB2".into()), Some("ttyUSB4".into()))
        );
    }

    #[test]
    fn unknown_override_roles_are_ignored() {
        let mut ifs = vec![iface(2, 0xff, 0, 0, &["ttyUSB2"])];
        let overrides = [RoleOverride {
            vendor_id: 0x2c7c,
            product_id: 0x0125,
            interface: 2,
            role: "bogus".into(),
        }];
        assign_roles(0x2c7c, 0x0125, &mut ifs, &overrides);
        assert_eq!(ifs[0].role, Some(Role::AtPrimary));
    }

    #[test]
    fn cdc_acm_fallback_numbers_at_ports() {
        let mut ifs = vec![
            iface(0, 0x02, 0x02, 0x01, &["ttyACM0"]),
            iface(1, 0x0a, 0, 0, &[]),
            iface(2, 0x02, 0x02, 0x01, &["ttyACM1"]),
            iface(4, 0x02, 0x02, 0x01, &["ttyACM2"]),
            iface(6, 0x02, 0x02, 0x01, &["ttyACM3"]),
        ];
        // u-blox LARA-R2: the table only says 06 is ignored.
        assign_roles(0x1546, 0x110a, &mut ifs, &[]);
        let roles: Vec<_> = ifs.iter().map(|i| i.role).collect();
        assert_eq!(
            roles,
            vec![
                Some(Role::AtPrimary),
                None,
                Some(Role::AtSecondary),
                Some(Role::AtSecondary),
                Some(Role::Ignore)
            ]
        );
        assert_eq!(
            pick_ttys(&ifs),
            (Some("ttyACM0".into()), Some("ttyACM1".into()))
        );
    }

    #[test]
    fn huawei_class_rules() {
        let mut ifs = vec![
            iface(0, 0xff, 0x02, 0x01, &["ttyUSB0"]),
            iface(1, 0xff, 0x02, 0x16, &[]),
            iface(2, 0xff, 0x02, 0x02, &["ttyUSB1"]),
        ];
        assign_roles(0x12d1, 0x1506, &mut ifs, &[]);
        assert_eq!(ifs[0].role, Some(Role::Ppp));
        assert_eq!(ifs[1].role, None);
        assert_eq!(ifs[2].role, Some(Role::AtPrimary));
        assert_eq!(
            pick_ttys(&ifs),
            (Some("ttyUSB1".into()), Some("ttyUSB0".into()))
        );
    }

    #[test]
    fn no_at_port_means_no_ttys() {
        let mut ifs = vec![iface(0, 0xff, 0xff, 0xff, &["ttyUSB0"])];
        assign_roles(0x0403, 0x6001, &mut ifs, &[]);
        assert_eq!(ifs[0].role, None);
        assert_eq!(pick_ttys(&ifs), (None, None));
    }

    #[test]
    fn nested_paths_follow_the_hub_chain() {
        let mut roots: HashMap<&str, PathBuf> = HashMap::default();
        roots.insert("1", PathBuf::from("/sys/devices/hcd/usb1"));
        assert_eq!(
            nested_path(&roots, "1-1.3.2"),
            Some(PathBuf::from("/sys/devices/hcd/usb1/1-1/1-1.3/1-1.3.2"))
        );
        assert_eq!(
            nested_path(&roots, "1-4"),
            Some(PathBuf::from("/sys/devices/hcd/usb1/1-4"))
        );
        assert_eq!(nested_path(&roots, "2-1"), None);
        assert_eq!(nested_path(&roots, "1-"), None);
        assert_eq!(nested_path(&roots, "-1"), None);
        assert_eq!(nested_path(&roots, "1-1/../x"), None);
        assert_eq!(nested_path(&roots, "usb1"), None);
    }

    #[test]
    fn link_owner_is_the_last_component_with_a_colon() {
        assert_eq!(
            link_owner(b"../../devices/usb1/1-1/1-1.3/1-1.3:1.2/ttyUSB2/tty/ttyUSB2"),
            Some("1-1.3:1.2")
        );
        assert_eq!(link_owner(b"../../devices/virtual/tty/tty0"), None);
        // A component that isn't UTF-8 is passed over.
        assert_eq!(link_owner(b"x/a:b/\xff:c/d"), Some("a:b"));
    }

    #[test]
    fn root_hub_names() {
        assert!(is_root_hub("usb1"));
        assert!(is_root_hub("usb12"));
        assert!(!is_root_hub("usb"));
        assert!(!is_root_hub("usbx"));
        assert!(!is_root_hub("1-1"));
    }
}
