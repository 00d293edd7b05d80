//! Messages of the multiplexer control channel (DLCI 0), carried in the
//! information field of UIH frames.
//!
//! Each message is a type octet (EA bit 0, C/R bit 1, the type in bits 2–7),
//! a length of one or more octets (7 bits each, EA set on the last), then
//! that many value octets. C/R is 1 in a command and 0 in the response that
//! echoes it.
//!
//! ```
//! use cellular_core::cmux::control::{Message, Body, Msc};
//!
//! let msc = Message::command(Body::Msc(Msc { dlci: 1, signals: Msc::RTC | Msc::RTR | Msc::DV, brk: None }));
//! let bytes = msc.encode();
//! assert_eq!(bytes, [0xE3, 0x05, 0x07, 0x8D]);
//! assert_eq!(Message::decode_one(&bytes), Ok((msc, &[][..])));
//! ```

use super::{CR, EA};

/// Type octets, with EA set and C/R clear.
pub mod types {
    /// Parameter negotiation.
    pub const PN: u8 = 0x81;
    /// Power saving control.
    pub const PSC: u8 = 0x41;
    /// Multiplexer close down.
    pub const CLD: u8 = 0xC1;
    /// Test.
    pub const TEST: u8 = 0x21;
    /// Flow control on (all channels).
    pub const FCON: u8 = 0xA1;
    /// Flow control off (all channels).
    pub const FCOFF: u8 = 0x61;
    /// Modem status command.
    pub const MSC: u8 = 0xE1;
    /// Non-supported command response.
    pub const NSC: u8 = 0x11;
    /// Remote port negotiation.
    pub const RPN: u8 = 0x91;
    /// Remote line status.
    pub const RLS: u8 = 0x51;
    /// Service negotiation.
    pub const SNC: u8 = 0xD1;
}

/// Parameter negotiation values (8 octets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pn {
    /// The DLCI the parameters are for (6 bits).
    pub dlci: u8,
    /// Frame type for information: 0 = UIH, 1 = UI, 2 = I (4 bits).
    pub frame_type: u8,
    /// Convergence layer, 0 = type 1 (4 bits).
    pub convergence: u8,
    /// Priority, 0–63.
    pub priority: u8,
    /// Acknowledgement timer T1, in units of 10 ms.
    pub ack_timer: u8,
    /// Maximum information size N1.
    pub max_frame: u16,
    /// Maximum number of retransmissions N2.
    pub retransmissions: u8,
    /// Window size k for error recovery mode (3 bits).
    pub window: u8,
}

impl Pn {
    fn encode(&self, out: &mut Vec<u8>) {
        let [n1_low, n1_high] = self.max_frame.to_le_bytes();
        out.extend_from_slice(&[
            self.dlci & 0x3F,
            (self.frame_type & 0x0F) | (self.convergence & 0x0F) << 4,
            self.priority & 0x3F,
            self.ack_timer,
            n1_low,
            n1_high,
            self.retransmissions,
            self.window & 0x07,
        ]);
    }

    fn decode(v: &[u8]) -> Option<Pn> {
        let &[dlci, types, priority, ack_timer, n1_low, n1_high, retransmissions, window] = v
        else {
            return None;
        };
        Some(Pn {
            dlci: dlci & 0x3F,
            frame_type: types & 0x0F,
            convergence: types >> 4,
            priority: priority & 0x3F,
            ack_timer,
            max_frame: u16::from_le_bytes([n1_low, n1_high]),
            retransmissions,
            window: window & 0x07,
        })
    }
}

/// Modem status: the V.24 signals of one DLCI, and an optional break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Msc {
    /// The DLCI the status is for.
    pub dlci: u8,
    /// The V.24 signals ([`Msc::FC`], [`Msc::RTC`], ...); the encoder sets
    /// the octet's EA bit, the decoder clears it.
    pub signals: u8,
    /// The break signal octet, when sent.
    pub brk: Option<u8>,
}

impl Msc {
    /// Flow control: 1 = the sender cannot accept frames.
    pub const FC: u8 = 0x02;
    /// Ready to communicate (DTR/DSR).
    pub const RTC: u8 = 0x04;
    /// Ready to receive (RTS/CTS).
    pub const RTR: u8 = 0x08;
    /// Incoming call indicator (RI).
    pub const IC: u8 = 0x40;
    /// Data valid (DCD).
    pub const DV: u8 = 0x80;
}

/// A control message's meaning.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// Parameter negotiation.
    Pn(Pn),
    /// Multiplexer close down: leave mux mode.
    Cld,
    /// Test: the peer echoes the pattern.
    Test(Vec<u8>),
    /// Flow control on, for every channel.
    FcOn,
    /// Flow control off, for every channel.
    FcOff,
    /// Modem status.
    Msc(Msc),
    /// Non-supported command: the type octet of the command refused.
    Nsc(u8),
    /// A type this module does not interpret (PSC, RPN, RLS, SNC, ...):
    /// its type octet with C/R clear, and its value octets.
    Other { kind: u8, value: Vec<u8> },
}

impl Body {
    /// The type octet, with EA set and C/R clear.
    pub fn kind(&self) -> u8 {
        match self {
            Body::Pn(_) => types::PN,
            Body::Cld => types::CLD,
            Body::Test(_) => types::TEST,
            Body::FcOn => types::FCON,
            Body::FcOff => types::FCOFF,
            Body::Msc(_) => types::MSC,
            Body::Nsc(_) => types::NSC,
            Body::Other { kind, .. } => (kind & !CR) | EA,
        }
    }
}

/// One control message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// Command (true) or response (false).
    pub command: bool,
    pub body: Body,
}

/// Why a control message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// No octets at all.
    Empty,
    /// The type field runs on (EA clear): 27.010 types are one octet.
    LongType,
    /// The length field never ends, or its value is over 32,767.
    BadLength,
    /// Fewer value octets than the length says.
    Truncated { want: usize, have: usize },
    /// The value octets do not have the shape the type requires.
    BadValue { kind: u8, len: usize },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "empty control message"),
            DecodeError::LongType => write!(f, "type field with EA clear"),
            DecodeError::BadLength => write!(f, "bad length field"),
            DecodeError::Truncated { want, have } => {
                write!(f, "{want} value octets announced, {have} present")
            }
            DecodeError::BadValue { kind, len } => {
                write!(f, "{len} value octets do not fit type 0x{kind:02X}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Length octets read at most (3 × 7 bits cover any basic-mode frame).
const MAX_LENGTH_OCTETS: usize = 3;

impl Message {
    /// A command.
    pub fn command(body: Body) -> Message {
        Message {
            command: true,
            body,
        }
    }

    /// The response to a command: the same type and values, C/R clear.
    pub fn response(body: Body) -> Message {
        Message {
            command: false,
            body,
        }
    }

    /// Appends the message's octets.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut value = Vec::new();
        match &self.body {
            Body::Pn(pn) => pn.encode(&mut value),
            Body::Cld | Body::FcOn | Body::FcOff => {}
            Body::Test(pattern) => value.extend_from_slice(pattern),
            Body::Msc(msc) => {
                value.push((msc.dlci & 0x3F) << 2 | CR | EA);
                value.push(msc.signals | EA);
                if let Some(brk) = msc.brk {
                    value.push(brk);
                }
            }
            Body::Nsc(kind) => value.push(*kind),
            Body::Other { value: v, .. } => value.extend_from_slice(v),
        }
        out.push(self.body.kind() | if self.command { CR } else { 0 });
        encode_length(value.len(), out);
        out.extend_from_slice(&value);
    }

    /// The message's octets.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Reads the first message of `bytes`; returns it and the octets after it.
    pub fn decode_one(bytes: &[u8]) -> Result<(Message, &[u8]), DecodeError> {
        let (&type_octet, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if type_octet & EA == 0 {
            return Err(DecodeError::LongType);
        }
        let (len, rest) = decode_length(rest)?;
        if rest.len() < len {
            return Err(DecodeError::Truncated {
                want: len,
                have: rest.len(),
            });
        }
        let (value, rest) = rest.split_at(len);
        let command = type_octet & CR != 0;
        let kind = type_octet & !CR;
        let bad = || DecodeError::BadValue { kind, len };
        let body = match kind {
            types::PN => Body::Pn(Pn::decode(value).ok_or_else(bad)?),
            types::CLD if value.is_empty() => Body::Cld,
            types::FCON if value.is_empty() => Body::FcOn,
            types::FCOFF if value.is_empty() => Body::FcOff,
            types::CLD | types::FCON | types::FCOFF => return Err(bad()),
            types::TEST => Body::Test(value.to_vec()),
            types::MSC => match *value {
                [addr, signals] if addr & EA != 0 => Body::Msc(Msc {
                    dlci: addr >> 2,
                    signals: signals & !EA,
                    brk: None,
                }),
                [addr, signals, brk] if addr & EA != 0 => Body::Msc(Msc {
                    dlci: addr >> 2,
                    signals: signals & !EA,
                    brk: Some(brk),
                }),
                _ => return Err(bad()),
            },
            types::NSC => match *value {
                [k] => Body::Nsc(k),
                _ => return Err(bad()),
            },
            _ => Body::Other {
                kind,
                value: value.to_vec(),
            },
        };
        Ok((Message { command, body }, rest))
    }

    /// Reads every message of a control frame's information field.
    pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<Message>, DecodeError> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (message, rest) = Message::decode_one(bytes)?;
            out.push(message);
            bytes = rest;
        }
        Ok(out)
    }
}

/// Appends a control-message length: 7 bits per octet, least significant
/// first, EA set on the last.
fn encode_length(mut len: usize, out: &mut Vec<u8>) {
    loop {
        let part = ((len & 0x7F) as u8) << 1;
        len >>= 7;
        if len == 0 {
            out.push(part | EA);
            return;
        }
        out.push(part);
    }
}

fn decode_length(bytes: &[u8]) -> Result<(usize, &[u8]), DecodeError> {
    let mut len = 0usize;
    for (i, &b) in bytes.iter().enumerate().take(MAX_LENGTH_OCTETS) {
        len |= usize::from(b >> 1) << (7 * i);
        if b & EA != 0 {
            if len > super::MAX_INFO {
                return Err(DecodeError::BadLength);
            }
            return Ok((len, bytes.get(i + 1..).unwrap_or_default()));
        }
    }
    Err(DecodeError::BadLength)
}
