//! Pseudo-terminals driven by tokio: one per simulated USB interface.
//!
//! The master side is what the modem reads and writes; clients open the
//! slave path. The simulator keeps its own handle on the slave open for the
//! pty's whole life, so a client closing its end never turns the master into
//! an endless stream of EIO/HUP readiness; the pty only goes away when the
//! modem is "unplugged".

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// One pty pair.
#[derive(Debug)]
pub struct Pty {
    name: String,
    master: AsyncFd<File>,
    /// Held open so the master never sees a hang-up while no client is attached.
    _slave: File,
}

impl Pty {
    /// Allocates a new pty pair (raw mode) and registers its master with tokio.
    /// Must run inside a tokio runtime.
    pub fn open() -> io::Result<Pty> {
        use serialport::SerialPort;
        let (master, slave) = serialport::TTYPort::pair().map_err(io::Error::other)?;
        let name = slave
            .name()
            .ok_or_else(|| io::Error::other("the pty slave has no name"))?;
        // SAFETY: into_raw_fd hands over sole ownership of a valid open fd.
        let master = unsafe { File::from_raw_fd(master.into_raw_fd()) };
        // SAFETY: as above.
        let slave = unsafe { File::from_raw_fd(slave.into_raw_fd()) };
        set_flags(&master)?;
        set_flags(&slave)?;
        // SAFETY: the File owns its fd and keeps it open, unchanged, until the
        // AsyncFd (its only owner from here on) is dropped.
        let master = unsafe { AsyncFd::register(master) }?;
        Ok(Pty {
            name,
            master,
            _slave: slave,
        })
    }

    /// The path clients open (`/dev/pts/N`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads what clients wrote. Errors other than "would block" are returned
    /// after a short pause, so a caller looping on them never spins.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.master.readable().await?;
            match guard.try_io(|inner| {
                let mut file: &File = inner.get_ref();
                file.read(buf)
            }) {
                Ok(Ok(0)) => {
                    // No slave open (cannot happen while we hold ours): back off.
                    guard.clear_ready();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(Ok(n)) => return Ok(n),
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => {
                    guard.clear_ready();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return Err(e);
                }
                Err(_would_block) => {}
            }
        }
    }

    /// Writes all of `data`, waiting for room in the pty buffer.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.master.writable().await?;
            match guard.try_io(|inner| {
                let mut file: &File = inner.get_ref();
                file.write(data)
            }) {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => {}
            }
        }
        Ok(())
    }
}

/// O_NONBLOCK (tokio's AsyncFd needs it) and FD_CLOEXEC (children we never
/// start must not inherit the modem's ends).
fn set_flags(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd_flags = libc::fcntl(fd, libc::F_GETFD);
        if fd_flags < 0 || libc::fcntl(fd, libc::F_SETFD, fd_flags | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
