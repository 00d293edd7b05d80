//! Line checks, prefix and field splitting, and typed field readers shared by
//! every parser.
//!
//! Splitting rules:
//! - white space around a field is dropped; a field that starts with `"` runs
//!   to the next `"` (commas inside are kept) and only white space may follow
//!   the closing quote;
//! - an unquoted field runs to the next comma that is not inside parentheses,
//!   so `(0-31,99)` stays one field;
//! - a comma always starts another field, so `2,,` has three fields, the last
//!   two empty.

use super::{ParseError, MAX_LINE};

/// The longest prefix accepted, sigil included.
const MAX_PREFIX: usize = 32;

/// Trims the line and checks that it is non-empty, short enough, UTF-8 and
/// free of control bytes. Returns the trimmed text.
pub(crate) fn check_line(line: &[u8]) -> Result<&str, ParseError> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_space(b));
    let Some(start) = start else {
        return Err(ParseError::new("empty", "the line holds no characters"));
    };
    let end = line
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    let body = &line[start..end];
    if body.len() > MAX_LINE {
        return Err(ParseError::new(
            "too_long",
            format!(
                "the line is {} bytes long; at most {MAX_LINE} are accepted",
                body.len()
            ),
        ));
    }
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            let byte = body.get(at).copied().unwrap_or(0);
            return Err(ParseError::new(
                "invalid_utf8",
                format!(
                    "byte 0x{byte:02X} at offset {} is not valid UTF-8",
                    start + at
                ),
            ));
        }
    };
    // A branch-free pass first (it vectorizes); find the byte only on a hit.
    let is_control = |b: u8| (b < 0x20) & (b != b'\t') | (b == 0x7F);
    let any_control = body.iter().fold(false, |acc, &b| acc | is_control(b));
    if let Some(at) = any_control
        .then(|| body.iter().position(|&b| is_control(b)))
        .flatten()
    {
        return Err(ParseError::new(
            "control_byte",
            format!(
                "control byte 0x{:02X} at offset {} is not allowed inside a line",
                body[at],
                start + at
            ),
        ));
    }
    Ok(text)
}

/// One field of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    /// The text, trimmed, without its quotes.
    pub text: &'a str,
    /// Whether the modem quoted it.
    pub quoted: bool,
}

impl<'a> Field<'a> {
    /// An absent or empty field (`,,` or `,"",`).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// A line split into prefix and fields.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// The prefix as written (`+CSQ`, `+cme error`, `^ICCID`, `ICCID`).
    pub prefix: &'a str,
    /// Everything after the `:`, trimmed.
    pub rest: &'a str,
    /// The comma-separated fields of `rest`.
    pub fields: Vec<Field<'a>>,
}

const SIGILS: &[u8] = b"+^!#$%*";

impl<'a> Line<'a> {
    /// Splits a checked line into prefix and fields.
    pub fn split(text: &'a str) -> Result<Line<'a>, ParseError> {
        let bytes = text.as_bytes();
        let first = bytes.first().copied().unwrap_or(0);
        let bare_iccid = bytes.len() >= 6
            && bytes[..5].eq_ignore_ascii_case(b"ICCID")
            && bytes[5..].iter().find(|b| **b != b' ') == Some(&b':');
        if !SIGILS.contains(&first) && !bare_iccid {
            return Err(ParseError::new(
                "no_prefix",
                format!(
                    "the line starts with {} instead of a +XXX: style prefix",
                    show_char(text, 0)
                ),
            ));
        }
        let (prefix, rest) = match bytes.iter().position(|b| *b == b':') {
            Some(colon) => (text[..colon].trim_end(), text[colon + 1..].trim()),
            None => (text, ""),
        };
        check_prefix(prefix, bare_iccid)?;
        let fields = split_fields(rest)?;
        Ok(Line {
            prefix,
            rest,
            fields,
        })
    }

    /// The prefix in upper case without spaces (`+cme error` → `+CMEERROR`),
    /// written into `buf`.
    pub fn normalized_prefix<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let mut n = 0;
        for b in self.prefix.bytes().filter(|b| *b != b' ') {
            *buf.get_mut(n)? = b.to_ascii_uppercase();
            n += 1;
        }
        Some(&buf[..n])
    }

    /// Whether an unquoted field starts with `(`: a test-command answer.
    pub fn has_parenthesized_field(&self) -> bool {
        self.fields
            .iter()
            .any(|f| !f.quoted && f.text.starts_with('('))
    }

    /// A reader that names `kind` in its errors.
    pub fn reader(&self, kind: &'static str) -> Reader<'_> {
        Reader { kind, line: self }
    }
}

fn check_prefix(prefix: &str, bare_iccid: bool) -> Result<(), ParseError> {
    let bytes = prefix.as_bytes();
    let name = if bare_iccid { bytes } else { &bytes[1..] };
    let starts_ok = name.first().is_some_and(|b| b.is_ascii_alphanumeric());
    if !starts_ok {
        return Err(ParseError::new(
            "bad_prefix",
            format!("the prefix {} has no name after its sigil", shorten(prefix)),
        ));
    }
    if bytes.len() > MAX_PREFIX {
        return Err(ParseError::new(
            "bad_prefix",
            format!(
                "the prefix is {} bytes long; at most {MAX_PREFIX} are accepted",
                bytes.len()
            ),
        ));
    }
    let offset = bytes.len() - name.len();
    if let Some(at) = name
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ')))
    {
        return Err(ParseError::new(
            "bad_prefix",
            format!(
                "{} at offset {} cannot be part of a prefix (is the ':' missing?)",
                show_char(prefix, offset + at),
                offset + at
            ),
        ));
    }
    Ok(())
}

fn split_fields(rest: &str) -> Result<Vec<Field<'_>>, ParseError> {
    let bytes = rest.as_bytes();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::with_capacity(1 + bytes.iter().filter(|b| **b == b',').count());
    let mut i = 0;
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'"' {
            let Some(len) = bytes[i + 1..].iter().position(|b| *b == b'"') else {
                return Err(ParseError::new(
                    "unterminated_quote",
                    format!(
                        "field {}: the quote that opens it is never closed",
                        fields.len() + 1
                    ),
                ));
            };
            let text = &rest[i + 1..i + 1 + len];
            i += len + 2;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] != b',' {
                return Err(ParseError::new(
                    "invalid_field",
                    format!(
                        "field {}: {} follows the closing quote where a comma belongs",
                        fields.len() + 1,
                        show_char(rest, i)
                    ),
                ));
            }
            fields.push(Field { text, quoted: true });
        } else {
            let start = i;
            let mut depth = 0usize;
            let mut in_quote = false;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' if depth > 0 => in_quote = !in_quote,
                    b'(' if !in_quote => depth += 1,
                    b')' if !in_quote => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            let text = rest[start..i].trim_end_matches([' ', '\t']);
            fields.push(Field {
                text,
                quoted: false,
            });
        }
        if i >= bytes.len() {
            return Ok(fields);
        }
        // Skip the comma; another field follows, even if it is empty.
        i += 1;
    }
}

/// Reads typed values out of a line's fields, naming the kind and the field
/// in every error.
pub(crate) struct Reader<'a> {
    pub kind: &'static str,
    pub line: &'a Line<'a>,
}

impl<'a> Reader<'a> {
    pub fn len(&self) -> usize {
        self.line.fields.len()
    }

    /// The field at `i`, if the line has one.
    pub fn get(&self, i: usize) -> Option<&'a Field<'a>> {
        self.line.fields.get(i)
    }

    /// The field at `i` if it is present and non-empty.
    pub fn present(&self, i: usize) -> Option<&'a Field<'a>> {
        self.get(i).filter(|f| !f.is_empty())
    }

    pub fn missing(&self, name: &str) -> ParseError {
        ParseError::new(
            "missing_field",
            format!("{}: <{name}> is missing", self.kind),
        )
    }

    pub fn invalid(&self, i: usize, name: &str, why: &str) -> ParseError {
        let text = self.get(i).map_or("", |f| f.text);
        ParseError::new(
            "invalid_field",
            format!(
                "{}: <{name}> (field {}) {why}: {}",
                self.kind,
                i + 1,
                shorten(text)
            ),
        )
    }

    /// Refuses lines with more than `max` fields.
    pub fn at_most(&self, max: usize) -> Result<(), ParseError> {
        if self.len() > max {
            return Err(ParseError::new(
                "extra_field",
                format!(
                    "{}: {} fields where at most {max} belong",
                    self.kind,
                    self.len()
                ),
            ));
        }
        Ok(())
    }

    /// A required decimal integer.
    pub fn int(&self, i: usize, name: &str) -> Result<i64, ParseError> {
        self.opt_int(i, name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional decimal integer: `None` when absent or empty.
    pub fn opt_int(&self, i: usize, name: &str) -> Result<Option<i64>, ParseError> {
        match self.present(i) {
            None => Ok(None),
            Some(f) => decimal(f.text)
                .map(Some)
                .ok_or_else(|| self.invalid(i, name, "is not an integer")),
        }
    }

    /// A required integer in `lo..=hi` or one of `also`.
    pub fn int_in(
        &self,
        i: usize,
        name: &str,
        lo: i64,
        hi: i64,
        also: &[i64],
        expected: &str,
    ) -> Result<i64, ParseError> {
        let v = self.int(i, name)?;
        if (lo..=hi).contains(&v) || also.contains(&v) {
            Ok(v)
        } else {
            Err(self.invalid(i, name, &format!("is outside {expected}")))
        }
    }

    /// An integer that is `None` when it is absent or is not a number at all
    /// (for trailing fields that some modems fill with vendor data).
    pub fn lenient_int(&self, i: usize) -> Option<i64> {
        self.present(i).and_then(|f| decimal(f.text))
    }

    /// An optional hexadecimal integer (quoted or not, `0x` allowed).
    pub fn opt_hex(&self, i: usize, name: &str) -> Result<Option<i64>, ParseError> {
        match self.present(i) {
            None => Ok(None),
            Some(f) => hex(f.text)
                .map(Some)
                .ok_or_else(|| self.invalid(i, name, "is not a hexadecimal number")),
        }
    }

    /// An optional string: `None` when absent or empty.
    pub fn opt_str(&self, i: usize) -> Option<&'a str> {
        self.present(i).map(|f| f.text)
    }
}

/// Parses a decimal integer with an optional sign; leading zeros are fine.
pub(crate) fn decimal(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

/// Parses a hexadecimal integer: an optional `0x`, hex digits, and stray
/// spaces between them (seen from a Qualcomm Gobi: `  0 5`).
pub(crate) fn hex(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = match bytes {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => bytes,
    };
    let mut value: i64 = 0;
    let mut seen = false;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b' ' | b'\t' => continue,
            _ => return None,
        };
        seen = true;
        value = value.checked_mul(16)?.checked_add(i64::from(d))?;
    }
    seen.then_some(value)
}

/// Parses a decimal with at most one fractional digit (`-9.4`, `4`) into
/// tenths.
pub(crate) fn tenths(text: &str) -> Option<i64> {
    match text.split_once('.') {
        None => decimal(text)?.checked_mul(10),
        Some((whole, frac)) => {
            if frac.len() != 1 || !frac.as_bytes()[0].is_ascii_digit() {
                return None;
            }
            let negative = whole.starts_with('-');
            let w = if whole == "-" || whole.is_empty() {
                0
            } else {
                decimal(whole)?
            };
            let f = i64::from(frac.as_bytes()[0] - b'0');
            let v = w
                .checked_mul(10)?
                .checked_add(if negative { -f } else { f })?;
            Some(v)
        }
    }
}

/// Rounds a value in tenths to the nearest whole unit, halves away from zero.
pub(crate) fn round_tenths(v: i64) -> i64 {
    if v < 0 {
        (v - 5) / 10
    } else {
        (v + 5) / 10
    }
}

/// A field's text for an error message: quoted, escaped, at most 40 chars.
pub(crate) fn shorten(text: &str) -> String {
    let mut cut = text.len().min(40);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut < text.len() {
        format!("{:?}...", &text[..cut])
    } else {
        format!("{text:?}")
    }
}

/// Describes the character at byte `at` of `text` for an error message.
pub(crate) fn show_char(text: &str, at: usize) -> String {
    match text.get(at..).and_then(|s| s.chars().next()) {
        Some(c) if c.is_ascii_graphic() => format!("'{c}' (0x{:02X})", c as u32),
        Some(c) => format!("{c:?} (U+{:04X})", c as u32),
        None => "the end of the line".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<(&str, bool)> {
        Line::split(text)
            .unwrap()
            .fields
            .iter()
            .map(|f| (f.text, f.quoted))
            .collect()
    }

    #[test]
    fn splits_quoted_and_unquoted_fields() {
        assert_eq!(
            split(r#"+COPS: 0,0,"AT&T, Inc" , 7"#),
            vec![
                ("0", false),
                ("0", false),
                ("AT&T, Inc", true),
                ("7", false)
            ]
        );
        assert_eq!(
            split("+CREG: 2,,"),
            vec![("2", false), ("", false), ("", false)]
        );
        assert_eq!(split("+CSQ:"), vec![]);
        assert_eq!(split("^SYSSTART"), vec![]);
        assert_eq!(
            split(r#"+CGDCONT: 1,"IP","","",0"#),
            vec![
                ("1", false),
                ("IP", true),
                ("", true),
                ("", true),
                ("0", false)
            ]
        );
    }

    #[test]
    fn keeps_parenthesized_groups_together() {
        assert_eq!(
            split(r#"+COPS: (2,"AT&T","AT&T","310410",7),,(0-4),(0-2)"#),
            vec![
                (r#"(2,"AT&T","AT&T","310410",7)"#, false),
                ("", false),
                ("(0-4)", false),
                ("(0-2)", false)
            ]
        );
    }

    #[test]
    fn reports_quote_errors() {
        let e = Line::split("+CSQ: \"Missing quote").unwrap_err();
        assert_eq!(e.reason, "unterminated_quote");
        assert!(e.detail.contains("field 1"), "{}", e.detail);
        let e = Line::split(r#"+COPS: 0,0,"AT&T"x,7"#).unwrap_err();
        assert_eq!(e.reason, "invalid_field");
        assert!(e.detail.contains("'x'"), "{}", e.detail);
    }

    #[test]
    fn normalizes_prefixes() {
        let line = Line::split("+cme Error: 10").unwrap();
        let mut buf = [0u8; 32];
        assert_eq!(line.normalized_prefix(&mut buf), Some(&b"+CMEERROR"[..]));
        let line = Line::split("ICCID: 8901").unwrap();
        assert_eq!(line.normalized_prefix(&mut buf), Some(&b"ICCID"[..]));
        let line = Line::split("iccid : 8901").unwrap();
        assert_eq!(line.normalized_prefix(&mut buf), Some(&b"ICCID"[..]));
    }

    #[test]
    fn refuses_long_prefixes() {
        let long = format!("+{}: 1", "A".repeat(40));
        assert_eq!(Line::split(&long).unwrap_err().reason, "bad_prefix");
    }

    #[test]
    fn reads_numbers() {
        assert_eq!(decimal("007"), Some(7));
        assert_eq!(decimal("-52"), Some(-52));
        assert_eq!(decimal("+3"), Some(3));
        assert_eq!(decimal("-"), None);
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("5A"), None);
        assert_eq!(decimal("99999999999999999999"), None);
        assert_eq!(hex("00C3"), Some(0xC3));
        assert_eq!(hex("0x4F1B"), Some(0x4F1B));
        assert_eq!(hex("0b2d3f0"), Some(0xB2D3F0));
        assert_eq!(hex("  0 5"), Some(5));
        assert_eq!(hex("0x"), None);
        assert_eq!(hex("12G"), None);
        assert_eq!(hex("FFFFFFFFFFFFFFFFF"), None);
        assert_eq!(tenths("-9.4"), Some(-94));
        assert_eq!(tenths("4.0"), Some(40));
        assert_eq!(tenths("-0.5"), Some(-5));
        assert_eq!(tenths("12"), Some(120));
        assert_eq!(tenths("1.25"), None);
        assert_eq!(tenths("x.5"), None);
        assert_eq!(round_tenths(-672), -67);
        assert_eq!(round_tenths(-675), -68);
        assert_eq!(round_tenths(45), 5);
        assert_eq!(round_tenths(44), 4);
    }

    #[test]
    fn shortens_long_text_on_char_boundaries() {
        let s = "é".repeat(30);
        let short = shorten(&s);
        assert!(short.ends_with("..."));
        assert!(short.chars().count() < 30);
    }
}
