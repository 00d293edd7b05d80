//! The pty that carries the multiplexer's data channel (DLCI 2) to pppd:
//! pppd opens the slave by its path, the port program reads and writes the
//! master.
//!
//! The program keeps a slave fd open itself for the life of the pty, so the
//! master never reads as hung up between two pppd runs (a master with no
//! slave open polls readable forever and reads `EIO`), and the slave's
//! settings (raw) stay as set here until pppd sets its own.

use crate::sys;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// One pty pair.
#[derive(Debug)]
pub struct Pty {
    master: AsyncFd<OwnedFd>,
    _slave: OwnedFd,
    path: String,
    /// Bytes from the modem dropped because the pty was full (nobody reading)
    pub dropped: u64,
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

impl Pty {
    /// A new pair, the slave in raw mode, the master non-blocking and
    /// registered with tokio.
    pub fn open() -> Result<Pty, String> {
        // SAFETY: posix_openpt takes flags only and returns a new fd or -1.
        let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(os_error("posix_openpt"));
        }
        // SAFETY: `fd` is a new fd that nothing else owns.
        let master = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: grantpt and unlockpt take an fd we own.
        if unsafe { libc::grantpt(fd) } != 0 {
            return Err(os_error("grantpt"));
        }
        // SAFETY: as above.
        if unsafe { libc::unlockpt(fd) } != 0 {
            return Err(os_error("unlockpt"));
        }
        let mut name: [libc::c_char; 128] = [0; 128];
        // SAFETY: `name` is valid for `name.len()` bytes of writing; on
        // success ptsname_r leaves a NUL-terminated string in it.
        if unsafe { libc::ptsname_r(fd, name.as_mut_ptr(), name.len()) } != 0 {
            return Err(os_error("ptsname_r"));
        }
        // SAFETY: NUL-terminated by ptsname_r (checked above), within `name`.
        let path = unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let c_path = CString::new(path.clone()).map_err(|_| "pty path with a NUL".to_string())?;
        // SAFETY: a NUL-terminated path and integer flags.
        let slave_fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if slave_fd < 0 {
            return Err(os_error(&format!("open {path}")));
        }
        // SAFETY: `slave_fd` is a new fd that nothing else owns.
        let slave = unsafe { OwnedFd::from_raw_fd(slave_fd) };
        // SAFETY: termios is plain data; all-zero is a valid value to fill.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: an fd we own and a valid termios to fill.
        if unsafe { libc::tcgetattr(slave_fd, &mut termios) } != 0 {
            return Err(os_error("tcgetattr"));
        }
        // SAFETY: a valid termios.
        unsafe { libc::cfmakeraw(&mut termios) };
        // SAFETY: an fd we own and a valid termios.
        if unsafe { libc::tcsetattr(slave_fd, libc::TCSANOW, &termios) } != 0 {
            return Err(os_error("tcsetattr"));
        }
        sys::set_nonblocking(master.as_raw_fd()).map_err(|e| format!("O_NONBLOCK: {e}"))?;
        // SAFETY: the OwnedFd keeps the master open until it is dropped,
        // which happens only when the AsyncFd is dropped.
        let master = unsafe { AsyncFd::register(master) }
            .map_err(|e| format!("cannot poll the pty: {e}"))?;
        Ok(Pty {
            master,
            _slave: slave,
            path,
            dropped: 0,
        })
    }

    /// The slave's path, for pppd.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The master, to wait on and read.
    pub fn master(&self) -> &AsyncFd<OwnedFd> {
        &self.master
    }

    /// Writes what the master takes now; the rest is dropped and counted
    /// (PPP recovers from lost frames; a pty nobody reads must not hold the
    /// multiplexer up).
    pub fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match sys::write(self.master.as_raw_fd(), bytes) {
                Ok(0) => break,
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        self.dropped += bytes.len() as u64;
        Ok(())
    }
}
