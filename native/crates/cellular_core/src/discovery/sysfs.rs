//! Small, panic-free helpers to read sysfs-shaped trees.
//!
//! Every helper returns `None` (or an empty list) for anything odd: a missing
//! file, a dangling or looping symlink, non-UTF-8 text, non-hex numbers, a
//! FIFO or a device node where an attribute should be. Nothing here recurses,
//! so symlink loops can't trap a scan.

use std::cmp::Ordering;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

/// sysfs attributes are at most a page; anything longer is cut here.
const MAX_ATTR: usize = 4096;

// O_NONBLOCK, so that opening a FIFO planted where an attribute should be
// returns at once instead of waiting for a writer.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const O_NONBLOCK: i32 = 0x80;
#[cfg(any(target_arch = "sparc", target_arch = "sparc64"))]
const O_NONBLOCK: i32 = 0x4000;
#[cfg(not(any(
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
const O_NONBLOCK: i32 = 0o4000;

fn open(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .ok()
}

/// Reads attributes with one reusable path and buffer, for the hot path of a
/// scan (thousands of reads, each otherwise allocating a path and a buffer).
pub struct Reader {
    path: PathBuf,
    buf: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            path: PathBuf::with_capacity(256),
            buf: vec![0; MAX_ATTR],
        }
    }
}

impl Reader {
    fn open(&mut self, dir: &Path, name: &str) -> Option<File> {
        self.path.clear();
        self.path.push(dir);
        self.path.push(name);
        open(&self.path)
    }

    /// `dir/name` as text without trailing newlines (see [`read_attr`]).
    pub fn attr(&mut self, dir: &Path, name: &str) -> Option<String> {
        let mut file = self.open(dir, name)?;
        let buf = self.buf.get_mut(..MAX_ATTR)?;
        let len = read_once(&mut file, buf)?;
        let text = std::str::from_utf8(buf.get(..len)?).ok()?;
        Some(text.trim_end_matches(['\n', '\r']).to_owned())
    }

    /// `dir/name` as text, `None` when blank (see [`read_string`]).
    pub fn string(&mut self, dir: &Path, name: &str) -> Option<String> {
        self.attr(dir, name).filter(|s| !s.trim().is_empty())
    }

    /// `dir/name` as hex (see [`read_hex`]).
    pub fn hex(&mut self, dir: &Path, name: &str) -> Option<u32> {
        parse_hex(&self.attr(dir, name)?)
    }

    /// `dir/name` as bytes, at most `limit` of them (a read that returns less than asked for is taken as the end:
    /// regular files and sysfs attributes behave so, and it saves the read
    /// that would only confirm the end).
    pub fn bytes(&mut self, dir: &Path, name: &str, limit: usize) -> Option<&[u8]> {
        let mut file = self.open(dir, name)?;
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                if len >= limit {
                    break;
                }
                self.buf.resize((len * 2).min(limit), 0);
            }
            let want = self.buf.len() - len;
            let n = read_once(&mut file, self.buf.get_mut(len..)?)?;
            len += n;
            if n == 0 || n < want {
                break;
            }
        }
        self.buf.get(..len.min(limit))
    }
}

/// One `read`, retried on EINTR.
fn read_once(file: &mut File, buf: &mut [u8]) -> Option<usize> {
    loop {
        match file.read(buf) {
            Ok(n) => return Some(n),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Reads a text attribute, without its trailing newline. `None` when missing,
/// unreadable or not UTF-8. Other bytes are kept as they are.
///
/// One `read` call: sysfs hands out a whole attribute (at most a page) at once,
/// and a scan reads thousands of them, so the usual read-until-EOF loop would
/// double the syscalls. Longer contents are cut at 4096 bytes.
pub fn read_attr(path: &Path) -> Option<String> {
    let mut file = open(path)?;
    let mut buf = [0u8; MAX_ATTR];
    let len = loop {
        match file.read(&mut buf) {
            Ok(len) => break len,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    };
    let mut text = String::from_utf8(buf.get(..len)?.to_vec()).ok()?;
    while text.ends_with('\n') || text.ends_with('\r') {
        text.pop();
    }
    Some(text)
}

/// Reads a text attribute and treats an empty or all-blank value as missing.
pub fn read_string(path: &Path) -> Option<String> {
    read_attr(path).filter(|s| !s.trim().is_empty())
}

/// Reads a hexadecimal attribute (`idVendor`, `bInterfaceNumber`, ...).
pub fn read_hex(path: &Path) -> Option<u32> {
    parse_hex(&read_attr(path)?)
}

/// Parses 1 to 8 hex digits, surrounding blanks allowed.
pub fn parse_hex(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || text.len() > 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// The fields of a USB interface's `modalias`
/// (`usb:v2C7Cp0125d0318dc00dsc00dp00icFFisc00ip00in02`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modalias {
    pub vendor_id: u16,
    pub product_id: u16,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
    pub number: u8,
}

/// Parses an interface `modalias`; `None` unless every field is present and hex.
pub fn parse_modalias(text: &str) -> Option<Modalias> {
    let mut rest = text.trim().strip_prefix("usb:")?;
    let mut field = |tag: &str, digits: usize| -> Option<u32> {
        let after = rest.strip_prefix(tag)?;
        let value = after.get(..digits)?;
        rest = after.get(digits..)?;
        parse_hex(value)
    };
    let vendor_id = field("v", 4)?;
    let product_id = field("p", 4)?;
    field("d", 4)?;
    field("dc", 2)?;
    field("dsc", 2)?;
    field("dp", 2)?;
    let class = field("ic", 2)?;
    let subclass = field("isc", 2)?;
    let protocol = field("ip", 2)?;
    let number = field("in", 2)?;
    Some(Modalias {
        vendor_id: u16::try_from(vendor_id).ok()?,
        product_id: u16::try_from(product_id).ok()?,
        class: u8::try_from(class).ok()?,
        subclass: u8::try_from(subclass).ok()?,
        protocol: u8::try_from(protocol).ok()?,
        number: u8::try_from(number).ok()?,
    })
}

/// The last component of a symlink's target (`driver` → `"option"`).
pub fn link_name(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    let name = target.file_name()?.to_str()?;
    if name.is_empty() || name == ".." || name == "." {
        return None;
    }
    Some(name.to_owned())
}

/// The UTF-8 entry names of a directory, in natural order. Empty when the
/// directory can't be read.
pub fn list_dir(path: &Path) -> Vec<String> {
    let mut names = list_dir_unsorted(path);
    sort_natural(&mut names);
    names
}

/// The UTF-8 entry names of a directory, in the order the filesystem gives.
pub fn list_dir_unsorted(path: &Path) -> Vec<String> {
    match fs::read_dir(path) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Sorts names in [`natural_cmp`] order. One function for every list of
/// names, so the sort is compiled once per element type (`String`, `&str`),
/// not once per call site. Unstable, which costs less code than std's stable
/// sort and loses nothing: [`natural_cmp`] is `Equal` only for equal bytes.
#[inline(never)]
pub fn sort_natural<S: AsRef<str>>(names: &mut [S]) {
    names.sort_unstable_by(|a, b| natural_cmp(a.as_ref(), b.as_ref()));
}

/// Compares names so that embedded numbers sort by value: `ttyUSB2` before
/// `ttyUSB10`, `1-1.2` before `1-1.10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (na, ra) = split_digits(a);
                let (nb, rb) = split_digits(b);
                let ord = cmp_digit_runs(na, nb);
                if ord != Ordering::Equal {
                    return ord;
                }
                a = ra;
                b = rb;
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    s.split_at(n)
}

fn cmp_digit_runs(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (ta, tb) = (&a[strip(a)..], &b[strip(b)..]);
    ta.len()
        .cmp(&tb.len())
        .then_with(|| ta.cmp(tb))
        .then_with(|| a.len().cmp(&b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing_is_strict() {
        assert_eq!(parse_hex("2c7c\n"), Some(0x2c7c));
        assert_eq!(parse_hex(" ff "), Some(0xff));
        assert_eq!(parse_hex("02"), Some(2));
        assert_eq!(parse_hex(""), None);
        assert_eq!(parse_hex("0x12"), None);
        assert_eq!(parse_hex("12g"), None);
        assert_eq!(parse_hex("123456789"), None);
        assert_eq!(parse_hex("-1"), None);
    }

    #[test]
    fn modalias_parsing() {
        let m = parse_modalias("usb:v2C7Cp0125d0318dc00dsc00dp00icFFisc00ip00in02\n")
            .expect("modalias");
        assert_eq!(
            m,
            Modalias {
                vendor_id: 0x2c7c,
                product_id: 0x0125,
                class: 0xff,
                subclass: 0,
                protocol: 0,
                number: 2
            }
        );
        // A device (not interface) modalias, truncated and malformed ones.
        assert_eq!(parse_modalias("usb:v2C7Cp0125d0318dc00dsc00dp00"), None);
        assert_eq!(
            parse_modalias("usb:v2C7Cp0125d0318dc00dsc00dp00icFFisc00ip00in"),
            None
        );
        assert_eq!(
            parse_modalias("usb:vXXXXp0125d0318dc00dsc00dp00icFFisc00ip00in02"),
            None
        );
        assert_eq!(parse_modalias("pci:v00008086d00001234"), None);
        assert_eq!(
            parse_modalias("usb:v2C7Cp0125d0318dc00dsc00dp00icFFisc00ip00in0é"),
            None
        );
        assert_eq!(parse_modalias(""), None);
    }

    #[test]
    fn natural_order() {
        let mut names = vec![
            "ttyUSB10", "ttyUSB2", "ttyUSB1", "ttyACM0", "1-1.10", "1-1.2", "1-1",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec!["1-1", "1-1.2", "1-1.10", "ttyACM0", "ttyUSB1", "ttyUSB2", "ttyUSB10"]
        );
        assert_eq!(natural_cmp("a01", "a1"), Ordering::Greater);
        assert_eq!(natural_cmp("a1", "a1"), Ordering::Equal);
        assert_eq!(natural_cmp("", "a"), Ordering::Less);
    }

    #[test]
    fn reader_matches_the_free_functions() {
        let dir = std::env::temp_dir().join(format!("vnc-sysfs-reader-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("id"), "2c7c\n").unwrap();
        fs::write(dir.join("blank"), " \n").unwrap();
        fs::write(dir.join("long"), "y".repeat(9000)).unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.join("bin"), &data).unwrap();
        let mut r = Reader::default();
        for name in ["id", "blank", "long", "missing"] {
            let path = dir.join(name);
            assert_eq!(r.attr(&dir, name), read_attr(&path), "{name}");
            assert_eq!(r.string(&dir, name), read_string(&path), "{name}");
            assert_eq!(r.hex(&dir, name), read_hex(&path), "{name}");
        }
        assert_eq!(r.bytes(&dir, "bin", 1 << 16), Some(&data[..]));
        assert_eq!(r.bytes(&dir, "bin", 5000).map(<[u8]>::len), Some(5000));
        assert_eq!(r.bytes(&dir, "id", 100), Some(&b"2c7c\n"[..]));
        assert_eq!(r.bytes(&dir, "missing", 100), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_things_are_none() {
        let nowhere = Path::new("/nonexistent/vintage_net_cellular/attr");
        assert_eq!(read_attr(nowhere), None);
        assert_eq!(read_hex(nowhere), None);
        assert_eq!(link_name(nowhere), None);
        assert!(list_dir(nowhere).is_empty());
    }
}
