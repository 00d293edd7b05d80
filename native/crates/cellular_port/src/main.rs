//! `cellular_port`: owns one tty for `VintageNetCellular.ATPort`, and is also
//! pppd's ip-up/ip-down script (`notify`): one program for the device instead
//! of two, so std, the allocator and `cellular_core` are shipped once.
//!
//! What it does depends on how it is called:
//!
//! * `argv[0]` ends in `ip-up`, `ip-down`, `ipv6-up` or `ipv6-down` (pppd's
//!   per-event symlinks, e.g. `ppp0.ip-up`), or the first argument is one of
//!   them: the pppd event notifier ([`notify`]);
//! * `dial CID`: pppd's connect program ([`dial`]);
//! * `--atoms`: the protocol's atom table;
//! * anything else: the port program below.
//!
//! Started by the BEAM as a port (`{:spawn_executable, ...}`, `{:packet, 4}`),
//! it reads requests from stdin and writes events to stdout (see
//! `cellular_core::protocol`). One tokio current-thread runtime waits on stdin,
//! the tty and the next deadline together; nothing polls.
//!
//! * The tty is opened with serialport (raw mode, speed, RTS/CTS) and read
//!   through tokio's `AsyncFd`.
//! * Commands queue and time out as `session` describes (the late-reply rule).
//! * A tty that is missing or vanishes (read/write error, EOF or hang-up) is
//!   reported `Closed`, its commands are answered `Closed`, and it is reopened
//!   with backoff (100 ms doubling to 5 s), each attempt reported `Retrying`
//!   and logged; `Opened` when it is back.
//! * End of stdin ends the program, so it never outlives the BEAM.
//! * A panic is logged (stderr and a Log frame if possible) and the program
//!   exits with status 70: never a half-dead process.
//! * log lines become `Log` frames (`log`, the `log_*!` macros).
//! * Frames are the Erlang external term format (`cellular_core::etf`); each
//!   URC and response line goes out parsed beside its raw text.
//!   `cellular_port --atoms` prints every atom a frame may hold.
//!
//! # The multiplexer (CMUX)
//!
//! On a modem wired over one UART, `MuxStart` (sent once the modem answered
//! `OK` to `AT+CMUX=0,...` on the plain tty) starts the 3GPP TS 27.010
//! basic-mode multiplexer here, in userspace (many Nerves kernels lack
//! `CONFIG_N_GSM`): `mux` decides, `cellular_core::cmux` encodes and
//! decodes. A pty pair is made first; once DLCI 0, 1 and 2 are open,
//! `MuxUp { data_tty }` names its slave for pppd. The session keeps running,
//! its bytes carried on DLCI 1; DLCI 2 is pumped to and from the pty master
//! (read only while the multiplexer takes data: flow control holds pppd in
//! the kernel's pty buffer). `MuxDown { reason }` reports the end, on
//! `MuxStop` or a failure (`mux` lists them); the pty is then closed (pppd
//! sees a hang-up) and the session talks on the plain tty again.
//!
//! The modem is left in plain AT mode whenever the program can: `MuxStop`
//! closes the channels and the multiplexer in order; `Close`, a new `Open`,
//! the end of stdin and SIGTERM write the close-down frames at once (DISC 2,
//! DISC 1, CLD, DISC 0; at most [`CLOSE_DOWN_WAIT`]) before the tty closes.
//! A program killed outright cannot: the next one should then be sent
//! `MuxStop` right after `Open`, which with no multiplexer running writes a
//! close-down blind (CLD, DISC 0), harmless to a modem in AT mode.
//!
//! # Bounded memory
//!
//! Whatever the modem or the BEAM sends, the program's memory is bounded:
//!
//! * tty reads go into one fixed [`READ_BUF`] buffer; the line engine keeps
//!   at most one line (`max_line`, 4 KiB) and one response
//!   (`max_response_lines` / `max_response_bytes` of `Request::Open`);
//! * the output toward the BEAM is not queued here: each event is written,
//!   blocking, before the next tty read, so the actions of one loop turn (at
//!   most what one [`READ_BUF`] read completes) are all that waits, and the
//!   rest waits in the kernel's pipe and tty buffers; URCs are rate limited
//!   and the surplus shed (see `session`);
//! * requests: stdin is read into one fixed buffer; the frame reader holds at
//!   most one frame of [`MAX_FRAME`] plus one read; the command queue holds at
//!   most `max_queue` commands (more are answered `QueueFull`);
//! * the multiplexer holds one frame in its decoder (N1 + a few octets) and
//!   bounded AT and data queues (`mux`); data for a pty nobody reads is
//!   dropped once the kernel's pty buffer is full.

// Unsafe code here is limited to FFI and fd handling; each block states why it is sound.
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

#[macro_use]
mod log;
mod dial;
mod mux;
mod notify;
mod output;
mod pty;
mod session;
mod sys;
mod tty;
mod uevents;

use cellular_core::engine::Config;
use cellular_core::protocol::{Event, FrameReader, Level, Reply, Request};
use mux::{Mux, Out};
use serialport::TTYPort;
use session::{Action, Session};
use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);
/// A write the tty does not take within this long (flow control held off) is
/// given up; the command then times out as usual.
const WRITE_STALL: Duration = Duration::from_secs(2);
/// The largest request frame accepted from the BEAM.
const MAX_FRAME: usize = 1 << 20;
/// The size of each read from the tty and from stdin.
const READ_BUF: usize = 16 * 1024;
const PANIC_EXIT: i32 = 70;
/// How long the close-down of the multiplexer may take when the program ends.
const CLOSE_DOWN_WAIT: Duration = Duration::from_millis(500);

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if notify::is_invocation(&argv) {
        std::process::exit(notify::main(argv));
    }
    let first = argv.get(1).and_then(|a| a.to_str());
    if first == Some("dial") {
        let args: Vec<String> = argv
            .iter()
            .skip(2)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        std::process::exit(dial::main(&args));
    }
    if matches!(first, Some("--help" | "-h")) {
        println!(
            "usage: cellular_port           (the port program; ATPort starts it)\n       \
             cellular_port --atoms   (the protocol's atom table)\n{}\n{}",
            dial::USAGE.replacen("usage: ", "       ", 1),
            notify::USAGE.replacen("usage: ", "       ", 1)
        );
        return;
    }
    // `cellular_port --atoms`: the protocol's atom table, one a line, for the
    // Elixir test that checks `VintageNetCellular.ATPort.Atoms` against it.
    if first == Some("--atoms") {
        let mut out = std::io::stdout().lock();
        for atom in cellular_core::protocol::ATOMS {
            let _ = writeln!(out, "{atom}");
        }
        return;
    }
    // `cellular_port uevents`: the kernel's device events (see `uevents`).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("uevents") {
        std::process::exit(uevents::run(&args[1..]));
    }
    std::panic::set_hook(Box::new(|info| {
        let message = format!("cellular_port panicked: {info}");
        eprintln!("{message}");
        output::try_emit(&Event::Log {
            level: Level::Error,
            target: "cellular_port".into(),
            message,
        });
        std::process::exit(PANIC_EXIT);
    }));
    log::init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cellular_port: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run());
    std::process::exit(code);
}

/// The tty, its session and the reopen schedule.
struct Port {
    settings: Option<tty::Settings>,
    session: Option<Session>,
    /// Drain an owed reply on the next open (see `Session::opened`)
    drain_first: bool,
    tty: Option<AsyncFd<TTYPort>>,
    retry_at: Option<Instant>,
    backoff: Duration,
    last_failure: Option<String>,
    /// The CMUX multiplexer on the tty (off unless `MuxStart`; see `mux`)
    mux: Mux,
    /// The data channel's pty while the multiplexer runs
    pty: Option<pty::Pty>,
}

impl Port {
    fn new() -> Port {
        Port {
            settings: None,
            session: None,
            drain_first: false,
            tty: None,
            retry_at: None,
            backoff: FIRST_RETRY,
            last_failure: None,
            mux: Mux::new(Instant::now()),
            pty: None,
        }
    }

    fn path(&self) -> &str {
        self.settings.as_ref().map_or("", |s| s.path.as_str())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let session = self.session.as_ref().and_then(Session::next_deadline);
        [session, self.retry_at, self.mux.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    #[inline(never)]
    fn handle(&mut self, request: Request, now: Instant, out: &mut Vec<Action>) {
        match request {
            Request::Open {
                path,
                speed,
                flow_control,
                drain_ms,
                urc_prefixes,
                limits,
                drain_first,
            } => {
                self.leave_mux_now("the tty was opened again on request", out);
                self.close(out, None);
                self.drain_first = drain_first;
                let config = Config {
                    extra_urc_prefixes: urc_prefixes,
                    ..Config::default()
                };
                self.session = Some(Session::new(
                    config,
                    Duration::from_millis(drain_ms.into()),
                    limits,
                ));
                self.settings = Some(tty::Settings {
                    path,
                    speed,
                    flow_control,
                });
                self.backoff = FIRST_RETRY;
                self.last_failure = None;
                self.try_open(now, out);
            }
            Request::Command {
                id,
                text,
                timeout_ms,
            } => self.submit(id, text, false, timeout_ms, now, out),
            Request::Raw {
                id,
                text,
                timeout_ms,
            } => self.submit(id, text, true, timeout_ms, now, out),
            Request::Close => {
                self.leave_mux_now("closed on request", out);
                self.close(out, Some("closed on request"));
                self.settings = None;
                self.session = None;
            }
            Request::MuxStart { n1 } => self.mux_start(n1, now, out),
            Request::MuxStop => {
                let mut mo = Vec::new();
                self.mux.stop(now, &mut mo);
                self.absorb(mo, now, out);
            }
        }
    }

    fn mux_start(&mut self, n1: u32, now: Instant, out: &mut Vec<Action>) {
        if self.mux.active() {
            log_warn!("MuxStart while the multiplexer runs; ignored");
            return;
        }
        if self.tty.is_none() {
            out.push(Action::Emit(Event::MuxDown {
                reason: "the tty is not open".into(),
            }));
            return;
        }
        match pty::Pty::open() {
            Ok(pty) => {
                log_info!(
                    "{}: starting the multiplexer (N1 {n1}), data on {}",
                    self.path(),
                    pty.path()
                );
                self.pty = Some(pty);
                let mut mo = Vec::new();
                self.mux.start(n1, now, &mut mo);
                self.absorb(mo, now, out);
            }
            Err(e) => out.push(Action::Emit(Event::MuxDown {
                reason: format!("cannot create the data pty: {e}"),
            })),
        }
    }

    /// Carries out what the multiplexer asked: AT payload to the session,
    /// frames to the tty, data to the pty, `Up`/`Down` to the BEAM.
    #[inline(never)]
    fn absorb(&mut self, mo: Vec<Out>, now: Instant, out: &mut Vec<Action>) {
        for o in mo {
            match o {
                Out::Tty(bytes) => out.push(Action::WriteTty(bytes)),
                Out::At(bytes) => {
                    if let Some(session) = &mut self.session {
                        session.on_bytes(&bytes, now, out);
                    }
                }
                Out::Data(bytes) => out.push(Action::WritePty(bytes)),
                Out::Up => {
                    let data_tty = self.pty.as_ref().map_or("", |p| p.path()).to_owned();
                    log_info!("{}: multiplexer up; data on {data_tty}", self.path());
                    out.push(Action::Emit(Event::MuxUp { data_tty }));
                }
                Out::Down { reason } => {
                    log_info!(
                        "{}: multiplexer down: {reason} ({} bytes dropped over the queue \
                         bounds so far)",
                        self.path(),
                        self.mux.dropped()
                    );
                    self.drop_pty();
                    out.push(Action::Emit(Event::MuxDown { reason }));
                }
            }
        }
    }

    fn drop_pty(&mut self) {
        if let Some(pty) = self.pty.take() {
            if pty.dropped > 0 {
                log_debug!(
                    "{} bytes for {} were dropped (full)",
                    pty.dropped,
                    pty.path()
                );
            }
        }
    }

    /// The program or the tty is going away with the multiplexer running:
    /// the close-down frames are written at once (best effort, waiting at
    /// most [`CLOSE_DOWN_WAIT`]), leaving the modem in AT mode.
    #[inline(never)]
    fn leave_mux_now(&mut self, reason: &str, out: &mut Vec<Action>) {
        if !self.mux.active() {
            return;
        }
        let bytes = self.mux.close_now();
        if let Some(fd) = &self.tty {
            if let Err(e) = sys::write_within(fd.get_ref().as_raw_fd(), &bytes, CLOSE_DOWN_WAIT) {
                log_warn!("{}: cannot write the close-down: {e}", self.path());
            }
        }
        self.drop_pty();
        out.push(Action::Emit(Event::MuxDown {
            reason: reason.to_owned(),
        }));
    }

    fn submit(
        &mut self,
        id: u64,
        text: String,
        raw: bool,
        timeout_ms: u32,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let timeout = Duration::from_millis(timeout_ms.into());
        match &mut self.session {
            Some(session) => session.submit(id, text, raw, timeout, now, out),
            None => out.push(Action::Emit(Event::Response {
                id,
                reply: Reply::Closed,
            })),
        }
    }

    fn try_open(&mut self, now: Instant, out: &mut Vec<Action>) {
        let Some(settings) = &self.settings else {
            return;
        };
        self.retry_at = None;
        match tty::open(settings) {
            Ok(fd) => {
                log_info!("opened {}", settings.path);
                self.tty = Some(fd);
                self.backoff = FIRST_RETRY;
                self.last_failure = None;
                out.push(Action::Emit(Event::Opened {
                    path: settings.path.clone(),
                }));
                // Only the first open can owe a reply to an earlier program.
                let drain_first = std::mem::take(&mut self.drain_first);
                if let Some(session) = &mut self.session {
                    session.opened(drain_first, now, out);
                }
            }
            Err(reason) => {
                let in_ms = self.backoff.as_millis() as u64;
                if self.last_failure.as_deref() != Some(reason.as_str()) {
                    log_warn!(
                        "cannot open {}: {reason}; retrying in {in_ms} ms (backoff up to {} s)",
                        settings.path,
                        MAX_RETRY.as_secs()
                    );
                } else {
                    log_debug!(
                        "still cannot open {}: {reason}; retrying in {in_ms} ms",
                        settings.path
                    );
                }
                out.push(Action::Emit(Event::Retrying {
                    reason: reason.clone(),
                    in_ms,
                }));
                self.last_failure = Some(reason);
                self.retry_at = Some(now + self.backoff);
                self.backoff = (self.backoff * 2).min(MAX_RETRY);
            }
        }
    }

    /// Closes the tty (if open); `None` as reason means silently (reopen).
    fn close(&mut self, out: &mut Vec<Action>, reason: Option<&str>) {
        self.retry_at = None;
        if self.tty.take().is_some() {
            if let Some(reason) = reason {
                out.push(Action::Emit(Event::Closed {
                    reason: reason.to_owned(),
                }));
            }
        }
        let mut mo = Vec::new();
        self.mux
            .tty_lost(reason.unwrap_or("closed to reopen"), &mut mo);
        self.absorb(mo, Instant::now(), out);
        if let Some(session) = &mut self.session {
            session.closed(out);
        }
    }

    /// The tty failed: report it and schedule the reopen.
    fn vanished(&mut self, reason: String, now: Instant, out: &mut Vec<Action>) {
        if self.tty.is_none() {
            return;
        }
        log_warn!(
            "{} vanished ({reason}); reopening in {} ms",
            self.path(),
            FIRST_RETRY.as_millis()
        );
        self.close(out, Some(&reason));
        self.backoff = FIRST_RETRY;
        self.last_failure = None;
        self.retry_at = Some(now + FIRST_RETRY);
    }

    #[inline(never)]
    fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.retry_at.is_some_and(|at| now >= at) {
            self.try_open(now, out);
        }
        if let Some(session) = &mut self.session {
            session.on_timer(now, out);
        }
        let mut mo = Vec::new();
        self.mux.on_timer(now, &mut mo);
        self.absorb(mo, now, out);
    }

    #[inline(never)]
    fn on_tty(&mut self, result: std::io::Result<usize>, buf: &[u8], out: &mut Vec<Action>) {
        let now = Instant::now();
        match result {
            Ok(0) => self.vanished("end of file".into(), now, out),
            Ok(n) if self.mux.active() => {
                let mut mo = Vec::new();
                self.mux.on_tty(&buf[..n], now, &mut mo);
                self.absorb(mo, now, out);
            }
            Ok(n) => {
                if let Some(session) = &mut self.session {
                    session.on_bytes(&buf[..n], now, out);
                }
            }
            Err(e) => self.vanished(describe(&e), now, out),
        }
    }

    /// Bytes pppd wrote to the data pty.
    #[inline(never)]
    fn on_pty(&mut self, result: std::io::Result<usize>, buf: &[u8], out: &mut Vec<Action>) {
        match result {
            Ok(n) if n > 0 => {
                let mut mo = Vec::new();
                self.mux.send_data(&buf[..n], &mut mo);
                self.absorb(mo, Instant::now(), out);
            }
            // The program holds the slave open, so neither is expected; the
            // pty is given up rather than polled in a loop.
            Ok(_) => {
                log_warn!("the data pty reads as closed; no more data from it");
                self.drop_pty();
            }
            Err(e) => {
                log_warn!("the data pty failed ({e}); no more data from it");
                self.drop_pty();
            }
        }
    }

    /// Carries out actions; tty writes may fail and add more.
    ///
    /// Events in a row go out in one write (a storm of URCs read in one tty
    /// read is one pipe write, so the BEAM wakes once for it, not per URC);
    /// each batch is written before the next tty write, keeping the order.
    async fn perform(&mut self, out: &mut Vec<Action>) {
        let mut queue: VecDeque<Action> = out.drain(..).collect();
        let mut events = Vec::new();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Emit(event) => events.push(event),
                Action::Write(bytes) if self.mux.active() => {
                    // The session's bytes, framed for DLCI 1; the frames go
                    // next, before the rest of the queue.
                    let mut mo = Vec::new();
                    self.mux.send_at(&bytes, &mut mo);
                    let mut more = Vec::new();
                    self.absorb(mo, Instant::now(), &mut more);
                    for action in more.into_iter().rev() {
                        queue.push_front(action);
                    }
                }
                Action::WritePty(bytes) => {
                    if let Some(pty) = &mut self.pty {
                        if let Err(e) = pty.write(&bytes) {
                            log_warn!("{}: {e}", pty.path());
                        }
                    }
                }
                Action::Write(bytes) | Action::WriteTty(bytes) => {
                    output::emit_all(&std::mem::take(&mut events));
                    let Some(fd) = &self.tty else {
                        continue;
                    };
                    match tokio::time::timeout(WRITE_STALL, sys::write_all(fd, &bytes)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            let mut more = Vec::new();
                            self.vanished(describe(&e), Instant::now(), &mut more);
                            queue.extend(more);
                        }
                        Err(_elapsed) => log_warn!(
                            "{}: the tty took no data for {} s (flow control?)",
                            self.path(),
                            WRITE_STALL.as_secs()
                        ),
                    }
                }
            }
        }
        output::emit_all(&events);
    }
}

/// Returns once SIGTERM came.
async fn terminated(signal: Option<&AsyncFd<sys::SigtermFd>>) {
    // One signalfd_siginfo.
    let mut buf = [0u8; 128];
    if let Some(fd) = signal {
        if matches!(sys::read_ready(fd, &mut buf).await, Ok(n) if n > 0) {
            return;
        }
    }
    // No signalfd, or it failed: SIGTERM then ends the program as usual.
    std::future::pending().await
}

fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EIO) => format!("EIO: {e}"),
        Some(libc::ENXIO) => format!("ENXIO: {e}"),
        Some(libc::ENODEV) => format!("ENODEV: {e}"),
        _ => e.to_string(),
    }
}

async fn read_tty(tty: Option<&AsyncFd<TTYPort>>, buf: &mut [u8]) -> std::io::Result<usize> {
    match tty {
        Some(fd) => sys::read_ready(fd, buf).await,
        None => std::future::pending().await,
    }
}

/// Reads the data pty when the multiplexer takes data.
async fn read_pty(pty: Option<&pty::Pty>, buf: &mut [u8]) -> std::io::Result<usize> {
    match pty {
        Some(pty) => sys::read_ready(pty.master(), buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

async fn run() -> i32 {
    if let Err(e) = sys::set_nonblocking(0) {
        eprintln!("cellular_port: stdin: {e}");
        return 1;
    }
    // SAFETY: fd 0 stays open, and refers to the same pipe, for the life of
    // the program; `Stdin::as_raw_fd` always returns it.
    let stdin = match unsafe { AsyncFd::register(sys::Stdin) } {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("cellular_port: stdin cannot be polled ({e}); run me as an Erlang port");
            return 1;
        }
    };
    let mut frames = FrameReader::new(MAX_FRAME);
    let mut port = Port::new();
    let mut out = Vec::new();
    let mut stdin_buf = vec![0u8; READ_BUF];
    let mut tty_buf = vec![0u8; READ_BUF];
    let mut pty_buf = vec![0u8; READ_BUF];
    // SAFETY: the SigtermFd owns its fd and keeps it open until it is
    // dropped, which happens only when the AsyncFd is dropped.
    let sigterm = match sys::SigtermFd::new().and_then(|fd| Ok(unsafe { AsyncFd::register(fd) }?)) {
        Ok(fd) => Some(fd),
        Err(e) => {
            log_warn!("cannot catch SIGTERM: {e}");
            None
        }
    };
    loop {
        let deadline = port.next_deadline();
        let pty = port.pty.as_ref().filter(|_| port.mux.accepts_data());
        tokio::select! {
            read = sys::read_ready(&stdin, &mut stdin_buf) => match read {
                Ok(0) => {
                    port.leave_mux_now("the program ended", &mut Vec::new());
                    return 0;
                }
                Ok(n) => {
                    frames.push(&stdin_buf[..n]);
                    loop {
                        match frames.next_frame() {
                            Ok(Some(body)) => match Request::decode(&body) {
                                Ok(request) => port.handle(request, Instant::now(), &mut out),
                                Err(e) => log_error!("{e}"),
                            },
                            Ok(None) => break,
                            Err(e) => {
                                log_error!("control channel broken: {e}");
                                port.leave_mux_now("the program ended", &mut Vec::new());
                                return 2;
                            }
                        }
                    }
                }
                Err(e) => {
                    eprintln!("cellular_port: stdin: {e}");
                    port.leave_mux_now("the program ended", &mut Vec::new());
                    return 1;
                }
            },
            read = read_tty(port.tty.as_ref(), &mut tty_buf) => port.on_tty(read, &tty_buf, &mut out),
            read = read_pty(pty, &mut pty_buf) => port.on_pty(read, &pty_buf, &mut out),
            _ = terminated(sigterm.as_ref()) => {
                port.leave_mux_now("the program ended", &mut Vec::new());
                return 0;
            }
            _ = sleep_until(deadline) => port.on_timer(Instant::now(), &mut out),
        }
        port.perform(&mut out).await;
    }
}
