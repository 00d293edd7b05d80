//! The machine-readable events the simulator prints on stdout, one JSON object
//! per line, written by hand (no JSON crate: the objects are tiny and fixed).
//!
//! ```
//! use cellular_sim::json::{Event, Ports, Usb};
//! use cellular_sim::modem::PortId;
//!
//! let ready = Event::Ready {
//!     model: "EC25".into(),
//!     ports: Ports { at: "/dev/pts/5".into(), ppp: "/dev/pts/6".into() },
//!     usb: Usb { composition: "ecm", pid: 0x0125 },
//! };
//! assert_eq!(
//!     ready.to_json(),
//!     r#"{"event":"ready","model":"EC25","ports":{"at":"/dev/pts/5","ppp":"/dev/pts/6"},"composition":"ecm","usb_pid":"0125"}"#
//! );
//! assert_eq!(Event::Connected(PortId::Ppp).to_json(), r#"{"event":"connected","port":"ppp"}"#);
//! assert_eq!(Event::Log("say \"hi\"\n".into()).to_json(), r#"{"event":"log","message":"say \"hi\"\n"}"#);
//! ```

use crate::modem::PortId;

/// The pty paths of one plug-in of the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    /// The primary AT port (a real EC25's interface 02).
    pub at: String,
    /// The secondary AT port that pppd dials on (interface 03).
    pub ppp: String,
}

/// What the modem shows on USB after a power-on: its network function
/// ("composition") and the product id that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usb {
    /// `serial`, `rmnet`, `ecm`, `rndis` or `mbim`.
    pub composition: &'static str,
    pub pid: u16,
}

/// One line of stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The modem is up; clients may open the ports.
    Ready {
        model: String,
        ports: Ports,
        usb: Usb,
    },
    /// Both ptys were closed (USB unplug, reset or power down).
    Unplugged,
    /// The modem came back under new pty names.
    Replugged { ports: Ports, usb: Usb },
    /// One port's pty closed and a new one took its place (`reopen`).
    Reopened { ports: Ports },
    /// A data call reached CONNECT on this port.
    Connected(PortId),
    /// A data call ended on this port.
    Hangup(PortId),
    /// Free-form information (control commands applied, errors in them).
    Log(String),
}

impl Event {
    /// The event as one line of JSON, without the newline.
    pub fn to_json(&self) -> String {
        match self {
            Event::Ready { model, ports, usb } => format!(
                r#"{{"event":"ready","model":{},"ports":{},{}}}"#,
                quote(model),
                ports_json(ports),
                usb_json(usb)
            ),
            Event::Unplugged => r#"{"event":"unplugged"}"#.to_string(),
            Event::Replugged { ports, usb } => format!(
                r#"{{"event":"replugged","ports":{},{}}}"#,
                ports_json(ports),
                usb_json(usb)
            ),
            Event::Reopened { ports } => {
                format!(r#"{{"event":"reopened","ports":{}}}"#, ports_json(ports))
            }
            Event::Connected(port) => {
                format!(r#"{{"event":"connected","port":{}}}"#, quote(port.name()))
            }
            Event::Hangup(port) => {
                format!(r#"{{"event":"hangup","port":{}}}"#, quote(port.name()))
            }
            Event::Log(message) => {
                format!(r#"{{"event":"log","message":{}}}"#, quote(message))
            }
        }
    }
}

fn ports_json(ports: &Ports) -> String {
    format!(
        r#"{{"at":{},"ppp":{}}}"#,
        quote(&ports.at),
        quote(&ports.ppp)
    )
}

/// The `"composition"` and `"usb_pid"` members (the id as 4 hex digits, a
/// string like the rest so line-oriented readers need one pattern).
fn usb_json(usb: &Usb) -> String {
    format!(
        r#""composition":{},"usb_pid":"{:04x}""#,
        quote(usb.composition),
        usb.pid
    )
}

/// A JSON string literal for `text`: quotes, backslashes and control
/// characters escaped; everything else (UTF-8 included) kept as is.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_everything_json_requires() {
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote("a\\b"), r#""a\\b""#);
        assert_eq!(quote("\u{1}\u{1f}\t"), r#""\u0001\u001f\t""#);
        assert_eq!(quote("héllo"), "\"héllo\"");
        assert_eq!(quote("\r\n"), r#""\r\n""#);
    }

    #[test]
    fn every_event_shape() {
        let ports = Ports {
            at: "/dev/pts/9".into(),
            ppp: "/dev/pts/10".into(),
        };
        assert_eq!(Event::Unplugged.to_json(), r#"{"event":"unplugged"}"#);
        assert_eq!(
            Event::Reopened {
                ports: ports.clone()
            }
            .to_json(),
            r#"{"event":"reopened","ports":{"at":"/dev/pts/9","ppp":"/dev/pts/10"}}"#
        );
        assert_eq!(
            Event::Replugged {
                ports,
                usb: Usb {
                    composition: "rndis",
                    pid: 0x9011
                }
            }
            .to_json(),
            r#"{"event":"replugged","ports":{"at":"/dev/pts/9","ppp":"/dev/pts/10"},"composition":"rndis","usb_pid":"9011"}"#
        );
        assert_eq!(
            Event::Hangup(PortId::At).to_json(),
            r#"{"event":"hangup","port":"at"}"#
        );
    }
}
