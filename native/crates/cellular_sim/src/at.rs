//! Lexing of AT command lines as a modem sees them (ITU-T V.250).
//!
//! A line is `AT` followed by any mix of basic commands (`E0`, `V1`, `&F`,
//! `S12=20`, `D*99#`) and extended commands (`+CSQ`, `+CREG?`, `+CGDCONT=1,"IP","apn"`),
//! extended ones separated by `;`. Names are case-insensitive; quoted
//! strings are kept as they are.
//!
//! ```
//! use cellular_sim::at::{find_at, parse_line, Cmd, Op};
//!
//! let line = b"xxAT+CSQ;+creg?";
//! let body = find_at(line).unwrap();
//! let cmds = parse_line(body).unwrap();
//! assert_eq!(cmds, vec![
//!     Cmd::Ext { name: "+CSQ".into(), op: Op::Exec },
//!     Cmd::Ext { name: "+CREG".into(), op: Op::Read },
//! ]);
//! assert_eq!(parse_line(b"E0V1").unwrap(), vec![
//!     Cmd::Basic { name: "E".into(), value: Some(0) },
//!     Cmd::Basic { name: "V".into(), value: Some(1) },
//! ]);
//! ```

/// What an extended command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `AT+X`
    Exec,
    /// `AT+X?`
    Read,
    /// `AT+X=?`
    Test,
    /// `AT+X=<args>` with the raw argument text.
    Set(String),
}

/// One command of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// A basic command: a letter (or `&` and a letter) and an optional number.
    Basic { name: String, value: Option<u32> },
    /// `Sn=v` or `Sn?`.
    SReg { reg: u32, set: Option<u32> },
    /// `D<dial string>`: everything up to the end of the line.
    Dial(String),
    /// An extended command, name upper-cased with its prefix character.
    /// (`A/`, which repeats the last line, is handled before lexing.)
    Ext { name: String, op: Op },
}

/// A syntax error, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// The body of a command line after its `AT` prefix, or `None` when the line
/// holds no `AT` at all (modems ignore such lines). Anything before the
/// prefix is line noise and skipped.
pub fn find_at(line: &[u8]) -> Option<&[u8]> {
    line.windows(2)
        .position(|w| w[0].eq_ignore_ascii_case(&b'A') && w[1].eq_ignore_ascii_case(&b'T'))
        .map(|i| &line[i + 2..])
}

fn is_ext_prefix(b: u8) -> bool {
    matches!(b, b'+' | b'$' | b'^' | b'%' | b'#' | b'!' | b'*')
}

/// Splits the body of a line into commands.
pub fn parse_line(body: &[u8]) -> Result<Vec<Cmd>, SyntaxError> {
    let mut cmds = Vec::new();
    let mut i = 0;
    let err = |offset: usize, message: &str| SyntaxError {
        offset,
        message: message.to_string(),
    };
    while i < body.len() {
        let b = body[i];
        if b == b' ' || b == b';' {
            i += 1;
            continue;
        }
        if is_ext_prefix(b) {
            let start = i;
            i += 1;
            while i < body.len() && (body[i].is_ascii_alphanumeric() || body[i] == b'_') {
                i += 1;
            }
            if i == start + 1 {
                return Err(err(start, "extended command without a name"));
            }
            let name = String::from_utf8_lossy(&body[start..i]).to_ascii_uppercase();
            // The rest of this command runs to the next unquoted ';'.
            let rest_start = i;
            let mut in_quotes = false;
            while i < body.len() && (in_quotes || body[i] != b';') {
                if body[i] == b'"' {
                    in_quotes = !in_quotes;
                }
                i += 1;
            }
            if in_quotes {
                return Err(err(rest_start, "unterminated string"));
            }
            let rest = String::from_utf8_lossy(&body[rest_start..i]);
            let rest = rest.trim();
            let op = if rest.is_empty() {
                Op::Exec
            } else if rest == "?" {
                Op::Read
            } else if rest == "=?" {
                Op::Test
            } else if let Some(args) = rest.strip_prefix('=') {
                Op::Set(args.trim().to_string())
            } else {
                return Err(err(rest_start, "unexpected text after command name"));
            };
            cmds.push(Cmd::Ext { name, op });
            continue;
        }
        let upper = b.to_ascii_uppercase();
        match upper {
            b'D' => {
                let dial = String::from_utf8_lossy(&body[i + 1..]).trim().to_string();
                cmds.push(Cmd::Dial(dial));
                return Ok(cmds);
            }
            b'S' => {
                let start = i;
                i += 1;
                let (reg, next) = digits(body, i);
                let Some(reg) = reg else {
                    return Err(err(start, "S register number expected"));
                };
                i = next;
                if body.get(i) == Some(&b'?') {
                    cmds.push(Cmd::SReg { reg, set: None });
                    i += 1;
                } else if body.get(i) == Some(&b'=') {
                    let (value, next) = digits(body, i + 1);
                    i = next;
                    cmds.push(Cmd::SReg {
                        reg,
                        set: Some(value.unwrap_or(0)),
                    });
                } else {
                    return Err(err(i, "expected '?' or '=' after S register"));
                }
            }
            b'&' => {
                let Some(letter) = body.get(i + 1).filter(|c| c.is_ascii_alphabetic()) else {
                    return Err(err(i, "letter expected after '&'"));
                };
                let (value, next) = digits(body, i + 2);
                cmds.push(Cmd::Basic {
                    name: format!("&{}", char::from(letter.to_ascii_uppercase())),
                    value,
                });
                i = next;
            }
            c if c.is_ascii_alphabetic() => {
                let (value, next) = digits(body, i + 1);
                cmds.push(Cmd::Basic {
                    name: char::from(c).to_string(),
                    value,
                });
                i = next;
            }
            _ => return Err(err(i, "unexpected character")),
        }
    }
    Ok(cmds)
}

fn digits(body: &[u8], mut i: usize) -> (Option<u32>, usize) {
    let start = i;
    let mut value: u32 = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        value = value
            .saturating_mul(10)
            .saturating_add(u32::from(body[i] - b'0'));
        i += 1;
    }
    ((i > start).then_some(value), i)
}

/// One argument of an extended command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Omitted (`AT+X=1,,3`).
    Empty,
    /// A decimal number.
    Int(i64),
    /// A quoted string, quotes removed.
    Str(String),
    /// Anything else, trimmed (hex numbers, bare words).
    Raw(String),
}

impl Arg {
    /// The argument as a number, if it is one (quoted digits count too).
    pub fn int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => Some(*v),
            Arg::Str(s) | Arg::Raw(s) => s.trim().parse().ok(),
            Arg::Empty => None,
        }
    }

    /// The argument as text (numbers printed back).
    pub fn text(&self) -> Option<String> {
        match self {
            Arg::Int(v) => Some(v.to_string()),
            Arg::Str(s) | Arg::Raw(s) => Some(s.clone()),
            Arg::Empty => None,
        }
    }
}

/// Splits `1,"IP","a,b"` into arguments; commas inside quotes are kept.
///
/// ```
/// use cellular_sim::at::{split_args, Arg};
/// assert_eq!(
///     split_args(r#"1,"IP", "a,b" ,,0x1F"#).unwrap(),
///     vec![Arg::Int(1), Arg::Str("IP".into()), Arg::Str("a,b".into()), Arg::Empty, Arg::Raw("0x1F".into())]
/// );
/// assert!(split_args(r#"1,"open"#).is_err());
/// ```
pub fn split_args(raw: &str) -> Result<Vec<Arg>, SyntaxError> {
    let mut args = Vec::new();
    if raw.trim().is_empty() {
        return Ok(args);
    }
    let bytes = raw.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let arg = if bytes.get(i) == Some(&b'"') {
            let start = i + 1;
            let Some(len) = bytes[start..].iter().position(|b| *b == b'"') else {
                return Err(SyntaxError {
                    offset: i,
                    message: "unterminated string".to_string(),
                });
            };
            i = start + len + 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i < bytes.len() && bytes[i] != b',' {
                return Err(SyntaxError {
                    offset: i,
                    message: "',' expected after string".to_string(),
                });
            }
            Arg::Str(String::from_utf8_lossy(&bytes[start..start + len]).into_owned())
        } else {
            let start = i;
            while i < bytes.len() && bytes[i] != b',' {
                i += 1;
            }
            let token = String::from_utf8_lossy(&bytes[start..i]).trim().to_string();
            if token.is_empty() {
                Arg::Empty
            } else if token.bytes().all(|b| b.is_ascii_digit())
                || (token.starts_with('-')
                    && token.len() > 1
                    && token[1..].bytes().all(|b| b.is_ascii_digit()))
            {
                token.parse().map(Arg::Int).unwrap_or(Arg::Raw(token))
            } else {
                Arg::Raw(token)
            }
        };
        args.push(arg);
        if i >= bytes.len() {
            break;
        }
        // bytes[i] == ','
        i += 1;
        if i >= bytes.len() {
            args.push(Arg::Empty);
            break;
        }
    }
    Ok(args)
}

/// Replaces the secrets in a command line (PINs, passwords) by `<redacted>`,
/// for logs. Everything after `=` of a secret-bearing command goes, up to the
/// next `;`.
///
/// ```
/// use cellular_sim::at::redact;
/// assert_eq!(redact("AT+CPIN=\"1234\""), "AT+CPIN=<redacted>");
/// assert_eq!(redact("at+cgauth=1,1,\"u\",\"p\";+CSQ"), "at+cgauth=<redacted>;+CSQ");
/// assert_eq!(redact("AT+CSQ"), "AT+CSQ");
/// ```
pub fn redact(line: &str) -> String {
    const SECRET: &[&str] = &[
        "+CPIN=", "+CGAUTH=", "+CLCK=", "+CPWD=", "+QICSGP=", "+CPINR=",
    ];
    let upper = line.to_ascii_uppercase();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let hit = SECRET.iter().find(|s| upper[i..].starts_with(*s));
        match hit {
            Some(s) => {
                out.push_str(&line[i..i + s.len()]);
                out.push_str("<redacted>");
                i += s.len();
                let mut in_quotes = false;
                while i < line.len() {
                    let c = line.as_bytes()[i];
                    if c == b'"' {
                        in_quotes = !in_quotes;
                    } else if c == b';' && !in_quotes {
                        break;
                    }
                    i += 1;
                }
            }
            None => {
                let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&line[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, op: Op) -> Cmd {
        Cmd::Ext {
            name: name.to_string(),
            op,
        }
    }

    #[test]
    fn finds_the_prefix_in_any_case_after_noise() {
        assert_eq!(find_at(b"AT"), Some(&b""[..]));
        assert_eq!(find_at(b"at+csq"), Some(&b"+csq"[..]));
        assert_eq!(find_at(b"\x7e\x7dAT"), Some(&b""[..]));
        assert_eq!(find_at(b"hello"), None);
        assert_eq!(find_at(b""), None);
        assert_eq!(find_at(b"A"), None);
    }

    #[test]
    fn lexes_real_lines() {
        assert_eq!(parse_line(b"").unwrap(), vec![]);
        assert_eq!(
            parse_line(b"+CGDCONT=1,\"IP\",\"a;b\";+CGDCONT?").unwrap(),
            vec![
                ext("+CGDCONT", Op::Set("1,\"IP\",\"a;b\"".into())),
                ext("+CGDCONT", Op::Read)
            ]
        );
        assert_eq!(
            parse_line(b"+CREG=?").unwrap(),
            vec![ext("+CREG", Op::Test)]
        );
        assert_eq!(
            parse_line(b"&FE0S12=20S0?").unwrap(),
            vec![
                Cmd::Basic {
                    name: "&F".into(),
                    value: None
                },
                Cmd::Basic {
                    name: "E".into(),
                    value: Some(0)
                },
                Cmd::SReg {
                    reg: 12,
                    set: Some(20)
                },
                Cmd::SReg { reg: 0, set: None },
            ]
        );
        assert_eq!(
            parse_line(b"E1D*99***1#").unwrap(),
            vec![
                Cmd::Basic {
                    name: "E".into(),
                    value: Some(1)
                },
                Cmd::Dial("*99***1#".into())
            ]
        );
        assert_eq!(
            parse_line(b"$QCRMCALL?").unwrap(),
            vec![ext("$QCRMCALL", Op::Read)]
        );
        assert_eq!(
            parse_line(b"+CSQ;E0").unwrap(),
            vec![
                ext("+CSQ", Op::Exec),
                Cmd::Basic {
                    name: "E".into(),
                    value: Some(0)
                }
            ]
        );
        assert_eq!(
            parse_line(b"+qcfg=\"nwscanmode\"").unwrap(),
            vec![ext("+QCFG", Op::Set("\"nwscanmode\"".into()))]
        );
    }

    #[test]
    fn rejects_malformed_lines_without_panicking() {
        for bad in [
            &b"+"[..],
            b"+CSQ!",
            b"S",
            b"S1",
            b"&",
            b"&1",
            b"\xff",
            b"+CPIN=\"12",
            b"=",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
        // Huge numbers saturate instead of overflowing.
        assert_eq!(
            parse_line(b"E99999999999999").unwrap(),
            vec![Cmd::Basic {
                name: "E".into(),
                value: Some(u32::MAX)
            }]
        );
    }

    #[test]
    fn arguments() {
        assert_eq!(split_args("").unwrap(), vec![]);
        assert_eq!(split_args("2").unwrap(), vec![Arg::Int(2)]);
        assert_eq!(split_args("1,").unwrap(), vec![Arg::Int(1), Arg::Empty]);
        assert_eq!(split_args(",").unwrap(), vec![Arg::Empty, Arg::Empty]);
        assert_eq!(
            split_args("-5, abc").unwrap(),
            vec![Arg::Int(-5), Arg::Raw("abc".into())]
        );
        assert_eq!(split_args("\"\"").unwrap(), vec![Arg::Str(String::new())]);
        assert!(split_args("\"a\"b").is_err());
        assert_eq!(Arg::Str("12".into()).int(), Some(12));
        assert_eq!(Arg::Empty.text(), None);
        assert_eq!(
            split_args("99999999999999999999999").unwrap(),
            vec![Arg::Raw("99999999999999999999999".into())]
        );
    }

    #[test]
    fn redaction_covers_every_secret_command() {
        assert_eq!(redact("AT+CLCK=\"SC\",1,\"1234\""), "AT+CLCK=<redacted>");
        assert_eq!(redact("AT+CPWD=\"SC\",\"1\",\"2\""), "AT+CPWD=<redacted>");
        assert_eq!(redact("AT+CPIN?"), "AT+CPIN?");
        assert_eq!(
            redact("AT+CGAUTH=1,1,\"a;b\",\"c\";+CSQ"),
            "AT+CGAUTH=<redacted>;+CSQ"
        );
        assert_eq!(redact("ATé+CPIN=1"), "ATé+CPIN=<redacted>");
    }
}
