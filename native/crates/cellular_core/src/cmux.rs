//! 3GPP TS 27.010 multiplexing (CMUX), basic option: a sans-I/O codec.
//!
//! A modem wired by one serial port can carry several virtual channels
//! (DLCIs) at once after `AT+CMUX=0`: AT commands on one, PPP on another,
//! URCs on a third. Each channel's bytes travel in frames:
//!
//! ```text
//! F9 | address | control | length (1 or 2 octets) | information | FCS | F9
//! ```
//!
//! * address: EA bit (bit 0, always 1 here), C/R bit (bit 1), DLCI (bits 2–7);
//! * control: the frame type ([`Kind`]) with the poll/final bit `0x10`;
//! * length: bit 0 is EA; one octet carries up to 127, two octets up to
//!   32,767 (first octet the 7 low bits, second the 8 high ones);
//! * FCS: the 27.010 CRC-8 (reflected polynomial x⁸+x²+x+1, initial value
//!   `0xFF`, sent as `0xFF - crc`) over address, control and length, plus the
//!   information field for every frame type but UIH. A receiver runs the same
//!   CRC over those octets and the FCS and expects [`FCS_GOOD`].
//!
//! Basic mode has no byte stuffing: the length field, not the flags, tells
//! where a frame ends, and the information field may hold `0xF9`. A closing
//! flag may also open the next frame.
//!
//! This module does no I/O: [`encode`] appends a frame's bytes to a buffer,
//! and a [`Decoder`] is fed whatever the serial port delivered, in any
//! pieces, and appends [`Event`]s. Its memory is bounded by the maximum
//! information size it was given (N1) plus a few octets of header, whatever
//! arrives; bytes that make no frame are counted and reported as
//! [`Event::Garbage`], never kept. How the input is cut into pieces never
//! changes the events.
//!
//! The multiplexer control channel (DLCI 0) carries [`control`] messages in
//! UIH frames; [`advanced`] holds the byte-transparency helpers of the
//! advanced option (not used by the basic-mode codec).
//!
//! ```
//! use cellular_core::cmux::{encode, Decoder, Event, Frame, Kind, DEFAULT_MAX_INFO};
//!
//! // SABM on DLCI 0 with P=1, as the host opens the multiplexer.
//! let sabm = Frame { dlci: 0, kind: Kind::Sabm, pf: true, cr: true, info: vec![] };
//! let mut wire = Vec::new();
//! encode(&sabm, DEFAULT_MAX_INFO, &mut wire).unwrap();
//! assert_eq!(wire, [0xF9, 0x03, 0x3F, 0x01, 0x1C, 0xF9]);
//!
//! // A UIH frame on DLCI 1 carrying an AT command, then the decoder fed
//! // one byte at a time.
//! let at = Frame { dlci: 1, kind: Kind::Uih, pf: false, cr: true, info: b"AT\r".to_vec() };
//! encode(&at, DEFAULT_MAX_INFO, &mut wire).unwrap();
//! let mut decoder = Decoder::new(DEFAULT_MAX_INFO);
//! let mut events = Vec::new();
//! for byte in wire.chunks(1) {
//!     decoder.feed(byte, &mut events);
//! }
//! assert_eq!(events, [Event::Frame(sabm), Event::Frame(at)]);
//! ```

use std::collections::VecDeque;

pub mod advanced;
pub mod control;

/// Opening and closing flag of a basic-mode frame.
pub const FLAG: u8 = 0xF9;
/// The extension bit of address, length and control-message octets: 1 = last octet.
pub const EA: u8 = 0x01;
/// The command/response bit of the address octet.
pub const CR: u8 = 0x02;
/// The poll/final bit of the control octet.
pub const PF: u8 = 0x10;
/// What the receiver's CRC over the checked octets and the FCS must give.
pub const FCS_GOOD: u8 = 0xCF;
/// The highest DLCI the 6-bit address field holds.
pub const MAX_DLCI: u8 = 63;
/// The longest information field the basic-mode length field can carry (15 bits).
pub const MAX_INFO: usize = 0x7FFF;
/// The maximum information size N1 used unless another is negotiated. 27.010's
/// own default for the basic option is 31 octets; hosts commonly ask for 127
/// with `AT+CMUX=0,0,5,127`, which still fits a one-octet length.
pub const DEFAULT_MAX_INFO: usize = 127;
/// Octets of a frame other than its information field, at most: two flags,
/// address, control, a two-octet length and the FCS.
pub const MAX_OVERHEAD: usize = 7;
/// A run of this many bytes outside any frame is reported as
/// [`Event::Garbage`] without waiting for the next flag.
pub const GARBAGE_REPORT: usize = 4096;

/// The frame types of the basic option, by their control octet without the
/// P/F bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Set asynchronous balanced mode: opens a DLCI (command).
    Sabm,
    /// Unnumbered acknowledgement (response).
    Ua,
    /// Disconnected mode: the DLCI is closed or refused (response).
    Dm,
    /// Disconnect: closes a DLCI; on DLCI 0, the multiplexer (command).
    Disc,
    /// Unnumbered information with header check only: the data frames.
    Uih,
    /// Unnumbered information, the FCS covering the information too.
    Ui,
}

impl Kind {
    /// Every kind, for tests and tables.
    pub const ALL: [Kind; 6] = [
        Kind::Sabm,
        Kind::Ua,
        Kind::Dm,
        Kind::Disc,
        Kind::Uih,
        Kind::Ui,
    ];

    /// The control octet with the P/F bit clear.
    pub const fn control(self) -> u8 {
        match self {
            Kind::Sabm => 0x2F,
            Kind::Ua => 0x63,
            Kind::Dm => 0x0F,
            Kind::Disc => 0x43,
            Kind::Uih => 0xEF,
            Kind::Ui => 0x03,
        }
    }

    /// The kind and P/F bit of a control octet, if it is one of the six.
    pub const fn from_control(octet: u8) -> Option<(Kind, bool)> {
        let kind = match octet & !PF {
            0x2F => Kind::Sabm,
            0x63 => Kind::Ua,
            0x0F => Kind::Dm,
            0x43 => Kind::Disc,
            0xEF => Kind::Uih,
            0x03 => Kind::Ui,
            _ => return None,
        };
        Some((kind, octet & PF != 0))
    }

    /// Whether the FCS covers the information field (all but UIH).
    pub const fn fcs_covers_info(self) -> bool {
        !matches!(self, Kind::Uih)
    }
}

/// One basic-mode frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Data link connection identifier, 0 (control channel) to 63.
    pub dlci: u8,
    pub kind: Kind,
    /// The poll (command) or final (response) bit.
    pub pf: bool,
    /// The address octet's C/R bit. 27.010 sets it on commands from the
    /// initiator (the host) and on responses from the responder (the modem).
    pub cr: bool,
    /// The information field.
    pub info: Vec<u8>,
}

impl Frame {
    /// A UIH frame: the usual carrier of a channel's data.
    pub fn uih(dlci: u8, cr: bool, info: Vec<u8>) -> Frame {
        Frame {
            dlci,
            kind: Kind::Uih,
            pf: false,
            cr,
            info,
        }
    }

    /// A frame with no information field (SABM, UA, DM, DISC).
    pub fn empty(dlci: u8, kind: Kind, pf: bool, cr: bool) -> Frame {
        Frame {
            dlci,
            kind,
            pf,
            cr,
            info: Vec::new(),
        }
    }
}

/// Why [`encode`] refused a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The DLCI does not fit the 6-bit field.
    BadDlci(u8),
    /// The information field is longer than the maximum size in force.
    TooLong { len: usize, max: usize },
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::BadDlci(d) => write!(f, "DLCI {d} is over {MAX_DLCI}"),
            EncodeError::TooLong { len, max } => {
                write!(f, "information field of {len} octets, maximum {max}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// The 256 steps of the reflected CRC-8 with polynomial x⁸+x²+x+1 (`0x07`,
/// `0xE0` reflected), built at compile time.
const CRC_TABLE: [u8; 256] = crc_table();

const fn crc_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xE0
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Runs the CRC over `bytes`, starting from `crc`.
#[inline]
fn crc_update(crc: u8, bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(crc, |c, &b| CRC_TABLE[usize::from(c ^ b)])
}

/// The FCS a sender appends after `bytes` (the checked octets).
pub fn fcs(bytes: &[u8]) -> u8 {
    0xFF - crc_update(0xFF, bytes)
}

/// Whether `fcs` is the right check octet for `bytes`: the receiver's CRC
/// over both gives [`FCS_GOOD`].
pub fn fcs_ok(bytes: &[u8], fcs: u8) -> bool {
    crc_update(crc_update(0xFF, bytes), &[fcs]) == FCS_GOOD
}

/// The address octet of a DLCI (`dlci` ≤ 63).
pub const fn address(dlci: u8, cr: bool) -> u8 {
    (dlci << 2) | if cr { CR } else { 0 } | EA
}

/// Appends the wire bytes of a frame with the given header and information
/// field, flags included. `max_info` is the N1 in force (clamped to
/// [`MAX_INFO`]).
pub fn encode_parts(
    dlci: u8,
    kind: Kind,
    pf: bool,
    cr: bool,
    info: &[u8],
    max_info: usize,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    if dlci > MAX_DLCI {
        return Err(EncodeError::BadDlci(dlci));
    }
    let max = max_info.min(MAX_INFO);
    if info.len() > max {
        return Err(EncodeError::TooLong {
            len: info.len(),
            max,
        });
    }
    let mut header = [0u8; 4];
    header[0] = address(dlci, cr);
    header[1] = kind.control() | if pf { PF } else { 0 };
    let header_len = if info.len() <= 0x7F {
        header[2] = ((info.len() as u8) << 1) | EA;
        3
    } else {
        header[2] = ((info.len() & 0x7F) as u8) << 1;
        header[3] = (info.len() >> 7) as u8;
        4
    };
    let header = &header[..header_len];
    let crc = crc_update(0xFF, header);
    let crc = if kind.fcs_covers_info() {
        crc_update(crc, info)
    } else {
        crc
    };
    out.reserve(info.len() + header_len + 3);
    out.push(FLAG);
    out.extend_from_slice(header);
    out.extend_from_slice(info);
    out.push(0xFF - crc);
    out.push(FLAG);
    Ok(())
}

/// Appends the wire bytes of `frame`, flags included. `max_info` is the N1 in
/// force (clamped to [`MAX_INFO`]).
pub fn encode(frame: &Frame, max_info: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_parts(
        frame.dlci,
        frame.kind,
        frame.pf,
        frame.cr,
        &frame.info,
        max_info,
        out,
    )
}

/// The wire size of a frame with `info_len` octets of information, both
/// flags included.
pub const fn frame_len(info_len: usize) -> usize {
    info_len + if info_len <= 0x7F { 6 } else { 7 }
}

/// What a [`Decoder`] makes of its input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A well-formed frame: bounded by flags, known type, FCS right.
    Frame(Frame),
    /// A frame bounded by flags whose FCS is wrong; dropped. `len` is its
    /// information size.
    BadFcs { dlci: u8, len: usize },
    /// A header announced an information field over the maximum size; the
    /// decoder looks for the next flag from the octet after the opening one.
    Oversize { dlci: u8, len: usize },
    /// Bytes that made no frame, skipped: between frames, before the first
    /// flag, or a candidate frame with a bad header or no closing flag. A
    /// long run is reported every [`GARBAGE_REPORT`] bytes.
    Garbage { bytes: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Looking for a flag; counting what is skipped.
    Hunt,
    /// After a flag: more flags, or a frame's address.
    Open,
    /// Inside the header (address, control, length octets in `buf`).
    Header,
    /// Expecting `remaining` more octets of information and FCS.
    Body { remaining: usize },
    /// Expecting the closing flag.
    Closing,
}

/// A streaming basic-mode decoder.
///
/// Holds at most `max_info + 6` bytes of a frame in progress
/// ([`Decoder::buffered`]); everything else is counted, not kept.
///
/// When a candidate frame fails (a header octet that no frame has, a length
/// over the maximum, no closing flag where one belongs), the decoder goes
/// back to the octet after that frame's opening flag and looks for the next
/// flag from there, so that a frame cut short does not take the next one
/// down with it. Those octets are replayed from the bounded buffer.
#[derive(Clone, Debug)]
pub struct Decoder {
    max_info: usize,
    state: State,
    /// Header, information and FCS of the frame in progress (no flag).
    buf: Vec<u8>,
    /// Header length once known (3 or 4).
    header_len: usize,
    /// Octets to look at again before new input, after a failed candidate.
    backlog: VecDeque<u8>,
    /// Skipped octets not yet reported.
    garbage: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_INFO)
    }
}

impl Decoder {
    /// A decoder accepting information fields of up to `max_info` octets
    /// (N1), clamped to 1..=[`MAX_INFO`].
    pub fn new(max_info: usize) -> Decoder {
        let max_info = max_info.clamp(1, MAX_INFO);
        Decoder {
            max_info,
            state: State::Hunt,
            buf: Vec::with_capacity(max_info + 5),
            header_len: 0,
            backlog: VecDeque::new(),
            garbage: 0,
        }
    }

    /// The N1 in force.
    pub fn max_info(&self) -> usize {
        self.max_info
    }

    /// Changes N1 (after a PN exchange). The frame in progress, if any, is
    /// dropped and its bytes are counted as garbage (reported with the next
    /// [`Event::Garbage`], which may then exceed [`GARBAGE_REPORT`]).
    pub fn set_max_info(&mut self, max_info: usize) {
        let max_info = max_info.clamp(1, MAX_INFO);
        if max_info != self.max_info {
            self.garbage += self.buf.len() + self.backlog.len();
            self.buf = Vec::with_capacity(max_info + 5);
            self.backlog.clear();
            self.max_info = max_info;
            self.state = State::Hunt;
        }
    }

    /// Bytes held for the frame in progress; never over [`Decoder::max_buffered`].
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.backlog.len()
    }

    /// The most [`Decoder::buffered`] can be: `max_info + 6`.
    pub fn max_buffered(&self) -> usize {
        self.max_info + 6
    }

    /// Skipped bytes counted but not yet reported (a run of garbage still
    /// going, shorter than [`GARBAGE_REPORT`]).
    pub fn pending_garbage(&self) -> usize {
        self.garbage
    }

    /// Forgets the frame in progress and any pending count: back to looking
    /// for a flag, as new.
    pub fn reset(&mut self) {
        self.state = State::Hunt;
        self.buf.clear();
        self.backlog.clear();
        self.garbage = 0;
        self.header_len = 0;
    }

    /// Feeds bytes as they came from the port; appends what they complete.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<Event>) {
        loop {
            while let Some(b) = self.backlog.pop_front() {
                self.step(b, out);
            }
            let Some((&first, rest)) = input.split_first() else {
                return;
            };
            match self.state {
                // Bulk paths for the two long runs: information and garbage.
                State::Body { remaining } => {
                    let n = remaining.min(input.len());
                    let (take, rest) = input.split_at(n);
                    self.buf.extend_from_slice(take);
                    input = rest;
                    self.state = if remaining == n {
                        State::Closing
                    } else {
                        State::Body {
                            remaining: remaining - n,
                        }
                    };
                }
                State::Hunt if first != FLAG => {
                    let room = GARBAGE_REPORT.saturating_sub(self.garbage);
                    if room == 0 {
                        self.flush_garbage(out);
                        continue;
                    }
                    let run = input
                        .iter()
                        .take(room)
                        .position(|&b| b == FLAG)
                        .unwrap_or(input.len().min(room));
                    self.garbage += run;
                    input = &input[run..];
                    if self.garbage >= GARBAGE_REPORT {
                        self.flush_garbage(out);
                    }
                }
                _ => {
                    input = rest;
                    self.step(first, out);
                }
            }
        }
    }

    fn flush_garbage(&mut self, out: &mut Vec<Event>) {
        if self.garbage > 0 {
            out.push(Event::Garbage {
                bytes: self.garbage,
            });
            self.garbage = 0;
        }
    }

    /// The candidate frame failed: look again at its octets after the
    /// opening flag (and `extra`, the octet that broke it), hunting for a flag.
    fn rescan(&mut self, extra: Option<u8>) {
        if let Some(b) = extra {
            self.backlog.push_front(b);
        }
        for &b in self.buf.iter().rev() {
            self.backlog.push_front(b);
        }
        self.buf.clear();
        self.state = State::Hunt;
    }

    fn step(&mut self, b: u8, out: &mut Vec<Event>) {
        match self.state {
            State::Hunt => {
                if b == FLAG {
                    self.flush_garbage(out);
                    self.state = State::Open;
                } else {
                    self.garbage += 1;
                    if self.garbage >= GARBAGE_REPORT {
                        self.flush_garbage(out);
                    }
                }
            }
            State::Open => {
                if b != FLAG {
                    self.buf.clear();
                    self.buf.push(b);
                    if b & EA == 0 {
                        // Basic mode has one address octet.
                        self.rescan(None);
                    } else {
                        self.state = State::Header;
                    }
                }
            }
            State::Header => {
                self.buf.push(b);
                match self.buf.len() {
                    2 => {
                        if Kind::from_control(b).is_none() {
                            self.rescan(None);
                        }
                    }
                    3 if b & EA != 0 => {
                        self.header_len = 3;
                        self.body(usize::from(b >> 1), out);
                    }
                    3 => {}
                    _ => {
                        self.header_len = 4;
                        let low = usize::from(self.buf.get(2).copied().unwrap_or(0) >> 1);
                        self.body(low | usize::from(b) << 7, out);
                    }
                }
            }
            State::Body { remaining } => {
                self.buf.push(b);
                self.state = if remaining <= 1 {
                    State::Closing
                } else {
                    State::Body {
                        remaining: remaining - 1,
                    }
                };
            }
            State::Closing => {
                if b == FLAG {
                    self.finish(out);
                    // The closing flag may open the next frame.
                    self.state = State::Open;
                } else {
                    self.rescan(Some(b));
                }
            }
        }
    }

    /// The header is complete and announces `len` octets of information.
    fn body(&mut self, len: usize, out: &mut Vec<Event>) {
        if len > self.max_info {
            out.push(Event::Oversize {
                dlci: self.buf.first().map_or(0, |a| a >> 2),
                len,
            });
            self.rescan(None);
        } else {
            // Information, then the FCS.
            self.state = State::Body { remaining: len + 1 };
        }
    }

    /// A candidate bounded by flags: check it and report it.
    fn finish(&mut self, out: &mut Vec<Event>) {
        let h = self.header_len;
        let (Some(&addr), Some(&ctrl), Some((&fcs, body))) =
            (self.buf.first(), self.buf.get(1), self.buf.split_last())
        else {
            return;
        };
        let Some((kind, pf)) = Kind::from_control(ctrl) else {
            return;
        };
        let info = body.get(h..).unwrap_or_default();
        let checked = if kind.fcs_covers_info() {
            body
        } else {
            body.get(..h).unwrap_or_default()
        };
        let dlci = addr >> 2;
        if fcs_ok(checked, fcs) {
            out.push(Event::Frame(Frame {
                dlci,
                kind,
                pf,
                cr: addr & CR != 0,
                info: info.to_vec(),
            }));
        } else {
            out.push(Event::BadFcs {
                dlci,
                len: info.len(),
            });
        }
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests;
