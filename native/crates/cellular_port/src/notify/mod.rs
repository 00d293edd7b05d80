//! `cellular_port ip-up ...`: the pppd ip-up / ip-down / ipv6-up / ipv6-down
//! script of vintage_net_cellular (formerly its own program, `cellular_notify`).
//!
//! pppd runs it with a cleared environment and `argv` =
//! `<script> <ifname> <tty> <speed> <local> <remote> <ipparam>`. It packs
//! `argv` and the whole environment into one MessagePack datagram
//! ([`cellular_core::ppp_event::PppEvent`]) and sends it to the unix datagram
//! socket whose path pppd passes as `ipparam`. `VintageNetCellular.PPP.Notifier`
//! listens there.
//!
//! The event kind comes from the basename of `argv[0]`: pppd is pointed at
//! per-event symlinks (`ip-up-script <tmpdir>/ppp0.ip-up` with
//! `<tmpdir>/ppp0.ip-up -> .../priv/native/cellular_port`). By hand, the kind
//! may come first:
//! `cellular_port ip-up ppp0 /dev/ttyUSB3 115200 10.0.0.2 10.64.64.64 /path/to.sock`.
//!
//! It never disturbs pppd: the send has a short timeout, every failure is
//! reported on stderr (pppd points it at /dev/null), and the exit status is
//! always 0.

#![forbid(unsafe_code)]

pub mod collect;

use cellular_core::ppp_event::Kind;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

/// How long a send may block when the receiver's queue is full.
const SEND_TIMEOUT: Duration = Duration::from_millis(500);

pub const USAGE: &str =
    "usage: <ip-up|ip-down|ipv6-up|ipv6-down symlink> IFNAME TTY SPEED LOCAL REMOTE SOCKET\n\
       cellular_port <ip-up|ip-down|ipv6-up|ipv6-down> IFNAME TTY SPEED LOCAL REMOTE SOCKET\n\
(pppd passes these; SOCKET is pppd's `ipparam`)";

/// Whether this invocation is an event script's: `argv[0]` names an event
/// (the per-event symlinks) or the event comes first (`cellular_port ip-up ...`).
pub fn is_invocation(argv: &[std::ffi::OsString]) -> bool {
    let named = |arg: Option<&std::ffi::OsString>, f: fn(&str) -> Option<Kind>| {
        arg.and_then(|a| a.to_str()).and_then(f).is_some()
    };
    named(argv.first(), Kind::from_program) || named(argv.get(1), Kind::from_script_name)
}

/// Runs the notifier; the exit status is always 0.
pub fn main(argv: Vec<std::ffi::OsString>) -> i32 {
    if let Err(message) = run(argv, std::env::vars_os().collect()) {
        eprintln!("cellular_port (pppd event): {message}");
    }
    // Exit 0 whatever happened: pppd must not be disturbed.
    0
}

fn run(
    argv: Vec<std::ffi::OsString>,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
) -> Result<(), String> {
    let invocation = collect::collect(argv, env).map_err(|e| format!("{e}\n{USAGE}"))?;
    let bytes = invocation.event.encode().map_err(|e| e.to_string())?;
    send(&bytes, &invocation.socket, SEND_TIMEOUT).map_err(|e| {
        format!(
            "{} event not delivered to {}: {e}",
            invocation.event.kind.script_name(),
            invocation.socket.display()
        )
    })
}

/// Sends one datagram from an unbound socket, waiting at most `timeout`.
fn send(bytes: &[u8], socket: &Path, timeout: Duration) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    sock.set_write_timeout(Some(timeout))?;
    let sent = sock.send_to(bytes, socket)?;
    if sent != bytes.len() {
        return Err(std::io::Error::other(format!(
            "short send: {sent} of {} bytes",
            bytes.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellular_core::ppp_event::{Kind, WIRE_ATOMS};
    use cellular_core::Value;
    use std::ffi::OsString;

    fn temp_socket(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cellular_port_notify_test_{}_{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("s")
    }

    fn argv(socket: &Path) -> Vec<OsString> {
        [
            "/tmp/x/ppp0.ipv6-up",
            "ppp0",
            "/dev/ttyUSB2",
            "921600",
            "fe80::1",
            "fe80::2",
        ]
        .iter()
        .map(OsString::from)
        .chain([socket.as_os_str().to_owned()])
        .collect()
    }

    #[test]
    fn delivers_one_datagram() {
        let path = temp_socket("deliver");
        let receiver = UnixDatagram::bind(&path).unwrap();
        let env = vec![
            (OsString::from("LLLOCAL"), OsString::from("fe80::1")),
            (OsString::from("IFNAME"), OsString::from("ppp0")),
        ];
        run(argv(&path), env).unwrap();
        let mut buf = vec![0u8; 65536];
        let n = receiver.recv(&mut buf).unwrap();
        let value = cellular_core::etf::decode(&buf[..n], WIRE_ATOMS).unwrap();
        assert_eq!(value.get("kind"), Some(&Value::Atom(Kind::Ipv6Up.atom())));
        let text = |s: &str| Value::Str(s.into());
        let Some(Value::List(env)) = value.get("env") else {
            panic!("no env in {value:?}")
        };
        assert!(env.contains(&Value::Tuple(vec![text("LLLOCAL"), text("fe80::1")])));
        let Some(Value::List(args)) = value.get("args") else {
            panic!("no args in {value:?}")
        };
        assert_eq!(args.get(2), Some(&text("921600")));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn missing_socket_is_an_error_not_a_hang() {
        let path = temp_socket("missing");
        let err = run(argv(&path), vec![]).unwrap_err();
        assert!(err.contains("not delivered"), "{err}");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn full_receiver_times_out() {
        let path = temp_socket("full");
        let _receiver = UnixDatagram::bind(&path).unwrap();
        // Never read: the queue fills, and the send must give up in time.
        let payload = vec![7u8; 16 * 1024];
        let mut failed = false;
        for _ in 0..10_000 {
            if send(&payload, &path, Duration::from_millis(50)).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the receiver queue never filled");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
