//! pppd script events: what `cellular_notify` sends to the BEAM and what the
//! NIF decodes.
//!
//! pppd runs its ip-up / ip-down (and, from 2.5.0, ipv6-up / ipv6-down)
//! scripts with a fixed argument list and an environment that it builds from
//! scratch:
//!
//! ```text
//! argv: <script> <ifname> <tty-device> <speed> <local> <remote> <ipparam>
//! env:  IFNAME, DEVICE, SPEED, IPLOCAL, IPREMOTE, DNS1, DNS2, LLLOCAL, LLREMOTE,
//!       PEERNAME, ORIG_UID, PPPLOGNAME, PPPD_PID, UNIT, LINKNAME, CALL_FILE,
//!       USEPEERDNS, CONNECT_TIME, BYTES_SENT, BYTES_RCVD, ... and `set` options
//! ```
//!
//! For ipv6 scripts, `<local>`/`<remote>` are the link-local addresses. The
//! notifier forwards all of it, unchanged, in one [`PppEvent`] datagram encoded
//! with MessagePack (`rmp-serde`). Nothing here interprets addresses: the
//! Elixir side parses them and rejects bad ones.
//!
//! ```
//! use cellular_core::ppp_event::{Kind, PppEvent};
//!
//! let event = PppEvent::new(
//!     Kind::IpUp,
//!     "/tmp/vintage_net/ppp0.ip-up".into(),
//!     vec!["ppp0".into(), "/dev/ttyUSB3".into()],
//!     vec![("IFNAME".into(), "ppp0".into())],
//! );
//! let bytes = event.encode().unwrap();
//! assert_eq!(PppEvent::decode(&bytes).unwrap(), event);
//! ```

use crate::Value;
use serde::{Deserialize, Serialize};

/// The version of the datagram layout. Bumped on any incompatible change; the
/// decoder refuses other versions with a clear error.
pub const FORMAT: u8 = 1;

/// The largest datagram the notifier sends and the receiver must accept.
/// pppd's environment is a few hundred bytes; this leaves room for `set`
/// options while staying well below Linux's default socket buffer.
pub const MAX_DATAGRAM: usize = 32 * 1024;

/// The variables pppd itself sets for its scripts (2.4.9 – 2.5.x). When an
/// event would not fit in [`MAX_DATAGRAM`], only these are kept.
pub const PPPD_VARIABLES: &[&str] = &[
    "ACNAME",
    "BUNDLE",
    "BYTES_RCVD",
    "BYTES_SENT",
    "CALL_FILE",
    "CONNECT_TIME",
    "DEVICE",
    "DNS1",
    "DNS2",
    "IFNAME",
    "IPLOCAL",
    "IPREMOTE",
    "LINKNAME",
    "LLLOCAL",
    "LLREMOTE",
    "MACREMOTE",
    "OLDIPLOCAL",
    "OLDIPREMOTE",
    "ORIG_UID",
    "PEERNAME",
    "PPPD_PID",
    "PPPLOGNAME",
    "REMOTENUMBER",
    "SPEED",
    "UNIT",
    "USEPEERDNS",
    "USEPEERWINS",
    "VRF",
    "WINS1",
    "WINS2",
];

/// Which pppd script ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// IPCP came up (`ip-up`).
    #[serde(rename = "ip-up")]
    IpUp,
    /// IPCP went down (`ip-down`).
    #[serde(rename = "ip-down")]
    IpDown,
    /// IPv6CP came up (`ipv6-up`).
    #[serde(rename = "ipv6-up")]
    Ipv6Up,
    /// IPv6CP went down (`ipv6-down`).
    #[serde(rename = "ipv6-down")]
    Ipv6Down,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 4] = [Kind::IpUp, Kind::IpDown, Kind::Ipv6Up, Kind::Ipv6Down];

    /// The script name pppd uses for this event (`"ip-up"`, ...).
    pub fn script_name(self) -> &'static str {
        match self {
            Kind::IpUp => "ip-up",
            Kind::IpDown => "ip-down",
            Kind::Ipv6Up => "ipv6-up",
            Kind::Ipv6Down => "ipv6-down",
        }
    }

    /// The atom name the event has in Elixir (`:ip_up`, ...).
    pub fn atom(self) -> &'static str {
        match self {
            Kind::IpUp => "ip_up",
            Kind::IpDown => "ip_down",
            Kind::Ipv6Up => "ipv6_up",
            Kind::Ipv6Down => "ipv6_down",
        }
    }

    /// Parses a script name exactly (`"ip-up"` → `IpUp`).
    pub fn from_script_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.script_name() == name)
    }

    /// The kind a program path names: its basename is either exactly a script
    /// name or ends in `.<script name>`, as in `/tmp/vintage_net/ppp0.ip-up`.
    ///
    /// ```
    /// use cellular_core::ppp_event::Kind;
    /// assert_eq!(Kind::from_program("/tmp/vn/ppp0.ipv6-down"), Some(Kind::Ipv6Down));
    /// assert_eq!(Kind::from_program("ip-up"), Some(Kind::IpUp));
    /// assert_eq!(Kind::from_program("/usr/bin/cellular_notify"), None);
    /// ```
    pub fn from_program(program: &str) -> Option<Kind> {
        let base = program.rsplit('/').next().unwrap_or(program);
        let suffix = base.rsplit('.').next().unwrap_or(base);
        Kind::from_script_name(suffix)
    }
}

/// One pppd script invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PppEvent {
    /// Always [`FORMAT`] when sent by this version.
    pub format: u8,
    /// Which script ran.
    pub kind: Kind,
    /// `argv[0]` as pppd passed it (the script path).
    pub program: String,
    /// `argv[1..]`: ifname, tty device, speed, local, remote, ipparam.
    pub args: Vec<String>,
    /// The whole environment, sorted by name.
    pub env: Vec<(String, String)>,
    /// Whether variables pppd does not set itself were dropped to fit the
    /// datagram.
    pub truncated: bool,
    /// Names of arguments (`"argv[N]"`) and variables whose bytes were not
    /// UTF-8 and were converted with U+FFFD replacement characters.
    pub lossy: Vec<String>,
}

/// Why bytes could not be turned into an event. `reason` becomes an atom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub reason: &'static str,
    pub detail: String,
}

/// Why an event could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot encode pppd event: {}", self.0)
    }
}

impl std::error::Error for EncodeError {}

impl PppEvent {
    /// Builds an event of the current [`FORMAT`]; `env` is sorted by name.
    pub fn new(
        kind: Kind,
        program: String,
        args: Vec<String>,
        mut env: Vec<(String, String)>,
    ) -> PppEvent {
        env.sort();
        PppEvent {
            format: FORMAT,
            kind,
            program,
            args,
            env,
            truncated: false,
            lossy: Vec::new(),
        }
    }

    /// The value of an environment variable, if pppd set it.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `argv[index]` (1-based like pppd's, so `arg(1)` is the ifname).
    pub fn arg(&self, index: usize) -> Option<&str> {
        index
            .checked_sub(1)
            .and_then(|i| self.args.get(i))
            .map(String::as_str)
    }

    /// Encodes the event as MessagePack. If the result is larger than
    /// [`MAX_DATAGRAM`], variables outside [`PPPD_VARIABLES`] are dropped and
    /// `truncated` is set; if it still does not fit, this fails.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let bytes = self.encode_raw()?;
        if bytes.len() <= MAX_DATAGRAM {
            return Ok(bytes);
        }
        let mut reduced = self.clone();
        reduced
            .env
            .retain(|(k, _)| PPPD_VARIABLES.contains(&k.as_str()));
        reduced.truncated = true;
        let bytes = reduced.encode_raw()?;
        if bytes.len() <= MAX_DATAGRAM {
            Ok(bytes)
        } else {
            Err(EncodeError(format!(
                "{} bytes even without extra variables (limit {MAX_DATAGRAM})",
                bytes.len()
            )))
        }
    }

    fn encode_raw(&self) -> Result<Vec<u8>, EncodeError> {
        rmp_serde::to_vec_named(self).map_err(|e| EncodeError(e.to_string()))
    }

    /// Decodes a datagram produced by [`PppEvent::encode`].
    pub fn decode(bytes: &[u8]) -> Result<PppEvent, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError {
                reason: "empty",
                detail: "the datagram is empty".into(),
            });
        }
        if bytes.len() > MAX_DATAGRAM {
            return Err(DecodeError {
                reason: "too_large",
                detail: format!("{} bytes, the limit is {MAX_DATAGRAM}", bytes.len()),
            });
        }
        // Read the format first so that a newer notifier gets a clear
        // "format" error instead of a confusing field mismatch.
        #[derive(Deserialize)]
        struct Header {
            format: u8,
        }
        match rmp_serde::from_slice::<Header>(bytes) {
            Ok(Header { format }) if format != FORMAT => {
                return Err(DecodeError {
                    reason: "format",
                    detail: format!("format {format}, this library reads format {FORMAT}"),
                })
            }
            Ok(_) => {}
            Err(e) => {
                return Err(DecodeError {
                    reason: "malformed",
                    detail: e.to_string(),
                })
            }
        }
        rmp_serde::from_slice::<PppEvent>(bytes).map_err(|e| DecodeError {
            reason: "malformed",
            detail: e.to_string(),
        })
    }

    /// The event as a BEAM-shaped value:
    ///
    /// ```text
    /// %{format: 1, kind: :ip_up, program: "...", args: ["ppp0", ...],
    ///   env: [{"DNS1", "8.8.8.8"}, ...], truncated: false, lossy: []}
    /// ```
    ///
    /// `env` is a list of `{name, value}` pairs because variable names are not
    /// known in advance and must not become atoms.
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            ("format", Value::Int(self.format.into())),
            ("kind", Value::Atom(self.kind.atom())),
            ("program", Value::Str(self.program.clone())),
            (
                "args",
                Value::List(self.args.iter().cloned().map(Value::Str).collect()),
            ),
            (
                "env",
                Value::List(
                    self.env
                        .iter()
                        .map(|(k, v)| {
                            Value::Tuple(vec![Value::Str(k.clone()), Value::Str(v.clone())])
                        })
                        .collect(),
                ),
            ),
            ("truncated", Value::Bool(self.truncated)),
            (
                "lossy",
                Value::List(self.lossy.iter().cloned().map(Value::Str).collect()),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PppEvent {
        PppEvent::new(
            Kind::IpUp,
            "/tmp/vintage_net/ppp0.ip-up".into(),
            vec![
                "ppp0".into(),
                "/dev/ttyUSB3".into(),
                "115200".into(),
                "10.0.0.2".into(),
                "10.64.64.64".into(),
                "/tmp/vintage_net/ppp0.notify".into(),
            ],
            vec![
                ("IPREMOTE".into(), "10.64.64.64".into()),
                ("IFNAME".into(), "ppp0".into()),
                ("DNS1".into(), "8.8.8.8".into()),
            ],
        )
    }

    #[test]
    fn round_trips() {
        let event = sample();
        let bytes = event.encode().unwrap();
        assert_eq!(PppEvent::decode(&bytes).unwrap(), event);
    }

    #[test]
    fn env_is_sorted_and_searchable() {
        let event = sample();
        let names: Vec<&str> = event.env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["DNS1", "IFNAME", "IPREMOTE"]);
        assert_eq!(event.env_var("IFNAME"), Some("ppp0"));
        assert_eq!(event.env_var("IPLOCAL"), None);
        assert_eq!(event.arg(1), Some("ppp0"));
        assert_eq!(event.arg(6), Some("/tmp/vintage_net/ppp0.notify"));
        assert_eq!(event.arg(0), None);
        assert_eq!(event.arg(7), None);
    }

    #[test]
    fn kinds_from_programs() {
        for kind in Kind::ALL {
            let name = kind.script_name();
            assert_eq!(Kind::from_program(name), Some(kind));
            assert_eq!(Kind::from_program(&format!("/a/b/ppp1.{name}")), Some(kind));
            assert_eq!(Kind::from_script_name(name), Some(kind));
        }
        assert_eq!(Kind::from_program("/etc/ppp/ip-up.local"), None);
        assert_eq!(Kind::from_program("/a/ip-up/cellular_notify"), None);
        assert_eq!(Kind::from_program("/a/ppp0.ipv6-upx"), None);
        assert_eq!(Kind::from_program(""), None);
    }

    #[test]
    fn kind_serializes_as_script_name() {
        let bytes = rmp_serde::to_vec(&Kind::Ipv6Down).unwrap();
        let text: String = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(text, "ipv6-down");
    }

    #[test]
    fn rejects_empty_and_garbage() {
        assert_eq!(PppEvent::decode(b"").unwrap_err().reason, "empty");
        assert_eq!(
            PppEvent::decode(b"\xc1\x00").unwrap_err().reason,
            "malformed"
        );
        let too_big = vec![0u8; MAX_DATAGRAM + 1];
        assert_eq!(PppEvent::decode(&too_big).unwrap_err().reason, "too_large");
    }

    #[test]
    fn rejects_other_formats_by_name() {
        let mut event = sample();
        event.format = 7;
        let bytes = rmp_serde::to_vec_named(&event).unwrap();
        let err = PppEvent::decode(&bytes).unwrap_err();
        assert_eq!(err.reason, "format");
        assert!(err.detail.contains("format 7"), "{}", err.detail);
    }

    #[test]
    fn rejects_wrong_kind() {
        #[derive(Serialize)]
        struct Fake<'a> {
            format: u8,
            kind: &'a str,
        }
        let bytes = rmp_serde::to_vec_named(&Fake {
            format: FORMAT,
            kind: "ip-sideways",
        })
        .unwrap();
        let err = PppEvent::decode(&bytes).unwrap_err();
        assert_eq!(err.reason, "malformed");
        assert!(err.detail.contains("ip-sideways"), "{}", err.detail);
    }

    #[test]
    fn oversized_env_keeps_pppd_variables() {
        let mut event = sample();
        event.env.push(("HUGE".into(), "x".repeat(MAX_DATAGRAM)));
        let decoded = PppEvent::decode(&event.encode().unwrap()).unwrap();
        assert!(decoded.truncated);
        assert_eq!(decoded.env_var("HUGE"), None);
        assert_eq!(decoded.env_var("DNS1"), Some("8.8.8.8"));

        let mut hopeless = sample();
        hopeless.args.push("y".repeat(MAX_DATAGRAM));
        assert!(hopeless.encode().is_err());
    }

    #[test]
    fn value_shape() {
        let value = sample().to_value();
        assert_eq!(value.get("kind"), Some(&Value::Atom("ip_up")));
        assert_eq!(value.get("format"), Some(&Value::Int(1)));
        assert_eq!(value.get("truncated"), Some(&Value::Bool(false)));
        match value.get("env") {
            Some(Value::List(pairs)) => assert_eq!(
                pairs[0],
                Value::Tuple(vec![
                    Value::Str("DNS1".into()),
                    Value::Str("8.8.8.8".into())
                ])
            ),
            other => panic!("env is {other:?}"),
        }
        match value.get("args") {
            Some(Value::List(args)) => assert_eq!(args[0], Value::Str("ppp0".into())),
            other => panic!("args is {other:?}"),
        }
    }
}
