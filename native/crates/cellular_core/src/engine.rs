//! The streaming AT line engine: tty bytes in, typed events out. Pure: no I/O,
//! no clocks.
//!
//! The engine is fed whatever the tty delivered, split anywhere (a modem may
//! hand over a line one byte at a time, or ten lines in one read). It
//! assembles lines, drops the echo of the pending command, recognises final
//! result codes and tells unsolicited result codes (URCs) from the pending
//! command's information lines. The same bytes always give the same events,
//! however they are fragmented.
//!
//! ```
//! use cellular_core::engine::{Config, Engine, Event, Final};
//!
//! let mut engine = Engine::new(Config::default());
//! let mut events = Vec::new();
//! engine.start_command("AT+CSQ");
//! engine.feed(b"AT+CSQ\r\r\n+CSQ: 17", &mut events);
//! engine.feed(b",99\r\n\r\n+CREG: 5\r\n\r\nOK\r\n", &mut events);
//! assert_eq!(
//!     events,
//!     vec![
//!         Event::Urc("+CREG: 5".into()),
//!         Event::Response { result: Final::Ok, lines: vec!["+CSQ: 17,99".into()] },
//!     ]
//! );
//! ```
//!
//! # Lines
//!
//! CR and LF both end a line; empty lines are skipped. Bytes that are not
//! UTF-8 are converted lossily (U+FFFD), never rejected. A line is at most
//! [`Config::max_line`] bytes: longer input is dropped in chunks of that size
//! and reported as [`Event::Overflow`], so a flood without a newline cannot
//! grow memory. The SMS prompt `> ` (which has no line terminator) is
//! recognised as soon as its two bytes arrive at the start of a line while a
//! command is pending.
//!
//! A line holding control characters (other than tab) is line noise: it is
//! dropped and reported as [`Event::Garbage`], never as a URC or an
//! information line.
//!
//! # Echo
//!
//! While a command is pending and no information line has arrived yet, the
//! first line equal to the command text (ASCII case-insensitive, surrounding
//! blanks ignored) is its echo and is dropped. When a sent `ATE0` has turned
//! echo off the engine stops looking; `ATE1`, `ATZ` and `AT&F` turn it back on.
//!
//! # Final results
//!
//! `OK`, `ERROR`, `+CME ERROR: x`, `+CMS ERROR: x`, `CONNECT [rate]`,
//! `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`, `COMMAND NOT SUPPORT` (as
//! `ERROR`) and the prompt. After a sent `ATV0` the numeric codes are
//! recognised too (0 OK, 1 CONNECT, 2 RING, 3 NO CARRIER, 4 ERROR,
//! 6 NO DIALTONE, 7 BUSY, 8 NO ANSWER); the verbose forms always are.
//!
//! # The URC rule
//!
//! A line is a URC when
//! 1. no command is pending, or
//! 2. it starts with a known URC prefix ([`URC_PREFIXES`], or a whole word of
//!    [`URC_WORDS`], plus [`Config::extra_urc_prefixes`] from the modem
//!    profile) **and** that prefix is not the pending command's own response
//!    prefix: `AT+CREG?` expects `+CREG:` lines, so they are its information
//!    lines, while a `+CREG:` line during `AT+CSQ` is a URC. Every command of a
//!    compound line (`AT+CREG?;+CGREG?`) contributes its prefix.
//!
//! URC prefixes are matched case-sensitively (modems print them in upper
//! case); the pending command's own prefixes case-insensitively.
//!
//! Everything else while a command is pending is one of its information lines.
//!
//! # Data mode
//!
//! `CONNECT` puts the engine in data mode: bytes are ignored (not even
//! counted as overflow) until a `NO CARRIER` line, which is reported as the URC
//! `NO CARRIER` when nothing is pending. A command started in data mode (the
//! `+++` escape or `ATH`) ends data mode with its final result. The owner can
//! also call [`Engine::end_data_mode`] when it knows the escape succeeded.
//!
//! # Response limits
//!
//! A response holds at most [`Config::max_response_lines`] information lines
//! and [`Config::max_response_bytes`] bytes of them (line text, one byte per
//! line end counted). The line that would exceed either limit ends the
//! command at once with [`Event::ResponseTooLarge`]; the command is then
//! abandoned (see below), so the rest of its reply, however long, is counted
//! and dropped, never stored. A modem that streams lines while a command is
//! pending can therefore hold at most one response's worth of memory.
//! An abandoned command keeps at most as many lines as these limits allow.
//!
//! # Abandoned commands
//!
//! After a timeout the owner calls [`Engine::abandon`]. The command stays
//! pending, so its echo, information lines and late final result are still
//! recognised, but they come out as [`Event::Discarded`] rather than
//! [`Event::Response`]. The owner must not start the next command until it
//! has seen that event or decided to give up (then [`Engine::forget`]);
//! otherwise a late reply could be credited to the next command.

pub mod redact;

/// The final result of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR` (or `COMMAND NOT SUPPORT`)
    Error,
    /// `+CME ERROR: <code or text>`; the text after the colon, trimmed
    CmeError(String),
    /// `+CMS ERROR: <code or text>`; the text after the colon, trimmed
    CmsError(String),
    /// `CONNECT` with the optional rate or text that followed it
    Connect(Option<String>),
    /// `NO CARRIER`
    NoCarrier,
    /// `BUSY`
    Busy,
    /// `NO ANSWER`
    NoAnswer,
    /// `NO DIALTONE`
    NoDialtone,
    /// The `> ` prompt (SMS text or PDU wanted); send the body with
    /// [`Engine::start_raw`]
    Prompt,
}

/// What the engine found in the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An unsolicited result code line
    Urc(String),
    /// The pending command finished; `lines` are its information lines
    /// without echo or blank lines
    Response { result: Final, lines: Vec<String> },
    /// The late reply of an abandoned command (see [`Engine::abandon`])
    Discarded { result: Final, lines: Vec<String> },
    /// `dropped` bytes of an over-long line were thrown away
    Overflow { dropped: usize },
    /// A line of `bytes` bytes with control characters (line noise, a
    /// modem babbling at the wrong speed) was thrown away
    Garbage { bytes: usize },
    /// The pending command's information lines passed
    /// [`Config::max_response_lines`] or [`Config::max_response_bytes`]
    /// (`lines` and `bytes` are what had arrived, the offending line
    /// included). The command is now abandoned: the rest of its reply is
    /// dropped and its final result comes out as [`Event::Discarded`].
    ResponseTooLarge { lines: usize, bytes: usize },
}

/// Settings of an [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The longest line kept, in bytes (default 4096)
    pub max_line: usize,
    /// Whether the modem is known to echo (`None`: unknown, treat as on)
    pub echo: Option<bool>,
    /// Whether verbose result codes are in force (ATV1, the default)
    pub verbose: bool,
    /// More URC prefixes, from the modem profile (matched like
    /// [`URC_PREFIXES`])
    pub extra_urc_prefixes: Vec<String>,
    /// The most information lines one response may hold (default 1,000)
    pub max_response_lines: usize,
    /// The most bytes of information lines one response may hold, each
    /// line counted with one byte for its end (default 64 KiB)
    pub max_response_bytes: usize,
}

/// Default of [`Config::max_response_lines`].
pub const DEFAULT_MAX_RESPONSE_LINES: usize = 1_000;
/// Default of [`Config::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_line: 4096,
            echo: None,
            verbose: true,
            extra_urc_prefixes: Vec::new(),
            max_response_lines: DEFAULT_MAX_RESPONSE_LINES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// Line prefixes that mark a URC (unless the pending command expects them):
/// 3GPP's. A modem family's own (Quectel `+QIND:`, SIMCom `+CPSI:`, Huawei
/// `^RSSI:` ...) come from its profile, as [`Config::extra_urc_prefixes`].
pub const URC_PREFIXES: &[&str] = &[
    "+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:", "+CPIN:", "+CMTI:", "+CMT:", "+CDSI:", "+CBM:",
    "+CGEV:", "+CSQ:", "+CFUN:", "+CUSD:", "+CLIP:", "+CRING:", "+CTZV:", "+CTZE:", "+CTZU:",
    "+CIEV:", "+NITZ:",
];

/// Whole lines that are URCs.
pub const URC_WORDS: &[&str] = &[
    "RDY",
    "RING",
    "POWERED DOWN",
    "NORMAL POWER DOWN",
    "SMS DONE",
    "PB DONE",
    "SMS Ready",
    "Call Ready",
    "START",
];

#[derive(Debug)]
struct Pending {
    /// The text whose echo is expected (trimmed), or empty for none
    echo: String,
    /// Whether the echo is still to be looked for
    echo_wanted: bool,
    /// Response prefixes of the command(s), e.g. `+CREG:`, separated by
    /// spaces (one allocation per command)
    own_prefixes: String,
    lines: Vec<String>,
    /// Bytes of `lines`, one per line end included
    bytes: usize,
    /// Lines and bytes that arrived but were not kept (over the limits)
    dropped_lines: usize,
    dropped_bytes: usize,
    abandoned: bool,
}

impl Pending {
    fn new(echo: String, echo_wanted: bool, own_prefixes: String) -> Pending {
        Pending {
            echo,
            echo_wanted,
            own_prefixes,
            lines: Vec::new(),
            bytes: 0,
            dropped_lines: 0,
            dropped_bytes: 0,
            abandoned: false,
        }
    }
}

/// The streaming line engine. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    config: Config,
    echo: Option<bool>,
    verbose: bool,
    line: Vec<u8>,
    /// Dropping the rest of an over-long line
    discarding: bool,
    data_mode: bool,
    pending: Option<Pending>,
    /// Strings of the last finished command, reused by the next one
    spare_echo: String,
    spare_own: String,
}

impl Engine {
    /// A new engine with no command pending.
    pub fn new(config: Config) -> Engine {
        let max_line = config.max_line.max(16);
        Engine {
            echo: config.echo,
            verbose: config.verbose,
            config: Config { max_line, ..config },
            line: Vec::with_capacity(256),
            discarding: false,
            data_mode: false,
            pending: None,
            spare_echo: String::new(),
            spare_own: String::new(),
        }
    }

    /// Marks `text` (an AT command line without its CR) as sent and pending.
    /// Tracks the echo (E) and verbose (V) settings it changes. A command
    /// still pending is replaced; the owner is expected to send one at a time.
    pub fn start_command(&mut self, text: &str) {
        let trimmed = text.trim();
        let echo_wanted = self.echo != Some(false);
        let mut own_prefixes = std::mem::take(&mut self.spare_own);
        own_prefixes.clear();
        write_response_prefixes(trimmed, &mut own_prefixes);
        let mut echo = std::mem::take(&mut self.spare_echo);
        echo.clear();
        echo.push_str(trimmed);
        if let Some(settings) = basic_settings(trimmed) {
            if let Some(e) = settings.echo {
                self.echo = Some(e);
            }
            if let Some(v) = settings.verbose {
                self.verbose = v;
            }
        }
        self.pending = Some(Pending::new(echo, echo_wanted, own_prefixes));
    }

    /// Marks raw bytes (an SMS body after the prompt, or the `+++` escape) as
    /// sent and pending. Its echo, if any, is dropped like a command's (a
    /// trailing Ctrl-Z is ignored when comparing).
    pub fn start_raw(&mut self, text: &str) {
        let body = text.trim_end_matches('\x1a').trim();
        self.pending = Some(Pending::new(
            body.to_owned(),
            self.echo != Some(false) && !body.is_empty(),
            String::new(),
        ));
    }

    /// Gives up on the pending command (its timeout passed). Its late reply
    /// will come out as [`Event::Discarded`]. Returns whether one was pending.
    pub fn abandon(&mut self) -> bool {
        match &mut self.pending {
            Some(p) => {
                p.abandoned = true;
                true
            }
            None => false,
        }
    }

    /// Forgets the pending command altogether (its grace period passed, too).
    pub fn forget(&mut self) {
        self.pending = None;
    }

    /// Whether a command is pending (abandoned or not).
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the pending command was abandoned.
    pub fn is_draining(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.abandoned)
    }

    /// Whether a `CONNECT` put the engine in data mode.
    pub fn in_data_mode(&self) -> bool {
        self.data_mode
    }

    /// Leaves data mode (the owner knows the `+++` escape succeeded).
    pub fn end_data_mode(&mut self) {
        self.data_mode = false;
        self.line.clear();
        self.discarding = false;
    }

    /// Whether echo is known to be on (`Some(true)`), off, or unknown.
    pub fn echo(&self) -> Option<bool> {
        self.echo
    }

    /// Whether verbose result codes are in force.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Drops everything: partial line, pending command and data mode (the tty
    /// was closed). Echo and verbose settings return to the configured ones.
    pub fn reset(&mut self) {
        self.line.clear();
        self.discarding = false;
        self.data_mode = false;
        self.pending = None;
        self.echo = self.config.echo;
        self.verbose = self.config.verbose;
    }

    /// Feeds bytes from the tty and appends what they complete to `events`.
    pub fn feed(&mut self, mut bytes: &[u8], events: &mut Vec<Event>) {
        while !bytes.is_empty() {
            match find_eol(bytes) {
                Some(end) => {
                    self.append(&bytes[..end], events);
                    self.end_line(events);
                    bytes = &bytes[end + 1..];
                }
                None => {
                    self.append(bytes, events);
                    bytes = &[];
                }
            }
        }
    }

    /// Adds bytes without a terminator to the current line, minding the
    /// length cap and the prompt.
    fn append(&mut self, mut bytes: &[u8], events: &mut Vec<Event>) {
        while !bytes.is_empty() {
            if self.line.len() < 2 && !self.discarding && self.prompt_possible() {
                match (self.line.as_slice(), bytes) {
                    ([], [b'>']) => {
                        self.line.push(b'>');
                        return;
                    }
                    ([], [b'>', b' ', rest @ ..]) | ([b'>'], [b' ', rest @ ..]) => {
                        self.line.clear();
                        self.finish(Final::Prompt, events);
                        bytes = rest;
                        continue;
                    }
                    _ => {}
                }
            }
            let room = self.config.max_line - self.line.len();
            if bytes.len() <= room {
                self.line.extend_from_slice(bytes);
                return;
            }
            self.line.extend_from_slice(&bytes[..room]);
            bytes = &bytes[room..];
            // The line is full and more is coming: drop what we have.
            if !self.data_mode {
                events.push(Event::Overflow {
                    dropped: self.line.len(),
                });
            }
            self.line.clear();
            self.discarding = true;
        }
    }

    fn prompt_possible(&self) -> bool {
        !self.data_mode && self.pending.is_some()
    }

    fn end_line(&mut self, events: &mut Vec<Event>) {
        if self.discarding {
            self.discarding = false;
            if !self.line.is_empty() && !self.data_mode {
                events.push(Event::Overflow {
                    dropped: self.line.len(),
                });
            }
            self.line.clear();
            return;
        }
        if self.line.is_empty() {
            return;
        }
        // Move the buffer out so the text can borrow it while `self` changes;
        // it goes back (with its capacity) afterwards.
        let mut line = std::mem::take(&mut self.line);
        let bytes = line.trim_ascii();
        match std::str::from_utf8(bytes) {
            Ok(text) => self.classify(text, events),
            Err(_) => {
                let text = String::from_utf8_lossy(bytes);
                self.classify(text.trim(), events);
            }
        }
        line.clear();
        self.line = line;
    }

    fn classify(&mut self, text: &str, events: &mut Vec<Event>) {
        if text.is_empty() {
            return;
        }
        if self.data_mode {
            self.classify_data_mode(text, events);
            return;
        }
        let verbose = self.verbose;
        let Some(pending) = self.pending.as_mut() else {
            if is_garbage(text) {
                events.push(Event::Garbage { bytes: text.len() });
            } else {
                events.push(Event::Urc(urc_text(text, verbose)));
            }
            return;
        };
        if pending.echo_wanted && pending.lines.is_empty() && is_echo(text, &pending.echo) {
            pending.echo_wanted = false;
            return;
        }
        if is_garbage(text) {
            events.push(Event::Garbage { bytes: text.len() });
            return;
        }
        if let Some(result) = final_result(text, verbose) {
            self.finish(result, events);
            return;
        }
        if !verbose && text == "2" {
            events.push(Event::Urc("RING".into()));
            return;
        }
        if self.is_urc(text) {
            events.push(Event::Urc(text.to_owned()));
            return;
        }
        self.information(text, events);
    }

    /// Keeps an information line of the pending command, within the limits.
    fn information(&mut self, text: &str, events: &mut Vec<Event>) {
        let max_lines = self.config.max_response_lines;
        let max_bytes = self.config.max_response_bytes;
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        let size = text.len() + 1;
        let over = p.dropped_lines > 0
            || p.lines.len() >= max_lines
            || p.bytes.saturating_add(size) > max_bytes;
        if !over {
            p.lines.push(text.to_owned());
            p.bytes += size;
            return;
        }
        p.dropped_lines = p.dropped_lines.saturating_add(1);
        p.dropped_bytes = p.dropped_bytes.saturating_add(size);
        if !p.abandoned {
            p.abandoned = true;
            let lines = p.lines.len() + p.dropped_lines;
            let bytes = p.bytes + p.dropped_bytes;
            // Nothing of an oversized reply is delivered: free it now.
            p.lines = Vec::new();
            p.bytes = 0;
            events.push(Event::ResponseTooLarge { lines, bytes });
        }
    }

    fn classify_data_mode(&mut self, text: &str, events: &mut Vec<Event>) {
        if self.pending.is_some() {
            if let Some(result) = final_result(text, self.verbose) {
                self.data_mode = false;
                self.finish(result, events);
            }
        } else if text == "NO CARRIER" || (!self.verbose && text == "3") {
            self.data_mode = false;
            events.push(Event::Urc("NO CARRIER".into()));
        }
    }

    fn is_urc(&self, text: &str) -> bool {
        let extra = &self.config.extra_urc_prefixes;
        if extra.iter().any(|p| text.starts_with(p.as_str())) {
            return !self.is_own(text);
        }
        match text.as_bytes().first() {
            Some(b'+' | b'^') => {
                // The name up to and including its colon (or the whole line,
                // for `^SYSSTART`): equal lengths first, so few comparisons.
                let name = text.find(':').map_or(text, |colon| &text[..=colon]);
                URC_PREFIXES.contains(&name) && !self.is_own(text)
            }
            _ => URC_WORDS.contains(&text),
        }
    }

    /// Whether the line starts with a response prefix of the pending command.
    fn is_own(&self, text: &str) -> bool {
        self.pending.as_ref().is_some_and(|p| {
            p.own_prefixes
                .split(' ')
                .any(|o| !o.is_empty() && starts_with_ignore_case(text, o))
        })
    }

    fn finish(&mut self, result: Final, events: &mut Vec<Event>) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        self.spare_echo = pending.echo;
        self.spare_own = pending.own_prefixes;
        if matches!(result, Final::Connect(_)) {
            self.data_mode = true;
        }
        if pending.abandoned {
            events.push(Event::Discarded {
                result,
                lines: pending.lines,
            });
        } else {
            events.push(Event::Response {
                result,
                lines: pending.lines,
            });
        }
    }
}

/// The index of the first CR or LF, eight bytes at a time.
fn find_eol(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let cr = w ^ (ONES * u64::from(b'\r'));
        let lf = w ^ (ONES * u64::from(b'\n'));
        // A zero byte in `cr` or `lf` is a CR or LF in `w`; the lowest flag
        // of this classic test is exact (false flags only sit above a real one).
        let found = ((cr.wrapping_sub(ONES) & !cr) | (lf.wrapping_sub(ONES) & !lf)) & HIGHS;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|i| offset + i)
}

fn urc_text(text: &str, verbose: bool) -> String {
    if !verbose && text == "2" {
        "RING".to_owned()
    } else {
        text.to_owned()
    }
}

/// Whether a line holds control characters (other than tab), which no
/// modem text contains.
fn is_garbage(line: &str) -> bool {
    // A branch-free pass first (it vectorises); tabs are rare.
    let suspicious = line
        .bytes()
        .fold(false, |acc, b| acc | (b < 0x20) | (b == 0x7f));
    suspicious && line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

fn is_echo(line: &str, command: &str) -> bool {
    let line = line.trim_end_matches('\x1a').trim();
    !command.is_empty() && line.eq_ignore_ascii_case(command)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Recognises a final result code line.
pub fn final_result(text: &str, verbose: bool) -> Option<Final> {
    let result = match text {
        "OK" => Final::Ok,
        "ERROR" | "COMMAND NOT SUPPORT" => Final::Error,
        "NO CARRIER" => Final::NoCarrier,
        "BUSY" => Final::Busy,
        "NO ANSWER" => Final::NoAnswer,
        "NO DIALTONE" | "NO DIAL TONE" => Final::NoDialtone,
        "0" if !verbose => Final::Ok,
        "1" if !verbose => Final::Connect(None),
        "3" if !verbose => Final::NoCarrier,
        "4" if !verbose => Final::Error,
        "6" if !verbose => Final::NoDialtone,
        "7" if !verbose => Final::Busy,
        "8" if !verbose => Final::NoAnswer,
        _ => {
            if let Some(rest) = text.strip_prefix("+CME ERROR:") {
                Final::CmeError(rest.trim().to_owned())
            } else if let Some(rest) = text.strip_prefix("+CMS ERROR:") {
                Final::CmsError(rest.trim().to_owned())
            } else if let Some(rest) = text.strip_prefix("CONNECT") {
                match rest.as_bytes().first() {
                    None => Final::Connect(None),
                    Some(b' ' | b'\t' | b'0'..=b'9') => {
                        let rate = rest.trim();
                        Final::Connect((!rate.is_empty()).then(|| rate.to_owned()))
                    }
                    Some(_) => return None,
                }
            } else {
                return None;
            }
        }
    };
    Some(result)
}

/// The information-line prefixes a command line expects: `AT+CREG?` →
/// `["+CREG:"]`, `AT+CSQ;+CGREG?` → `["+CSQ:", "+CGREG:"]`.
pub fn response_prefixes(command: &str) -> Vec<String> {
    let mut joined = String::new();
    write_response_prefixes(command, &mut joined);
    joined
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// [`response_prefixes`] into one string, separated by spaces.
fn write_response_prefixes(command: &str, out: &mut String) {
    let body = match command.get(..2) {
        Some(at) if at.eq_ignore_ascii_case("AT") => &command[2..],
        _ => return,
    };
    let mut rest = body;
    while let Some(start) = rest.find(['+', '^', '$', '%', '!', '*']) {
        let after = &rest[start..];
        let end = after[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(after.len(), |e| e + 1);
        if end > 1 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(after[..end].chars().map(|c| c.to_ascii_uppercase()));
            out.push(':');
        }
        // Skip to the next command of a compound line (outside quotes).
        match next_command(&after[end..]) {
            Some(next) => rest = next,
            None => break,
        }
    }
}

fn next_command(s: &str) -> Option<&str> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return Some(&s[i + 1..]),
            _ => {}
        }
    }
    None
}

#[derive(Debug, Default, PartialEq, Eq)]
struct BasicSettings {
    echo: Option<bool>,
    verbose: Option<bool>,
}

/// Reads the E, V, Z and &F basic commands at the start of a command line
/// (`ATE0V1`, `ATZ`, `AT&F`, `AT E0`).
fn basic_settings(command: &str) -> Option<BasicSettings> {
    let body = match command.get(..2) {
        Some(at) if at.eq_ignore_ascii_case("AT") => &command.as_bytes()[2..],
        _ => return None,
    };
    let mut settings = BasicSettings::default();
    let mut i = 0;
    while i < body.len() {
        let c = body[i].to_ascii_uppercase();
        i += 1;
        let (ampersand, name) = if c == b'&' {
            match body.get(i) {
                Some(n) => {
                    i += 1;
                    (true, n.to_ascii_uppercase())
                }
                None => break,
            }
        } else {
            (false, c)
        };
        let digits_start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        let value = std::str::from_utf8(&body[digits_start..i])
            .ok()
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0);
        match (ampersand, name) {
            (_, b' ') => {}
            (false, b'E') => settings.echo = Some(value != 0),
            (false, b'V') => settings.verbose = Some(value != 0),
            (false, b'Z') | (true, b'F') => {
                settings.echo = Some(true);
                settings.verbose = Some(true);
            }
            (false, b'A'..=b'Z') | (true, _) => {}
            // An extended command (+, ^, $ ...) or S-register syntax ends the
            // basic part.
            _ => break,
        }
    }
    Some(settings)
}

#[cfg(test)]
mod tests;
