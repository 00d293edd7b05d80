//! Redaction of secrets in AT commands, the one table for the whole project.
//!
//! Commands that carry a PIN, a password or APN credentials must never reach a
//! log or an error message in clear. [`redact`] replaces the arguments of such
//! commands with `<redacted>` and leaves everything else alone. The port program
//! calls it for its own logs; Elixir calls the same function through the NIF
//! `VintageNetCellular.Native.port_redact/1`, so both sides share this table.
//!
//! The match is case-insensitive and works inside compound command lines
//! (`AT+CMEE=2;+CPIN=1234` → `AT+CMEE=2;+CPIN=<redacted>`): the arguments run
//! from the `=` to the next `;` outside quotes, or to the end of the line.
//!
//! ```
//! use cellular_core::engine::redact::redact;
//! assert_eq!(redact("AT+CPIN=\"1234\""), "AT+CPIN=<redacted>");
//! assert_eq!(redact("at+cgauth=1,1,\"user\",\"pa;ss\";+CSQ"), "at+cgauth=<redacted>;+CSQ");
//! assert_eq!(redact("AT+CSQ"), "AT+CSQ");
//! ```

use std::borrow::Cow;

/// Commands whose arguments are secret, without the leading `AT` and with the
/// `=` that introduces the arguments.
pub const SECRET_COMMANDS: &[&str] = &[
    "+CPIN=",      // SIM PIN / PUK + new PIN (27.007)
    "+CPIN2=",     // PIN2
    "+CPWD=",      // change a facility password
    "+CLCK=",      // facility lock, carries the password
    "+CGAUTH=",    // PDP authentication (27.007)
    "+QICSGP=",    // Quectel APN with user and password
    "$QCPDPP=",    // Qualcomm PDP authentication
    "+CSOCKAUTH=", // SIMCom socket PDP authentication
    "+CNCFG=",     // SIMCom SIM7080 PDP configuration with user and password
    "+CGPCO=",     // PDP protocol configuration options (user/password)
    "+UAUTHREQ=",  // u-blox PDP authentication
    "^AUTHDATA=",  // Huawei PDP authentication
];

/// The marker that replaces secret arguments.
pub const REDACTED: &str = "<redacted>";

/// Returns `text` with the arguments of every secret command replaced by
/// `<redacted>`. Borrows when there is nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already accounted for in `out`
    let mut i = 0;
    while i < bytes.len() {
        match secret_at(bytes, i) {
            Some(marker_len) => {
                let args_start = i + marker_len;
                let args_end = arguments_end(bytes, args_start);
                let s = out.get_or_insert_with(|| String::with_capacity(text.len()));
                s.push_str(&text[copied..args_start]);
                s.push_str(REDACTED);
                copied = args_end;
                i = args_end;
            }
            None => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut s) => {
            s.push_str(&text[copied..]);
            Cow::Owned(s)
        }
    }
}

/// Whether any secret command occurs in `text`.
pub fn is_secret(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|i| secret_at(bytes, i).is_some())
}

/// The length from `i` to just past the `=` of a secret command starting at
/// `i`, if one does. Spaces and tabs may stand between the command's name and
/// its `=` (`AT+CPIN = "1234"`): modems accept that, so redaction must too.
fn secret_at(bytes: &[u8], i: usize) -> Option<usize> {
    let first = *bytes.get(i)?;
    if !matches!(first, b'+' | b'$' | b'^') {
        return None;
    }
    SECRET_COMMANDS.iter().find_map(|marker| {
        let name = marker.strip_suffix('=').unwrap_or(marker).as_bytes();
        let candidate = bytes.get(i..i + name.len())?;
        if !candidate.eq_ignore_ascii_case(name) {
            return None;
        }
        let mut j = i + name.len();
        while matches!(bytes.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        (bytes.get(j) == Some(&b'=')).then_some(j + 1 - i)
    })
}

fn arguments_end(bytes: &[u8], start: usize) -> usize {
    let mut quoted = false;
    for (offset, &b) in bytes[start..].iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => return start + offset,
            b'\r' | b'\n' => return start + offset,
            _ => {}
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_secret_command() {
        let cases = [
            ("AT+CPIN=1234", "AT+CPIN=<redacted>"),
            ("AT+CPIN=\"12345678\",\"1234\"", "AT+CPIN=<redacted>"),
            ("AT+CPIN2=1234", "AT+CPIN2=<redacted>"),
            ("AT+CPWD=\"SC\",\"1111\",\"2222\"", "AT+CPWD=<redacted>"),
            ("AT+CLCK=\"SC\",0,\"1234\"", "AT+CLCK=<redacted>"),
            ("AT+CGAUTH=1,1,\"user\",\"secret\"", "AT+CGAUTH=<redacted>"),
            (
                "AT+QICSGP=1,1,\"apn\",\"u\",\"p\",1",
                "AT+QICSGP=<redacted>",
            ),
            ("AT$QCPDPP=1,1,\"p\",\"u\"", "AT$QCPDPP=<redacted>"),
            ("AT+CSOCKAUTH=1,1,\"p\",\"u\"", "AT+CSOCKAUTH=<redacted>"),
            ("AT+CNCFG=0,1,\"apn\",\"u\",\"p\",1", "AT+CNCFG=<redacted>"),
            ("AT^AUTHDATA=1,1,\"\",\"p\",\"u\"", "AT^AUTHDATA=<redacted>"),
            ("at+cpin=0000", "at+cpin=<redacted>"),
            // Spaces or tabs before the `=`: accepted by modems, so redacted too.
            ("AT+CPIN = \"7315\"", "AT+CPIN =<redacted>"),
            ("AT+CGAUTH =1,2,\"user\",\"pass\"", "AT+CGAUTH =<redacted>"),
            ("AT+CPIN\t\t=1234", "AT+CPIN\t\t=<redacted>"),
            (
                "AT+CMEE=2;+CPIN =1234;+CSQ",
                "AT+CMEE=2;+CPIN =<redacted>;+CSQ",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
            assert!(is_secret(input), "{input}");
        }
    }

    #[test]
    fn leaves_queries_and_other_commands_alone() {
        for text in [
            "AT+CPIN?",
            "AT+CGAUTH?",
            "AT+CSQ",
            "ATE0",
            "",
            "+",
            "AT+CPIN",
            "AT+CPIN ",
            "AT+CPIN ?",
            "AT+CPINX=1",
            "AT+CGDCONT=1,\"IP\",\"internet\"",
        ] {
            assert_eq!(redact(text), text);
            assert!(matches!(redact(text), Cow::Borrowed(_)));
            assert!(!is_secret(text), "{text}");
        }
    }

    #[test]
    fn redacts_inside_compound_lines_and_keeps_the_rest() {
        assert_eq!(
            redact("AT+CMEE=2;+CPIN=1234;+CSQ"),
            "AT+CMEE=2;+CPIN=<redacted>;+CSQ"
        );
        assert_eq!(
            redact("AT+CGAUTH=1,1,\"a;b\",\"c\";+CPIN=1;+CPWD=\"SC\",\"1\",\"2\""),
            "AT+CGAUTH=<redacted>;+CPIN=<redacted>;+CPWD=<redacted>"
        );
        assert_eq!(redact("AT+CPIN=1234\r\n"), "AT+CPIN=<redacted>\r\n");
    }

    #[test]
    fn never_panics_on_multibyte_text() {
        assert_eq!(redact("é+CPIN=é€"), "é+CPIN=<redacted>");
        assert_eq!(redact("€€+"), "€€+");
    }
}
