//! Turns one process invocation (argv + environment) into a [`PppEvent`] and
//! the socket it must go to. Pure: no I/O, so it is tested directly.

use cellular_core::ppp_event::{Kind, PppEvent};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Where pppd puts `ipparam` in the script's argv (after the program name).
pub const IPPARAM_INDEX: usize = 6;

/// The longest socket path Linux accepts (`sun_path` is 108 bytes with the NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// An event ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub event: PppEvent,
    pub socket: PathBuf,
}

/// Why the invocation can't be turned into an event. Printed to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds the event from `argv` (including `argv[0]`) and the environment.
///
/// The kind comes from the basename of `argv[0]` (`ip-up`, `ppp0.ip-up`, ...,
/// how pppd calls a per-event symlink). When `argv[0]` names no kind, `argv[1]`
/// must be an explicit kind (`cellular_port ip-up ppp0 ...`) and the pppd
/// arguments follow it.
pub fn collect(
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
) -> Result<Invocation, UsageError> {
    let mut lossy = Vec::new();
    let mut strings: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, arg)| to_string(arg, || format!("argv[{i}]"), &mut lossy))
        .collect();
    if strings.is_empty() {
        return Err(UsageError("no argv[0]".into()));
    }
    let program = strings.remove(0);

    let (kind, args) = match Kind::from_program(&program) {
        Some(kind) => (kind, strings),
        None => match strings
            .first()
            .and_then(|first| Kind::from_script_name(first))
        {
            Some(kind) => {
                strings.remove(0);
                // Re-number lossy argv entries so they match pppd's positions.
                for name in lossy.iter_mut() {
                    if let Some(n) = name
                        .strip_prefix("argv[")
                        .and_then(|r| r.strip_suffix(']'))
                        .and_then(|n| n.parse::<usize>().ok())
                    {
                        *name = format!("argv[{}]", n.saturating_sub(1));
                    }
                }
                (kind, strings)
            }
            None => {
                return Err(UsageError(format!(
                    "can't tell the event from {program:?}: name the program (or a symlink to it) \
                     ip-up, ip-down, ipv6-up or ipv6-down (optionally prefixed, as in ppp0.ip-up), \
                     or pass the event as the first argument"
                )))
            }
        },
    };

    let socket = match args.get(IPPARAM_INDEX - 1) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            return Err(UsageError(format!(
                "no socket path: pppd passes `ipparam` as argument {IPPARAM_INDEX}, \
                 and it was missing or empty (got {} arguments); \
                 start pppd with `ipparam <socket path>`",
                args.len()
            )))
        }
    };
    if socket.as_os_str().as_bytes().len() > MAX_SOCKET_PATH {
        return Err(UsageError(format!(
            "socket path {} is longer than {MAX_SOCKET_PATH} bytes",
            socket.display()
        )));
    }

    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| {
            let key = to_string(k, || format!("env {}", k.to_string_lossy()), &mut lossy);
            let value = to_string(v, || key.clone(), &mut lossy);
            (key, value)
        })
        .collect();

    let mut event = PppEvent::new(kind, program, args, env);
    event.lossy = lossy;
    Ok(Invocation { event, socket })
}

fn to_string(value: &OsString, name: impl FnOnce() -> String, lossy: &mut Vec<String>) -> String {
    match value.to_str() {
        Some(s) => s.to_owned(),
        None => {
            lossy.push(name());
            value.to_string_lossy().into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn os(items: &[&str]) -> Vec<OsString> {
        items.iter().map(OsString::from).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    const PPPD_ARGS: [&str; 6] = [
        "ppp0",
        "/dev/ttyUSB3",
        "115200",
        "10.0.0.2",
        "10.64.64.64",
        "/tmp/vintage_net/ppp0.notify",
    ];

    #[test]
    fn kind_from_symlink_name() {
        let mut argv = vec!["/tmp/vintage_net/ppp0.ip-up"];
        argv.extend(PPPD_ARGS);
        let inv = collect(
            os(&argv),
            env(&[
                ("IFNAME", "ppp0"),
                ("IPLOCAL", "10.0.0.2"),
                ("DNS1", "8.8.8.8"),
            ]),
        )
        .unwrap();
        assert_eq!(inv.event.kind, Kind::IpUp);
        assert_eq!(inv.event.program, "/tmp/vintage_net/ppp0.ip-up");
        assert_eq!(inv.event.args, PPPD_ARGS);
        assert_eq!(inv.socket, PathBuf::from("/tmp/vintage_net/ppp0.notify"));
        assert_eq!(inv.event.env_var("DNS1"), Some("8.8.8.8"));
        assert_eq!(inv.event.env.len(), 3);
        assert!(inv.event.lossy.is_empty());
    }

    #[test]
    fn every_kind_from_plain_script_names() {
        for kind in Kind::ALL {
            let mut argv = vec![kind.script_name()];
            argv.extend(PPPD_ARGS);
            assert_eq!(collect(os(&argv), vec![]).unwrap().event.kind, kind);
        }
    }

    #[test]
    fn explicit_kind_argument() {
        let mut argv = vec!["/usr/lib/priv/native/cellular_port", "ipv6-down"];
        argv.extend(PPPD_ARGS);
        let inv = collect(os(&argv), vec![]).unwrap();
        assert_eq!(inv.event.kind, Kind::Ipv6Down);
        assert_eq!(inv.event.args, PPPD_ARGS);
        assert_eq!(inv.event.program, "/usr/lib/priv/native/cellular_port");
    }

    #[test]
    fn program_name_wins_over_first_argument() {
        // An interface literally named "ip-down" must not change the event.
        let argv = os(&["x.ip-up", "ip-down", "tty", "1", "a", "b", "/s"]);
        let inv = collect(argv, vec![]).unwrap();
        assert_eq!(inv.event.kind, Kind::IpUp);
        assert_eq!(inv.event.arg(1), Some("ip-down"));
    }

    #[test]
    fn unknown_kind_is_explained() {
        let mut argv = vec!["/usr/bin/cellular_port"];
        argv.extend(PPPD_ARGS);
        let err = collect(os(&argv), vec![]).unwrap_err();
        assert!(err.0.contains("can't tell the event"), "{err}");
        assert!(collect(vec![], vec![]).is_err());
    }

    #[test]
    fn missing_or_empty_ipparam_is_explained() {
        // pppd without `ipparam` ends argv after the remote address.
        let err = collect(os(&["ip-up", "ppp0", "tty", "1", "a", "b"]), vec![]).unwrap_err();
        assert!(err.0.contains("ipparam"), "{err}");
        let err = collect(os(&["ip-up", "ppp0", "tty", "1", "a", "b", ""]), vec![]).unwrap_err();
        assert!(err.0.contains("ipparam"), "{err}");
    }

    #[test]
    fn overlong_socket_path_is_rejected() {
        let long = format!("/{}", "s".repeat(MAX_SOCKET_PATH));
        let err = collect(os(&["ip-up", "ppp0", "tty", "1", "a", "b", &long]), vec![]).unwrap_err();
        assert!(err.0.contains("longer than"), "{err}");
    }

    #[test]
    fn non_utf8_is_replaced_and_named() {
        let mut argv = os(&["ip-down", "ppp0", "tty", "1", "a", "b", "/s"]);
        argv[2] = OsString::from_vec(b"tty\xff".to_vec());
        let env = vec![
            (
                OsString::from("PEERNAME"),
                OsString::from_vec(b"peer\xfe".to_vec()),
            ),
            (OsString::from("IFNAME"), OsString::from("ppp0")),
        ];
        let inv = collect(argv, env).unwrap();
        assert_eq!(inv.event.arg(2), Some("tty\u{fffd}"));
        assert_eq!(inv.event.env_var("PEERNAME"), Some("peer\u{fffd}"));
        assert_eq!(inv.event.lossy, ["argv[2]", "PEERNAME"]);
    }

    #[test]
    fn lossy_positions_follow_pppd_numbering_with_explicit_kind() {
        let mut argv = os(&[
            "cellular_notify",
            "ip-up",
            "ppp0",
            "tty",
            "1",
            "a",
            "b",
            "/s",
        ]);
        argv[3] = OsString::from_vec(b"t\xff".to_vec());
        let inv = collect(argv, vec![]).unwrap();
        assert_eq!(inv.event.lossy, ["argv[2]"]);
    }

    #[test]
    fn encodes_within_a_datagram() {
        let mut argv = vec!["ppp0.ip-up"];
        argv.extend(PPPD_ARGS);
        let inv = collect(os(&argv), env(&[("IFNAME", "ppp0")])).unwrap();
        let bytes = inv.event.encode().unwrap();
        let back = cellular_core::etf::decode(&bytes, cellular_core::ppp_event::WIRE_ATOMS);
        assert_eq!(back, Ok(inv.event.to_value()));
    }
}
