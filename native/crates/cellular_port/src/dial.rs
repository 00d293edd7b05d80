//! `cellular_port dial CID`: pppd's connect program.
//!
//! pppd runs its `connect` command with the modem's PPP tty as stdin and
//! stdout. The dialer
//!
//! 1. sends `AT` and waits for `OK` (the only check that the PPP port answers
//!    at all: a port left in data mode, or not a modem's, fails here);
//! 2. sends `ATD*99***<cid>#` and waits for `CONNECT`;
//! 3. exits 0 on `CONNECT`, so pppd starts LCP on the tty.
//!
//! Anything else ends it with a non-zero status and one line on stderr, which
//! pppd logs: `ERROR`, `+CME ERROR`, `NO CARRIER`, `BUSY`, `NO ANSWER` or
//! `NO DIALTONE` (status [`EXIT_REFUSED`]), no answer in time
//! ([`EXIT_TIMEOUT`]), the tty closing or failing ([`EXIT_IO`]), bad
//! arguments ([`EXIT_USAGE`]).
//!
//! No APN, user or password ever passes through here: the connection manager
//! has set the PDP context (`AT+CGDCONT`) over the AT port before pppd
//! starts, and credentials go to pppd in a file of mode 0600.
//!
//! Everything read from the tty is untrusted. Lines are split by the AT line
//! engine of `cellular_core` (bounded lines, echo dropped, line noise
//! skipped); the dialer keeps no more than [`MAX_INPUT`] bytes in total; each
//! wait has a deadline. The state machine ([`Dialer`]) does no I/O, so it is
//! tested by feeding it bytes; [`main`] only moves bytes between it and the
//! tty. The tty is read one byte at a time so that nothing after `CONNECT`
//! (the first PPP frame the modem sends) is taken from pppd.

use crate::sys;
use cellular_core::engine::{Config, Engine, Event, Final};
use std::time::{Duration, Instant};

/// Exit status: the modem refused (ERROR, NO CARRIER, BUSY...).
pub const EXIT_REFUSED: i32 = 4;
/// Exit status: no answer in time.
pub const EXIT_TIMEOUT: i32 = 3;
/// Exit status: the tty closed or failed.
pub const EXIT_IO: i32 = 2;
/// Exit status: bad arguments.
pub const EXIT_USAGE: i32 = 1;

/// The most bytes the dialer takes from the tty before giving up: the
/// answers it waits for are a few dozen bytes.
pub const MAX_INPUT: usize = 16 * 1024;

/// Default wait for `OK` to `AT`, as the chat script had it.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default wait for `CONNECT`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub const USAGE: &str =
    "usage: cellular_port dial CID [--timeout SECONDS] [--connect-timeout SECONDS]\n\
(pppd's connect program: the tty is stdin and stdout; CID 1..99)";

/// Where the dial is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `AT` sent, waiting for `OK`
    Probe,
    /// `ATD*99***<cid>#` sent, waiting for `CONNECT`
    Dial,
    /// Finished (connected or failed)
    Done,
}

/// Why a dial failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The modem answered the step with this final result
    Refused { step: Step, result: Final },
    /// No final result within the step's timeout
    Timeout { step: Step },
    /// More than [`MAX_INPUT`] bytes, or a response over the engine's limits
    TooMuchInput,
    /// The tty closed or failed
    Io(String),
}

impl Failure {
    /// The process exit status for this failure.
    pub fn exit_status(&self) -> i32 {
        match self {
            Failure::Refused { .. } | Failure::TooMuchInput => EXIT_REFUSED,
            Failure::Timeout { .. } => EXIT_TIMEOUT,
            Failure::Io(_) => EXIT_IO,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused {
                step: Step::Probe,
                result,
            } => write!(
                f,
                "the PPP port answered AT with {}, not OK",
                result_text(result)
            ),
            Failure::Refused { result, .. } => {
                write!(f, "the dial failed: {}", result_text(result))
            }
            Failure::Timeout { step: Step::Probe } => f.write_str(
                "no OK to AT on the PPP port (not a modem's AT-capable port, or still in data mode?)",
            ),
            Failure::Timeout { .. } => f.write_str("no CONNECT in time"),
            Failure::TooMuchInput => f.write_str("the modem sent too much without an answer"),
            Failure::Io(e) => write!(f, "tty: {e}"),
        }
    }
}

fn result_text(result: &Final) -> String {
    match result {
        Final::Ok => "OK".into(),
        Final::Error => "ERROR".into(),
        Final::CmeError(code) => format!("+CME ERROR: {code}"),
        Final::CmsError(code) => format!("+CMS ERROR: {code}"),
        Final::Connect(None) => "CONNECT".into(),
        Final::Connect(Some(rate)) => format!("CONNECT {rate}"),
        Final::NoCarrier => "NO CARRIER".into(),
        Final::Busy => "BUSY".into(),
        Final::NoAnswer => "NO ANSWER".into(),
        Final::NoDialtone => "NO DIALTONE".into(),
        Final::Prompt => "a prompt".into(),
    }
}

/// What the owner does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Keep reading (until the step's deadline)
    Wait,
    /// Write these bytes to the tty, then keep reading (a new step began: its
    /// deadline starts now)
    Write(Vec<u8>),
    /// `CONNECT`, with the rate if the modem gave one
    Connected(Option<String>),
    Failed(Failure),
}

/// The dial as a state machine fed with tty bytes. No I/O, no clock.
#[derive(Debug)]
pub struct Dialer {
    engine: Engine,
    step: Step,
    dial: String,
    taken: usize,
    events: Vec<Event>,
}

impl Dialer {
    /// A dialer for context `cid`, and the first bytes to write (`AT\r`).
    pub fn new(cid: u8) -> (Dialer, Vec<u8>) {
        let mut engine = Engine::new(Config {
            max_line: 512,
            max_response_lines: 32,
            max_response_bytes: 4096,
            ..Config::default()
        });
        engine.start_command("AT");
        let dialer = Dialer {
            engine,
            step: Step::Probe,
            dial: format!("ATD*99***{cid}#"),
            taken: 0,
            events: Vec::new(),
        };
        (dialer, b"AT\r".to_vec())
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Feeds bytes read from the tty.
    pub fn feed(&mut self, bytes: &[u8]) -> Progress {
        if self.step == Step::Done {
            return Progress::Wait;
        }
        self.taken = self.taken.saturating_add(bytes.len());
        if self.taken > MAX_INPUT {
            return self.fail(Failure::TooMuchInput);
        }
        self.events.clear();
        self.engine.feed(bytes, &mut self.events);
        let events = std::mem::take(&mut self.events);
        let mut progress = Progress::Wait;
        for event in &events {
            progress = match event {
                Event::Response { result, .. } => self.answer(result.clone()),
                Event::ResponseTooLarge { .. } => self.fail(Failure::TooMuchInput),
                // URCs, line noise and over-long lines are not answers.
                _ => Progress::Wait,
            };
            if progress != Progress::Wait {
                break;
            }
        }
        self.events = events;
        progress
    }

    /// The step's deadline passed without an answer.
    pub fn timed_out(&mut self) -> Failure {
        let failure = Failure::Timeout { step: self.step };
        self.step = Step::Done;
        failure
    }

    fn answer(&mut self, result: Final) -> Progress {
        match (self.step, result) {
            (Step::Probe, Final::Ok) => {
                self.step = Step::Dial;
                self.engine.start_command(&self.dial);
                let mut bytes = self.dial.clone().into_bytes();
                bytes.push(b'\r');
                Progress::Write(bytes)
            }
            (Step::Dial, Final::Connect(rate)) => {
                self.step = Step::Done;
                Progress::Connected(rate)
            }
            (step, result) => self.fail(Failure::Refused { step, result }),
        }
    }

    fn fail(&mut self, failure: Failure) -> Progress {
        self.step = Step::Done;
        Progress::Failed(failure)
    }
}

/// The dial's settings, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub cid: u8,
    pub probe_timeout: Duration,
    pub connect_timeout: Duration,
}

/// Parses `CID [--timeout S] [--connect-timeout S]` (after `dial`).
pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut cid = None;
    let mut probe_timeout = DEFAULT_PROBE_TIMEOUT;
    let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--timeout" | "--connect-timeout" => {
                let seconds = rest
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .filter(|s| (1..=255).contains(s))
                    .ok_or_else(|| format!("{arg} takes whole seconds, 1..255"))?;
                let value = Duration::from_secs(seconds);
                if arg == "--timeout" {
                    probe_timeout = value;
                } else {
                    connect_timeout = value;
                }
            }
            text if cid.is_none() => {
                cid = Some(
                    text.parse::<u8>()
                        .ok()
                        .filter(|c| (1..=99).contains(c))
                        .ok_or_else(|| format!("CID must be 1..99, got {text:?}"))?,
                );
            }
            text => return Err(format!("unexpected argument {text:?}")),
        }
    }
    let cid = cid.ok_or("CID is missing")?;
    Ok(Args {
        cid,
        probe_timeout,
        connect_timeout,
    })
}

/// Runs the dial on stdin/stdout; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("cellular_port dial: {e}\n{USAGE}");
            return EXIT_USAGE;
        }
    };
    match run(&args, 0, 1) {
        Ok(rate) => {
            eprintln!(
                "cellular_port dial: CONNECT{}",
                rate.map(|r| format!(" {r}")).unwrap_or_default()
            );
            0
        }
        Err(failure) => {
            eprintln!("cellular_port dial: {failure}");
            failure.exit_status()
        }
    }
}

/// The I/O around [`Dialer`]: `input` and `output` are the tty's fds.
pub fn run(args: &Args, input: i32, output: i32) -> Result<Option<String>, Failure> {
    let (mut dialer, first) = Dialer::new(args.cid);
    let timeout = |step| match step {
        Step::Probe => args.probe_timeout,
        _ => args.connect_timeout,
    };
    let mut deadline = Instant::now() + timeout(Step::Probe);
    write_all(output, &first, deadline)?;
    let mut byte = [0u8; 1];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(dialer.timed_out());
        }
        if !sys::poll_one(input, libc::POLLIN, deadline - now).map_err(io)? {
            continue;
        }
        let n = match sys::read(input, &mut byte) {
            Ok(n) => n,
            // A tty left non-blocking may wake poll with nothing to read.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(io(e)),
        };
        if n == 0 {
            return Err(Failure::Io("end of file (hang-up?)".into()));
        }
        match dialer.feed(&byte[..n]) {
            Progress::Wait => {}
            Progress::Write(bytes) => {
                deadline = Instant::now() + timeout(dialer.step());
                write_all(output, &bytes, deadline)?;
            }
            Progress::Connected(rate) => return Ok(rate),
            Progress::Failed(failure) => return Err(failure),
        }
    }
}

fn io(e: std::io::Error) -> Failure {
    Failure::Io(e.to_string())
}

/// Writes all of `bytes` before `deadline` (flow control may hold the tty).
fn write_all(fd: i32, mut bytes: &[u8], deadline: Instant) -> Result<(), Failure> {
    while !bytes.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            return Err(Failure::Io(
                "the tty took no more bytes (flow control?)".into(),
            ));
        }
        if !sys::poll_one(fd, libc::POLLOUT, deadline - now).map_err(io)? {
            continue;
        }
        match sys::write(fd, bytes) {
            Ok(0) => return Err(Failure::Io("write returned 0".into())),
            Ok(n) => bytes = &bytes[n.min(bytes.len())..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
