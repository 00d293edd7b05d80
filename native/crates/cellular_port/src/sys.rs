//! Non-blocking reads and writes on raw fds, for use under tokio's `AsyncFd`.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use tokio::io::unix::AsyncFd;

/// Sets `O_NONBLOCK` on `fd`.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One `read(2)`; `WouldBlock` when nothing is there.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes of writing.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// One `write(2)`; `WouldBlock` when the fd is full.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes of reading.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Waits until `fd` is readable and reads once. `Ok(0)` is end of file.
pub async fn read_ready<T: AsRawFd>(fd: &AsyncFd<T>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|inner| read(inner.get_ref().as_raw_fd(), buf)) {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

/// Writes all of `bytes`, waiting for room as needed.
pub async fn write_all<T: AsRawFd>(fd: &AsyncFd<T>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|inner| write(inner.get_ref().as_raw_fd(), bytes)) {
            Ok(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(Ok(n)) => bytes = &bytes[n..],
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

/// Writes all of `bytes` to a non-blocking `fd`, waiting for room, within
/// `limit` (for the last words before the program ends, outside tokio).
/// Then waits (within the same limit) for the tty to send them.
pub fn write_within(fd: RawFd, mut bytes: &[u8], limit: std::time::Duration) -> io::Result<()> {
    let deadline = std::time::Instant::now() + limit;
    while !bytes.is_empty() {
        match write(fd, bytes) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(io::Error::from(io::ErrorKind::TimedOut));
                }
                poll_one(fd, libc::POLLOUT, left)?;
            }
            Err(e) => return Err(e),
        }
    }
    loop {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one int through the pointer.
        if unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut queued) } != 0 || queued <= 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// SIGTERM as a pollable fd (`signalfd(2)`): blocked for the (one-thread)
/// program, so it arrives only through the fd. Cheaper than tokio's signal
/// driver in the program's size.
pub struct SigtermFd(std::os::fd::OwnedFd);

impl SigtermFd {
    /// Blocks SIGTERM and opens its signalfd (non-blocking).
    pub fn new() -> io::Result<SigtermFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: sigset_t is plain data; sigemptyset initialises it next.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid sigset_t and a valid signal number.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
        }
        // SAFETY: a valid set; the old mask is not wanted (null).
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: a valid set and flags; returns a new fd or -1.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            // SAFETY: as above; SIGTERM is delivered normally again.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
            return Err(err);
        }
        // SAFETY: `fd` is a new fd that nothing else owns.
        Ok(SigtermFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }
}

impl AsRawFd for SigtermFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// Standard input as a pollable fd.
pub struct Stdin;

impl AsRawFd for Stdin {
    fn as_raw_fd(&self) -> RawFd {
        0
    }
}

/// Waits until `fd` has `events` (`POLLIN`, `POLLOUT`) or `timeout` passes.
/// `Ok(true)`: ready (or hung up / failed, which the next read or write
/// reports); `Ok(false)`: the time passed or a signal came.
pub fn poll_one(
    fd: RawFd,
    events: libc::c_short,
    timeout: std::time::Duration,
) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // Round up, so a wait of less than 1 ms does not spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd, count 1.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(err)
        };
    }
    Ok(n > 0)
}
