//! `cellular_port uevents`: the kernel's device events, for
//! `VintageNetCellular.Uevents`.
//!
//! Listens on a `NETLINK_KOBJECT_UEVENT` socket (multicast group 1, the
//! kernel's own events; udev's group 2 is not joined) and writes one frame
//! (`{:packet, 4}`, the Erlang external term format, as the tty mode does)
//! per event of a subsystem a modem shows up in: `{:uevent, %{...}}`, see
//! `cellular_core::uevent`. Datagrams that don't come from the kernel (a
//! sender port other than 0) and udev's re-broadcasts are ignored.
//!
//! * Once the socket is bound: `:uevents_listening`.
//! * The socket can't be opened (no netlink, not allowed): one frame
//!   `{:uevents_unavailable, reason}`, then exit 0. The BEAM then relies on
//!   polling sysfs.
//! * Events were lost (the socket's buffer overflowed, a datagram was cut):
//!   `{:uevents_lost, reason}`, so the BEAM looks for itself.
//! * End of stdin (the BEAM closed the port) or of stdout ends the program.
//! * `cellular_port uevents --atoms` prints the frames' atoms, one a line.
//!
//! Memory is bounded: one datagram buffer ([`uevent::MAX_MESSAGE`]), and at
//! most [`MAX_BATCH`] frames wait before they are written (blocking, so a
//! slow BEAM backs up into the socket's buffer, and an overflow there is
//! reported as lost events, not kept here).

use cellular_core::protocol::frame;
use cellular_core::uevent::{self, Message};
use cellular_core::{etf, Value};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Datagrams read in one go before their frames are written.
const MAX_BATCH: usize = 64;
/// The socket's receive buffer asked for: a USB hub with several modems
/// re-enumerating brings a few hundred events at once.
const RCVBUF: libc::c_int = 1 << 20;

/// Runs the listener; the program's exit status.
pub fn run(args: &[String]) -> i32 {
    if args.iter().any(|a| a == "--atoms") {
        let mut out = io::stdout().lock();
        for atom in uevent::ATOMS {
            let _ = writeln!(out, "{atom}");
        }
        return 0;
    }
    let socket = match open() {
        Ok(socket) => socket,
        Err(e) => {
            let reason = format!("cannot listen to kernel uevents (NETLINK_KOBJECT_UEVENT): {e}");
            write_frames(&[uevent::unavailable(&reason)]);
            return 0;
        }
    };
    write_frames(&[uevent::listening()]);
    let mut buf = vec![0u8; uevent::MAX_MESSAGE];
    let mut stdin_buf = [0u8; 512];
    let mut out = Vec::new();
    loop {
        let mut fds = [
            libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: socket.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfds for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            eprintln!("cellular_port uevents: poll: {e}");
            return 1;
        }
        if fds[0].revents != 0 {
            // Nothing is asked on stdin; it only tells when the BEAM is gone.
            match crate::sys::read(0, &mut stdin_buf) {
                Ok(0) => return 0,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return 0,
            }
        }
        if fds[1].revents != 0 {
            if let Err(e) = drain(socket.as_raw_fd(), &mut buf, &mut out) {
                out.push(uevent::lost(&format!(
                    "reading the uevent socket failed: {e}"
                )));
                write_frames(&out);
                return 1;
            }
            write_frames(&out);
            out.clear();
        }
    }
}

/// A netlink socket bound to the kernel's uevent group, non-blocking.
pub fn open() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with integer arguments only.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            libc::NETLINK_KOBJECT_UEVENT,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // A bigger buffer is welcome, not required: SO_RCVBUFFORCE (root) past
    // the system's limit, else SO_RCVBUF up to it.
    let size = RCVBUF;
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: `size` is a c_int that lives across the call, its size given.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            break;
        }
    }
    // SAFETY: sockaddr_nl is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_pid = 0; // the kernel picks our port id
    addr.nl_groups = 1; // the kernel's uevents
                        // SAFETY: `addr` is a sockaddr_nl that lives across the call, its size given.
    let r = unsafe {
        libc::bind(
            fd,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// Reads the datagrams waiting on `fd` (at most [`MAX_BATCH`]) and adds
/// the frames to send to `out`. An error other than "nothing more" or an
/// overflow means the socket is unusable.
pub fn drain(fd: RawFd, buf: &mut [u8], out: &mut Vec<Value>) -> io::Result<()> {
    for _ in 0..MAX_BATCH {
        // SAFETY: sockaddr_nl is plain data; all zeroes is a valid value.
        let mut from: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `buf` is valid for `buf.len()` bytes of writing, and `from`
        // for `from_len` bytes; MSG_TRUNC only changes the returned length.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                (&mut from as *mut libc::sockaddr_nl).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EAGAIN) => return Ok(()),
                Some(libc::EINTR) => continue,
                Some(libc::ENOBUFS) => {
                    out.push(uevent::lost(
                        "the uevent socket's buffer overflowed (ENOBUFS): events were dropped",
                    ));
                    continue;
                }
                _ => return Err(e),
            }
        }
        let n = n as usize;
        if from.nl_pid != 0 {
            continue; // not the kernel
        }
        if n > buf.len() {
            out.push(uevent::lost(&format!(
                "a uevent of {n} bytes was cut to {}",
                buf.len()
            )));
            continue;
        }
        if let Message::Kernel(event) = uevent::parse(&buf[..n]) {
            if event.relevant() {
                out.push(event.to_value());
            }
        }
    }
    Ok(())
}

/// Writes the frames in one write; exits when stdout is gone (the BEAM is).
fn write_frames(values: &[Value]) {
    if values.is_empty() {
        return;
    }
    let mut bytes = Vec::new();
    for value in values {
        bytes.extend_from_slice(&frame(&etf::encode(value)));
    }
    let mut stdout = io::stdout().lock();
    if stdout
        .write_all(&bytes)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether this system lets the test make the kernel send a uevent:
    /// root, and a writable /sys/class/net/lo/uevent.
    fn can_trigger() -> Result<(), String> {
        // SAFETY: geteuid has no arguments and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        if std::fs::metadata("/sys/class/net/lo/uevent").is_err() {
            return Err("no /sys/class/net/lo/uevent".into());
        }
        Ok(())
    }

    #[test]
    fn a_real_kernel_uevent_arrives_as_a_frame() {
        if let Err(why) = can_trigger() {
            eprintln!("skipped: the kernel can't be made to send a uevent here ({why})");
            return;
        }
        let socket = match open() {
            Ok(socket) => socket,
            Err(e) => {
                eprintln!("skipped: no uevent socket here ({e})");
                return;
            }
        };
        // "change" on the loopback interface: the kernel sends a synthetic
        // event and nothing on the system acts on it.
        if let Err(e) = std::fs::write("/sys/class/net/lo/uevent", "change") {
            eprintln!("skipped: cannot write /sys/class/net/lo/uevent ({e})");
            return;
        }
        let mut buf = vec![0u8; uevent::MAX_MESSAGE];
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let wanted = |v: &Value| {
            matches!(v, Value::Tuple(items) if items.get(1).and_then(|m| m.get("devpath"))
                == Some(&Value::Str("/devices/virtual/net/lo".into())))
        };
        while !out.iter().any(wanted) && std::time::Instant::now() < deadline {
            let mut fd = libc::pollfd {
                fd: socket.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut fd, 1, 100) };
            drain(socket.as_raw_fd(), &mut buf, &mut out).expect("drain");
        }
        let event = out.iter().find(|v| wanted(v)).expect("the lo event");
        let Value::Tuple(items) = event else {
            unreachable!()
        };
        assert_eq!(items[0], Value::Atom("uevent"));
        assert_eq!(items[1].get("subsystem"), Some(&Value::Str("net".into())));
        assert_eq!(items[1].get("action"), Some(&Value::Str("change".into())));
    }
}
