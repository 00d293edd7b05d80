//! pppd script events: what `cellular_port`'s notifier sends to the BEAM.
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
//! notifier forwards all of it, unchanged, in one [`PppEvent`] datagram: the
//! Erlang external term format of [`PppEvent::to_value`] (`crate::etf`, the
//! port protocol's codec; it was MessagePack through serde and rmp-serde,
//! which cost the NIF and the program ~60 KB for this one datagram). The BEAM
//! reads it with `binary_to_term(bytes, [:safe])` and checks every field
//! (`VintageNetCellular.PPP.Datagram`); no NIF is involved. Nothing here
//! interprets addresses: the Elixir side parses them and rejects bad ones.
//!
//! ```
//! use cellular_core::ppp_event::{self, Kind, PppEvent};
//!
//! let event = PppEvent::new(
//!     Kind::IpUp,
//!     "/tmp/vintage_net/ppp0.ip-up".into(),
//!     vec!["ppp0".into(), "/dev/ttyUSB3".into()],
//!     vec![("IFNAME".into(), "ppp0".into())],
//! );
//! let bytes = event.encode().unwrap();
//! assert_eq!(cellular_core::etf::decode(&bytes, ppp_event::WIRE_ATOMS), Ok(event.to_value()));
//! ```

use crate::{etf, Value};

/// The version of the datagram layout. Bumped on any incompatible change; the
/// BEAM refuses other versions with a clear error. 2: Erlang terms (1 was
/// MessagePack).
pub const FORMAT: u8 = 2;

/// The atoms a datagram may hold: the map's keys and the kinds (the BEAM's
/// `VintageNetCellular.PPP.Datagram` has each as a literal).
pub const WIRE_ATOMS: &[&str] = &[
    "format",
    "kind",
    "program",
    "args",
    "env",
    "truncated",
    "lossy",
    "ip_up",
    "ip_down",
    "ipv6_up",
    "ipv6_down",
];

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// IPCP came up (`ip-up`).
    IpUp,
    /// IPCP went down (`ip-down`).
    IpDown,
    /// IPv6CP came up (`ipv6-up`).
    Ipv6Up,
    /// IPv6CP went down (`ipv6-down`).
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        env.sort_unstable();
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

    /// Encodes the event (Erlang terms, see the module doc). If the result is larger than
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
        Ok(etf::encode(&self.to_value()))
    }

    /// The event as a BEAM-shaped value:
    ///
    /// ```text
    /// %{format: 2, kind: :ip_up, program: "...", args: ["ppp0", ...],
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

    /// The datagram read back with the generic term decoder (the BEAM's
    /// view, less its field checks, which live in Elixir).
    fn decoded(bytes: &[u8]) -> Value {
        etf::decode(bytes, WIRE_ATOMS).unwrap()
    }

    fn env_of(value: &Value) -> Vec<(String, String)> {
        match value.get("env") {
            Some(Value::List(pairs)) => pairs
                .iter()
                .map(|pair| match pair {
                    Value::Tuple(kv) => match (&kv[0], &kv[1]) {
                        (Value::Str(k), Value::Str(v)) => (k.clone(), v.clone()),
                        other => panic!("env pair {other:?}"),
                    },
                    other => panic!("env item {other:?}"),
                })
                .collect(),
            other => panic!("env is {other:?}"),
        }
    }

    #[test]
    fn round_trips() {
        let event = sample();
        let bytes = event.encode().unwrap();
        assert!(bytes.len() <= MAX_DATAGRAM);
        assert_eq!(decoded(&bytes), event.to_value());
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
    fn every_kind_round_trips() {
        for kind in Kind::ALL {
            let mut event = sample();
            event.kind = kind;
            assert_eq!(decoded(&event.encode().unwrap()), event.to_value());
        }
    }

    #[test]
    fn oversized_env_keeps_pppd_variables() {
        let mut event = sample();
        event.env.push(("HUGE".into(), "x".repeat(MAX_DATAGRAM)));
        let value = decoded(&event.encode().unwrap());
        assert_eq!(value.get("truncated"), Some(&Value::Bool(true)));
        let env = env_of(&value);
        assert!(env.iter().all(|(k, _)| k != "HUGE"), "{env:?}");
        assert!(env.contains(&("DNS1".into(), "8.8.8.8".into())));

        let mut hopeless = sample();
        hopeless.args.push("y".repeat(MAX_DATAGRAM));
        assert!(hopeless.encode().is_err());
    }

    #[test]
    fn value_shape() {
        let value = sample().to_value();
        assert_eq!(value.get("kind"), Some(&Value::Atom("ip_up")));
        assert_eq!(value.get("format"), Some(&Value::Int(FORMAT.into())));
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
