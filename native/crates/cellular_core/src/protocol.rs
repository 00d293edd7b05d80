//! The wire protocol between `VintageNetCellular.ATPort` and the port program
//! `cellular_port`.
//!
//! Frames travel on the port program's stdin (requests) and stdout (events),
//! each a MessagePack body (rmp-serde, compact form) behind a 4-byte
//! big-endian length, i.e. Erlang's `{:packet, 4}`. Both ends of the MessagePack
//! live in Rust: the port program, and the NIF that turns frames into terms
//! ([`Event::to_value`]) and terms into frames. Elixir never sees MessagePack.
//!
//! A session: the owner sends [`Request::Open`]; the port answers
//! [`Event::Opened`] or [`Event::Retrying`] (and keeps retrying with backoff).
//! Every [`Request::Command`] gets exactly one [`Event::Response`] with its
//! id: the modem's final result, [`Reply::Timeout`] or [`Reply::Closed`].
//! URCs arrive as [`Event::Urc`] at any time; logs as [`Event::Log`].
//!
//! ```
//! use cellular_core::protocol::{Event, Reply};
//! let frame = Event::Response { id: 7, reply: Reply::Ok { lines: vec!["+CSQ: 17,99".into()] } }.encode().unwrap();
//! assert_eq!(
//!     Event::decode(&frame).unwrap(),
//!     Event::Response { id: 7, reply: Reply::Ok { lines: vec!["+CSQ: 17,99".into()] } }
//! );
//! ```

use crate::engine::Final;
use crate::Value;
use serde::{Deserialize, Serialize};

/// RTS/CTS flow control on the tty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowControl {
    /// No flow control (USB modems)
    None,
    /// RTS/CTS (UART-attached modems)
    Hardware,
}

/// Requests from Elixir to the port program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Open (and keep open) the tty at `path`. Sent once, first.
    Open {
        path: String,
        speed: u32,
        flow_control: FlowControl,
        /// How long an abandoned (timed-out) command may still answer before
        /// the next command is written, in ms
        drain_ms: u32,
        /// URC prefixes of the modem profile, beside the engine's own table
        urc_prefixes: Vec<String>,
        /// What the port program holds at most (see [`Limits`])
        limits: Limits,
        /// Whether the modem may still owe a reply to a command of an earlier
        /// port program (one that died with a command in flight): if so,
        /// after opening, a final result arriving within `drain_ms` is
        /// dropped before the first command is written.
        drain_first: bool,
    },
    /// Write `text` + CR and report its final result (or a timeout) with `id`.
    Command {
        id: u64,
        text: String,
        timeout_ms: u32,
    },
    /// Write `text` as is (an SMS body ending in Ctrl-Z after a prompt, or the
    /// `+++` escape) and report the result with `id`.
    Raw {
        id: u64,
        text: String,
        timeout_ms: u32,
    },
    /// Close the tty and stop retrying; the program stays up until stdin
    /// closes.
    Close,
}

/// The bounds of one port program session, sent with [`Request::Open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Information lines one response may hold; one more ends the command
    /// with [`Reply::TooLarge`]
    pub max_response_lines: u32,
    /// Bytes of information lines (one per line end counted) one response
    /// may hold; likewise
    pub max_response_bytes: u32,
    /// Commands queued behind the one in flight; more are answered
    /// [`Reply::QueueFull`] at once
    pub max_queue: u32,
    /// URCs that may be sent in one burst; beyond it they are sent at
    /// `urc_per_second` and the rest shed (counted in [`Event::UrcsShed`])
    pub urc_burst: u32,
    /// URCs per second sent after a burst
    pub urc_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_response_lines: 1_000,
            max_response_bytes: 64 * 1024,
            max_queue: 64,
            urc_burst: 1_000,
            urc_per_second: 200,
        }
    }
}

/// The outcome of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// `OK` with the information lines
    Ok { lines: Vec<String> },
    /// `CONNECT` with its optional rate
    Connect { rate: Option<String> },
    /// The `> ` prompt
    Prompt,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <text>`
    CmeError { text: String },
    /// `+CMS ERROR: <text>`
    CmsError { text: String },
    /// `NO CARRIER`
    NoCarrier,
    /// `BUSY`
    Busy,
    /// `NO ANSWER`
    NoAnswer,
    /// `NO DIALTONE`
    NoDialtone,
    /// No final result within the command's timeout
    Timeout,
    /// The tty is not open (missing, vanished or closed)
    Closed,
    /// The response passed [`Limits::max_response_lines`] or
    /// [`Limits::max_response_bytes`]; the rest of it was dropped
    TooLarge,
    /// [`Limits::max_queue`] commands were already queued
    QueueFull,
}

/// Log levels of [`Event::Log`], as Elixir's Logger knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Error,
    Warning,
    Info,
    Debug,
}

/// Events from the port program to Elixir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The tty is open (again)
    Opened { path: String },
    /// The tty closed or vanished; pending commands were answered `Closed`
    Closed { reason: String },
    /// Opening failed; the next attempt is in `in_ms`
    Retrying { reason: String, in_ms: u64 },
    /// The result of command `id`
    Response { id: u64, reply: Reply },
    /// An unsolicited result code line
    Urc { line: String },
    /// Bytes of over-long lines that were dropped
    Overflow { dropped: u64 },
    /// URCs shed since the last such event, over the URC rate
    /// ([`Limits::urc_burst`], [`Limits::urc_per_second`])
    UrcsShed { count: u64 },
    /// A `tracing` event of the port program
    Log {
        level: Level,
        target: String,
        message: String,
    },
}

/// A frame that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProtocolError> {
    rmp_serde::to_vec(value).map_err(|e| ProtocolError(format!("cannot encode frame: {e}")))
}

fn decode<'a, T: Deserialize<'a>>(frame: &'a [u8], what: &str) -> Result<T, ProtocolError> {
    rmp_serde::from_slice(frame).map_err(|e| {
        let head: Vec<String> = frame.iter().take(8).map(|b| format!("{b:02x}")).collect();
        ProtocolError(format!(
            "bad {what} frame ({} bytes, starting {}): {e}",
            frame.len(),
            head.join(" ")
        ))
    })
}

impl Request {
    /// The frame body (without the length prefix).
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        encode(self)
    }

    /// Decodes a frame body.
    pub fn decode(frame: &[u8]) -> Result<Request, ProtocolError> {
        decode(frame, "request")
    }
}

impl Event {
    /// The frame body (without the length prefix).
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        encode(self)
    }

    /// Decodes a frame body.
    pub fn decode(frame: &[u8]) -> Result<Event, ProtocolError> {
        decode(frame, "event")
    }

    /// The event as the term `VintageNetCellular.ATPort` receives:
    ///
    /// * `{:opened, path}`, `{:closed, reason}`, `{:retrying, reason, in_ms}`
    /// * `{:response, id, reply}` with `reply` as in [`Reply::to_value`]
    /// * `{:urc, line}`, `{:overflow, dropped}`, `{:urcs_shed, count}`
    /// * `{:log, level, target, message}`, level `:error | :warning | :info | :debug`
    pub fn to_value(&self) -> Value {
        let t = |items: Vec<Value>| Value::Tuple(items);
        match self {
            Event::Opened { path } => t(vec![Value::Atom("opened"), path.as_str().into()]),
            Event::Closed { reason } => t(vec![Value::Atom("closed"), reason.as_str().into()]),
            Event::Retrying { reason, in_ms } => t(vec![
                Value::Atom("retrying"),
                reason.as_str().into(),
                Value::Int(clamp(*in_ms)),
            ]),
            Event::Response { id, reply } => t(vec![
                Value::Atom("response"),
                Value::Int(clamp(*id)),
                reply.to_value(),
            ]),
            Event::Urc { line } => t(vec![Value::Atom("urc"), line.as_str().into()]),
            Event::Overflow { dropped } => {
                t(vec![Value::Atom("overflow"), Value::Int(clamp(*dropped))])
            }
            Event::UrcsShed { count } => {
                t(vec![Value::Atom("urcs_shed"), Value::Int(clamp(*count))])
            }
            Event::Log {
                level,
                target,
                message,
            } => t(vec![
                Value::Atom("log"),
                Value::Atom(level.name()),
                target.as_str().into(),
                message.as_str().into(),
            ]),
        }
    }
}

impl Level {
    /// The Logger level name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Reply {
    /// The result `VintageNetCellular.ATPort.command/3` returns:
    ///
    /// | reply | term |
    /// |---|---|
    /// | `Ok` | `{:ok, lines}` |
    /// | `Connect` | `{:ok, :connect}` or `{:ok, {:connect, rate}}` |
    /// | `Prompt` | `{:ok, :prompt}` |
    /// | `Error` | `{:error, :error}` |
    /// | `CmeError` | `{:error, {:cme_error, code}}`, code an integer when numeric, else the text |
    /// | `CmsError` | `{:error, {:cms_error, code}}`, likewise |
    /// | `NoCarrier` … | `{:error, :no_carrier \| :busy \| :no_answer \| :no_dialtone}` |
    /// | `Timeout`, `Closed` | `{:error, :timeout}`, `{:error, :closed}` |
    /// | `TooLarge`, `QueueFull` | `{:error, :response_too_large}`, `{:error, :queue_full}` |
    pub fn to_value(&self) -> Value {
        let ok = |v: Value| Value::Tuple(vec![Value::Atom("ok"), v]);
        let error = |v: Value| Value::Tuple(vec![Value::Atom("error"), v]);
        let code = |text: &str| match text.parse::<i64>() {
            Ok(n) if !text.starts_with(['+', '-']) => Value::Int(n),
            _ => Value::Str(text.to_owned()),
        };
        match self {
            Reply::Ok { lines } => ok(Value::List(
                lines.iter().map(|l| Value::Str(l.clone())).collect(),
            )),
            Reply::Connect { rate: None } => ok(Value::Atom("connect")),
            Reply::Connect { rate: Some(rate) } => ok(Value::Tuple(vec![
                Value::Atom("connect"),
                rate.as_str().into(),
            ])),
            Reply::Prompt => ok(Value::Atom("prompt")),
            Reply::Error => error(Value::Atom("error")),
            Reply::CmeError { text } => {
                error(Value::Tuple(vec![Value::Atom("cme_error"), code(text)]))
            }
            Reply::CmsError { text } => {
                error(Value::Tuple(vec![Value::Atom("cms_error"), code(text)]))
            }
            Reply::NoCarrier => error(Value::Atom("no_carrier")),
            Reply::Busy => error(Value::Atom("busy")),
            Reply::NoAnswer => error(Value::Atom("no_answer")),
            Reply::NoDialtone => error(Value::Atom("no_dialtone")),
            Reply::Timeout => error(Value::Atom("timeout")),
            Reply::Closed => error(Value::Atom("closed")),
            Reply::TooLarge => error(Value::Atom("response_too_large")),
            Reply::QueueFull => error(Value::Atom("queue_full")),
        }
    }
}

impl Reply {
    /// The reply for an engine final result and its information lines.
    pub fn from_final(result: Final, lines: Vec<String>) -> Reply {
        match result {
            Final::Ok => Reply::Ok { lines },
            Final::Error => Reply::Error,
            Final::CmeError(text) => Reply::CmeError { text },
            Final::CmsError(text) => Reply::CmsError { text },
            Final::Connect(rate) => Reply::Connect { rate },
            Final::NoCarrier => Reply::NoCarrier,
            Final::Busy => Reply::Busy,
            Final::NoAnswer => Reply::NoAnswer,
            Final::NoDialtone => Reply::NoDialtone,
            Final::Prompt => Reply::Prompt,
        }
    }
}

/// Splits `{:packet, 4}` frames out of a byte stream. Frames longer than
/// `max_frame` are an error (the stream is then unusable).
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    max_frame: usize,
}

impl FrameReader {
    /// A reader that accepts frames of up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            max_frame,
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame body, if any.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        let Some(header) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > self.max_frame {
            return Err(ProtocolError(format!(
                "frame of {len} bytes exceeds the limit of {} bytes",
                self.max_frame
            )));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(body))
    }
}

/// Prefixes a frame body with its 4-byte big-endian length.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_events() -> Vec<Event> {
        vec![
            Event::Opened {
                path: "/dev/ttyUSB2".into(),
            },
            Event::Closed {
                reason: "EIO".into(),
            },
            Event::Retrying {
                reason: "ENOENT".into(),
                in_ms: 200,
            },
            Event::Response {
                id: 1,
                reply: Reply::Ok {
                    lines: vec!["a".into(), "é".into()],
                },
            },
            Event::Response {
                id: u64::MAX,
                reply: Reply::Connect {
                    rate: Some("150000000".into()),
                },
            },
            Event::Response {
                id: 3,
                reply: Reply::CmeError { text: "10".into() },
            },
            Event::Urc {
                line: "+CREG: 1".into(),
            },
            Event::Overflow { dropped: 4096 },
            Event::UrcsShed { count: 12 },
            Event::Response {
                id: 4,
                reply: Reply::TooLarge,
            },
            Event::Response {
                id: 5,
                reply: Reply::QueueFull,
            },
            Event::Log {
                level: Level::Warning,
                target: "cellular_port".into(),
                message: "hello".into(),
            },
        ]
    }

    #[test]
    fn events_and_requests_round_trip() {
        for event in all_events() {
            assert_eq!(Event::decode(&event.encode().unwrap()).unwrap(), event);
        }
        let requests = [
            Request::Open {
                path: "/dev/ttyUSB2".into(),
                speed: 115_200,
                flow_control: FlowControl::Hardware,
                drain_ms: 1000,
                urc_prefixes: vec!["+QIND:".into()],
                limits: Limits {
                    max_response_lines: 10,
                    ..Limits::default()
                },
                drain_first: true,
            },
            Request::Command {
                id: 9,
                text: "AT+CSQ".into(),
                timeout_ms: 5000,
            },
            Request::Raw {
                id: 10,
                text: "hi\x1a".into(),
                timeout_ms: 5000,
            },
            Request::Close,
        ];
        for request in requests {
            assert_eq!(
                Request::decode(&request.encode().unwrap()).unwrap(),
                request
            );
        }
    }

    #[test]
    fn a_bad_frame_is_an_error_that_shows_its_bytes() {
        let err = Event::decode(&[0xc1, 0x00]).unwrap_err();
        assert!(
            err.0.contains("bad event frame (2 bytes, starting c1 00)"),
            "{err}"
        );
        assert!(Request::decode(&[]).is_err());
    }

    #[test]
    fn events_become_the_terms_atport_expects() {
        let v = Event::Response {
            id: 3,
            reply: Reply::CmeError { text: "10".into() },
        }
        .to_value();
        assert_eq!(
            v,
            Value::Tuple(vec![
                Value::Atom("response"),
                Value::Int(3),
                Value::Tuple(vec![
                    Value::Atom("error"),
                    Value::Tuple(vec![Value::Atom("cme_error"), Value::Int(10)])
                ])
            ])
        );
        let text = Reply::CmsError {
            text: "SIM busy".into(),
        }
        .to_value();
        assert_eq!(
            text,
            Value::Tuple(vec![
                Value::Atom("error"),
                Value::Tuple(vec![
                    Value::Atom("cms_error"),
                    Value::Str("SIM busy".into())
                ])
            ])
        );
        assert_eq!(
            Reply::Connect { rate: None }.to_value(),
            Value::Tuple(vec![Value::Atom("ok"), Value::Atom("connect")])
        );
        assert_eq!(
            Reply::Timeout.to_value(),
            Value::Tuple(vec![Value::Atom("error"), Value::Atom("timeout")])
        );
        assert_eq!(
            Reply::TooLarge.to_value(),
            Value::Tuple(vec![
                Value::Atom("error"),
                Value::Atom("response_too_large")
            ])
        );
        assert_eq!(
            Reply::QueueFull.to_value(),
            Value::Tuple(vec![Value::Atom("error"), Value::Atom("queue_full")])
        );
        assert_eq!(
            Event::UrcsShed { count: 7 }.to_value(),
            Value::Tuple(vec![Value::Atom("urcs_shed"), Value::Int(7)])
        );
        assert_eq!(
            Event::Retrying {
                reason: "x".into(),
                in_ms: 100
            }
            .to_value(),
            Value::Tuple(vec![
                Value::Atom("retrying"),
                Value::Str("x".into()),
                Value::Int(100)
            ])
        );
    }

    #[test]
    fn frames_are_split_from_any_fragmentation() {
        let bodies: Vec<Vec<u8>> = all_events().iter().map(|e| e.encode().unwrap()).collect();
        let stream: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
        for chunk in [1, 3, 7, stream.len()] {
            let mut reader = FrameReader::new(1 << 20);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                reader.push(piece);
                while let Some(body) = reader.next_frame().unwrap() {
                    got.push(body);
                }
            }
            assert_eq!(got, bodies);
        }
    }

    #[test]
    fn an_oversized_frame_is_refused() {
        let mut reader = FrameReader::new(16);
        reader.push(&[0, 0, 1, 0]);
        assert!(reader.next_frame().is_err());
    }
}
