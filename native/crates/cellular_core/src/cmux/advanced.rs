//! Byte transparency of the advanced option (27.010 §5.2.7.1).
//!
//! Advanced-mode frames are delimited by [`FLAG`] (`0x7E`) and carry no
//! length field, so a flag, the control escape [`ESCAPE`] (`0x7D`) and the
//! XON/XOFF characters (`0x11`, `0x13`) inside a frame are sent as the escape
//! octet followed by the octet XOR `0x20`. The basic-mode codec of
//! [`super`] does not use these; they are here for a host that negotiates
//! the advanced option.
//!
//! ```
//! use cellular_core::cmux::advanced::{escape, unescape};
//!
//! let mut wire = Vec::new();
//! escape(&[0x01, 0x7E, 0x11], &mut wire);
//! assert_eq!(wire, [0x01, 0x7D, 0x5E, 0x7D, 0x31]);
//! let mut back = Vec::new();
//! unescape(&wire, &mut back).unwrap();
//! assert_eq!(back, [0x01, 0x7E, 0x11]);
//! ```

/// The advanced-mode flag.
pub const FLAG: u8 = 0x7E;
/// The control escape octet.
pub const ESCAPE: u8 = 0x7D;
/// What an escaped octet is XORed with.
pub const XOR: u8 = 0x20;
/// XON and XOFF, escaped so that software flow control cannot eat them.
pub const XON: u8 = 0x11;
pub const XOFF: u8 = 0x13;

/// Whether `b` must be escaped inside an advanced-mode frame.
pub const fn needs_escape(b: u8) -> bool {
    matches!(b, FLAG | ESCAPE | XON | XOFF)
}

/// Appends `data` with every flag, escape, XON and XOFF octet escaped.
pub fn escape(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len());
    for &b in data {
        if needs_escape(b) {
            out.push(ESCAPE);
            out.push(b ^ XOR);
        } else {
            out.push(b);
        }
    }
}

/// Why [`unescape`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnescapeError {
    /// A flag inside what should be one frame's contents, at this offset.
    Flag(usize),
    /// The input ends with an escape octet.
    DanglingEscape,
}

impl std::fmt::Display for UnescapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnescapeError::Flag(at) => write!(f, "unescaped flag at offset {at}"),
            UnescapeError::DanglingEscape => write!(f, "escape octet at the end"),
        }
    }
}

impl std::error::Error for UnescapeError {}

/// Appends the contents of one frame (between its flags) with escapes
/// undone. An escape followed by any octet yields that octet XOR `0x20`.
pub fn unescape(data: &[u8], out: &mut Vec<u8>) -> Result<(), UnescapeError> {
    out.reserve(data.len());
    let mut bytes = data.iter().enumerate();
    while let Some((at, &b)) = bytes.next() {
        match b {
            FLAG => return Err(UnescapeError::Flag(at)),
            ESCAPE => match bytes.next() {
                Some((at, &FLAG)) => return Err(UnescapeError::Flag(at)),
                Some((_, &next)) => out.push(next ^ XOR),
                None => return Err(UnescapeError::DanglingEscape),
            },
            _ => out.push(b),
        }
    }
    Ok(())
}
