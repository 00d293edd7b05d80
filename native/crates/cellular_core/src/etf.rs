//! The Erlang external term format (ETF), for the [`Value`] subset.
//!
//! `cellular_port` talks to `VintageNetCellular.ATPort` in ETF both ways: it
//! encodes its events with [`encode`], which Elixir reads with
//! `:erlang.binary_to_term(bin, [:safe])`, and it decodes the requests Elixir
//! made with `:erlang.term_to_binary/1` with [`decode`]. So the AT path needs
//! no NIF, and each line reaches Elixir as terms already parsed.
//!
//! Why our own ~300 lines rather than a crate: the port program needs only
//! [`Value`]'s shapes (atoms, integers, binaries, lists, tuples, atom-keyed
//! maps), must never make an atom from modem bytes, and must bound what a
//! frame may make it allocate; the ETF crates on crates.io bring a general
//! term model (floats, pids, references, bignums) and allocation we would
//! have to fence in again.
//!
//! Atoms only come from static tables: [`encode`] writes [`Value::Atom`]s,
//! which are `&'static str`s of this crate, and [`decode`] accepts an atom
//! only if it is in the `atoms` table it is given (plus `true`, `false` and
//! `nil`), so nothing in a frame can make up an atom on either side.
//!
//! ```
//! use cellular_core::etf;
//! use cellular_core::Value;
//!
//! let v = Value::Tuple(vec![Value::Atom("ok"), Value::Int(300), "é".into()]);
//! let bytes = etf::encode(&v);
//! assert_eq!(bytes[0], 131);
//! assert_eq!(etf::decode(&bytes, &["ok"]), Ok(v));
//! assert!(etf::decode(&bytes, &["other"]).is_err());
//! ```

use crate::Value;

/// The version byte every ETF term starts with.
pub const VERSION: u8 = 131;

const NEW_FLOAT: u8 = 70;
const SMALL_INTEGER: u8 = 97;
const INTEGER: u8 = 98;
const ATOM: u8 = 100;
const SMALL_TUPLE: u8 = 104;
const LARGE_TUPLE: u8 = 105;
const NIL: u8 = 106;
const STRING: u8 = 107;
const LIST: u8 = 108;
const BINARY: u8 = 109;
const SMALL_BIG: u8 = 110;
const SMALL_ATOM: u8 = 115;
const MAP: u8 = 116;
const ATOM_UTF8: u8 = 118;
const SMALL_ATOM_UTF8: u8 = 119;

/// How deep terms may nest in a decoded frame.
pub const MAX_DEPTH: usize = 32;

/// Why bytes are not a term of the [`Value`] subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtfError(pub String);

impl std::fmt::Display for EtfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EtfError {}

/// The term `value` in ETF, version byte included.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    encode_into(value, &mut out);
    out
}

/// Appends `value` (without the version byte) to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => atom("nil", out),
        Value::Bool(true) => atom("true", out),
        Value::Bool(false) => atom("false", out),
        Value::Int(n) => int(*n, out),
        Value::Str(s) => {
            out.push(BINARY);
            len32(s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Atom(name) => atom(name, out),
        Value::List(items) => {
            if !items.is_empty() {
                out.push(LIST);
                len32(items.len(), out);
                for item in items {
                    encode_into(item, out);
                }
            }
            out.push(NIL);
        }
        Value::Map(fields) => {
            out.push(MAP);
            len32(fields.len(), out);
            for (key, v) in fields {
                atom(key, out);
                encode_into(v, out);
            }
        }
        Value::Tuple(items) => {
            match u8::try_from(items.len()) {
                Ok(n) => out.extend_from_slice(&[SMALL_TUPLE, n]),
                Err(_) => {
                    out.push(LARGE_TUPLE);
                    len32(items.len(), out);
                }
            }
            for item in items {
                encode_into(item, out);
            }
        }
    }
}

fn len32(len: usize, out: &mut Vec<u8>) {
    // Values here are lines and small tables: far below 4 GiB. Saturating
    // keeps this total; a term that long could not be framed anyway.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

fn atom(name: &str, out: &mut Vec<u8>) {
    match u8::try_from(name.len()) {
        Ok(n) => out.extend_from_slice(&[SMALL_ATOM_UTF8, n]),
        Err(_) => {
            out.push(ATOM_UTF8);
            // Atom names are static identifiers of this crate, never 64 KiB.
            out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(u16::MAX).to_be_bytes());
        }
    }
    out.extend_from_slice(name.as_bytes());
}

fn int(n: i64, out: &mut Vec<u8>) {
    if let Ok(small) = u8::try_from(n) {
        out.extend_from_slice(&[SMALL_INTEGER, small]);
    } else if let Ok(i) = i32::try_from(n) {
        out.push(INTEGER);
        out.extend_from_slice(&i.to_be_bytes());
    } else {
        let magnitude = n.unsigned_abs();
        let digits = magnitude.to_le_bytes();
        let used = 8 - (magnitude.leading_zeros() / 8) as usize;
        out.extend_from_slice(&[SMALL_BIG, used as u8, u8::from(n < 0)]);
        out.extend_from_slice(&digits[..used]);
    }
}

/// Decodes one whole term (version byte first, nothing after it). Atoms must
/// be `true`, `false`, `nil` or in `atoms`; binaries must be UTF-8; map keys
/// must be atoms; integers must fit an `i64`. Floats, pids, references,
/// compressed terms and the like are refused, and so is nesting deeper than
/// [`MAX_DEPTH`]. Never panics, and never allocates more than the frame's own
/// length allows.
pub fn decode(bytes: &[u8], atoms: &[&'static str]) -> Result<Value, EtfError> {
    let mut reader = Reader {
        bytes,
        pos: 0,
        atoms,
    };
    match reader.u8()? {
        VERSION => {}
        other => return Err(EtfError(format!("not a term: version byte {other}"))),
    }
    let value = reader.term(0)?;
    if reader.pos != bytes.len() {
        return Err(EtfError(format!(
            "{} bytes after the term",
            bytes.len() - reader.pos
        )));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    atoms: &'a [&'static str],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EtfError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| EtfError(format!("truncated term at byte {}", self.pos)))?;
        let bytes: &'a [u8] = self.bytes;
        let slice = &bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, EtfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, EtfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]) as usize)
    }

    fn u32(&mut self) -> Result<usize, EtfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    /// A count of items that each take at least `min_bytes`: never more than
    /// the rest of the frame could hold, so no allocation outgrows it.
    fn count(&mut self, n: usize, min_bytes: usize) -> Result<usize, EtfError> {
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_bytes) > left {
            return Err(EtfError(format!(
                "a count of {n} at byte {} is more than the frame holds",
                self.pos
            )));
        }
        Ok(n)
    }

    fn term(&mut self, depth: usize) -> Result<Value, EtfError> {
        if depth > MAX_DEPTH {
            return Err(EtfError(format!("terms nest deeper than {MAX_DEPTH}")));
        }
        let at = self.pos;
        match self.u8()? {
            SMALL_INTEGER => Ok(Value::Int(self.u8()?.into())),
            INTEGER => {
                let b = self.take(4)?;
                Ok(Value::Int(
                    i32::from_be_bytes([b[0], b[1], b[2], b[3]]).into(),
                ))
            }
            SMALL_BIG => {
                let n = self.u8()? as usize;
                let sign = self.u8()?;
                let digits = self.take(n)?;
                big(digits, sign).ok_or_else(|| {
                    EtfError(format!("an integer at byte {at} does not fit 64 bits"))
                })
            }
            ATOM | ATOM_UTF8 => {
                let n = self.u16()?;
                self.atom(n, at)
            }
            SMALL_ATOM | SMALL_ATOM_UTF8 => {
                let n = self.u8()? as usize;
                self.atom(n, at)
            }
            BINARY => {
                let n = self.u32()?;
                let bytes = self.take(n)?;
                std::str::from_utf8(bytes)
                    .map(|s| Value::Str(s.to_owned()))
                    .map_err(|_| EtfError(format!("the binary at byte {at} is not UTF-8")))
            }
            NIL => Ok(Value::List(Vec::new())),
            STRING => {
                let n = self.u16()?;
                Ok(Value::List(
                    self.take(n)?
                        .iter()
                        .map(|b| Value::Int((*b).into()))
                        .collect(),
                ))
            }
            LIST => {
                let n = self.u32()?;
                let n = self.count(n, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.term(depth + 1)?);
                }
                match self.u8()? {
                    NIL => Ok(Value::List(items)),
                    _ => Err(EtfError(format!("the list at byte {at} is improper"))),
                }
            }
            SMALL_TUPLE => {
                let n = self.u8()? as usize;
                self.tuple(n, depth)
            }
            LARGE_TUPLE => {
                let n = self.u32()?;
                self.tuple(n, depth)
            }
            MAP => {
                let n = self.u32()?;
                let n = self.count(n, 2)?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    let key_at = self.pos;
                    let key = match self.term(depth + 1)? {
                        Value::Atom(key) => key,
                        _ => {
                            return Err(EtfError(format!(
                                "the map key at byte {key_at} is not a known atom"
                            )))
                        }
                    };
                    fields.push((key, self.term(depth + 1)?));
                }
                Ok(Value::Map(fields))
            }
            NEW_FLOAT => Err(EtfError(format!("a float at byte {at}: not supported"))),
            tag => Err(EtfError(format!(
                "term tag {tag} at byte {at}: not supported"
            ))),
        }
    }

    fn tuple(&mut self, n: usize, depth: usize) -> Result<Value, EtfError> {
        let n = self.count(n, 1)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.term(depth + 1)?);
        }
        Ok(Value::Tuple(items))
    }

    fn atom(&mut self, n: usize, at: usize) -> Result<Value, EtfError> {
        let name = self.take(n)?;
        match name {
            b"true" => return Ok(Value::Bool(true)),
            b"false" => return Ok(Value::Bool(false)),
            b"nil" => return Ok(Value::Nil),
            _ => {}
        }
        self.atoms
            .iter()
            .find(|known| known.as_bytes() == name)
            .map(|known| Value::Atom(known))
            .ok_or_else(|| {
                EtfError(format!(
                    "the atom at byte {at} ({}) is not one this protocol knows",
                    String::from_utf8_lossy(name)
                ))
            })
    }
}

fn big(digits: &[u8], sign: u8) -> Option<Value> {
    if digits.len() > 8 {
        // Leading zero digits are allowed; anything else is too large.
        if digits[8..].iter().any(|d| *d != 0) {
            return None;
        }
    }
    let mut buf = [0u8; 8];
    for (slot, d) in buf.iter_mut().zip(digits) {
        *slot = *d;
    }
    let magnitude = u64::from_le_bytes(buf);
    let n = match sign {
        0 => i64::try_from(magnitude).ok()?,
        1 => 0i64.checked_sub_unsigned(magnitude)?,
        _ => return None,
    };
    Some(Value::Int(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOMS: &[&str] = &["ok", "error", "a", "b"];

    fn round_trip(v: Value) {
        let bytes = encode(&v);
        assert_eq!(decode(&bytes, ATOMS), Ok(v.clone()), "{bytes:?}");
    }

    #[test]
    fn encodes_exactly_what_term_to_binary_reads() {
        // Bytes as :erlang.term_to_binary/2 writes them (minor_version 2).
        assert_eq!(encode(&Value::Int(1)), [131, 97, 1]);
        assert_eq!(encode(&Value::Int(-1)), [131, 98, 255, 255, 255, 255]);
        assert_eq!(encode(&Value::Int(256)), [131, 98, 0, 0, 1, 0]);
        assert_eq!(
            encode(&Value::Int(1 << 40)),
            [131, 110, 6, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(
            encode(&Value::Int(i64::MIN)),
            [131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128]
        );
        assert_eq!(encode(&Value::Atom("ok")), [131, 119, 2, b'o', b'k']);
        assert_eq!(encode(&Value::Nil), [131, 119, 3, b'n', b'i', b'l']);
        assert_eq!(encode(&"ab".into()), [131, 109, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(encode(&Value::List(vec![])), [131, 106]);
        assert_eq!(
            encode(&Value::List(vec![Value::Int(1)])),
            [131, 108, 0, 0, 0, 1, 97, 1, 106]
        );
        assert_eq!(
            encode(&Value::Tuple(vec![Value::Atom("a"), Value::Int(2)])),
            [131, 104, 2, 119, 1, b'a', 97, 2]
        );
        assert_eq!(
            encode(&Value::Map(vec![("a", Value::Bool(true))])),
            [131, 116, 0, 0, 0, 1, 119, 1, b'a', 119, 4, b't', b'r', b'u', b'e']
        );
    }

    #[test]
    fn decodes_what_older_term_to_binary_writes() {
        // OTP 25 writes atoms as ATOM_EXT (100) and lists of bytes as STRING_EXT.
        assert_eq!(
            decode(&[131, 100, 0, 2, b'o', b'k'], ATOMS),
            Ok(Value::Atom("ok"))
        );
        assert_eq!(
            decode(&[131, 115, 4, b't', b'r', b'u', b'e'], ATOMS),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            decode(&[131, 107, 0, 2, 1, 2], ATOMS),
            Ok(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(
            decode(&[131, 105, 0, 0, 0, 1, 97, 7], ATOMS),
            Ok(Value::Tuple(vec![Value::Int(7)]))
        );
        // A bignum with leading zero digits still fits.
        assert_eq!(
            decode(&[131, 110, 9, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0], ATOMS),
            Ok(Value::Int(5))
        );
    }

    #[test]
    fn round_trips_every_shape() {
        for n in [
            0,
            255,
            256,
            -1,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
            -(1 << 40),
        ] {
            round_trip(Value::Int(n));
        }
        round_trip(Value::Tuple(vec![
            Value::Atom("ok"),
            Value::Map(vec![
                ("a", Value::List(vec!["é".into(), Value::Nil])),
                ("b", Value::Bool(false)),
            ]),
            Value::Tuple((0..300).map(Value::Int).collect()),
        ]));
        round_trip(Value::Str(String::new()));
    }

    #[test]
    fn refuses_what_is_not_a_safe_value() {
        let refused: &[&[u8]] = &[
            &[],
            &[130, 97, 1],
            &[131],
            &[131, 97],
            &[131, 97, 1, 0],
            &[131, 119, 3, b'z', b'z', b'z'],
            &[131, 109, 0, 0, 0, 1, 0xff],
            &[131, 109, 255, 255, 255, 255],
            &[131, 108, 255, 255, 255, 255, 106],
            &[131, 108, 0, 0, 0, 1, 97, 1, 97, 2],
            &[131, 116, 255, 255, 255, 255],
            &[131, 116, 0, 0, 0, 1, 97, 1, 97, 1],
            &[131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128],
            &[131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            &[131, 110, 1, 2, 1],
            &[131, 70, 0, 0, 0, 0, 0, 0, 0, 0],
            &[131, 80, 0, 0, 0, 1, 0],
            &[131, 88],
        ];
        for bytes in refused {
            assert!(decode(bytes, ATOMS).is_err(), "{bytes:?}");
        }
        let mut deep = vec![131];
        deep.extend(std::iter::repeat_n([104, 1], MAX_DEPTH + 2).flatten());
        deep.extend([97, 0]);
        assert!(decode(&deep, ATOMS).unwrap_err().0.contains("nest"));
    }

    #[test]
    fn never_panics_on_any_prefix_or_byte_flip() {
        let bytes = encode(&Value::Tuple(vec![
            Value::Atom("ok"),
            Value::List(vec!["line".into(), Value::Int(1 << 40), Value::Int(-300)]),
            Value::Map(vec![("a", Value::Nil)]),
        ]));
        for end in 0..bytes.len() {
            let _ = decode(&bytes[..end], ATOMS);
        }
        for i in 0..bytes.len() {
            for b in [0u8, 1, 97, 104, 106, 108, 119, 255] {
                let mut flipped = bytes.clone();
                flipped[i] = b;
                let _ = decode(&flipped, ATOMS);
            }
        }
    }
}
