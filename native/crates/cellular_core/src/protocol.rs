//! The wire protocol between `VintageNetCellular.ATPort` and the port program
//! `cellular_port`.
//!
//! Frames travel on the port program's stdin (requests) and stdout (events),
//! each an Erlang external term format body ([`crate::etf`]) behind a 4-byte
//! big-endian length, i.e. Erlang's `{:packet, 4}`. Elixir writes requests
//! with `:erlang.term_to_binary/1` and reads events with
//! `:erlang.binary_to_term(frame, [:safe])`: the AT path needs no NIF.
//!
//! Each URC and each information line of an `OK` response is parsed here
//! ([`crate::at::parse`]) on its way out, once, and travels as
//! `{:ok, {kind, fields}}` or `{:error, {reason, detail}}` beside the raw
//! line (see [`Event::to_value`]). Every atom either side may put in a frame
//! is in [`ATOMS`]; `ATPort` keeps the same list so that `[:safe]` decoding
//! finds each of them already in the VM.
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
//! assert_eq!(frame[0], 131);
//! assert_eq!(
//!     Event::decode(&frame).unwrap(),
//!     Event::Response { id: 7, reply: Reply::Ok { lines: vec!["+CSQ: 17,99".into()] } }
//! );
//! ```

use crate::engine::Final;
use crate::{at, etf, Value};

/// Every atom a frame may hold, either way, beside `true`, `false` and
/// `nil`: the protocol's own tags and the kinds, keys and names of the AT
/// parsers. Sorted. `VintageNetCellular.ATPort.Atoms` lists the same atoms
/// (a test compares the two through `cellular_port --atoms`).
pub const ATOMS: &[&str] = &[
    "act",
    "active_time",
    "allowed_nssai",
    "apn",
    "arfcn",
    "attached_rlos",
    "auth",
    "auth_prot",
    "bad_prefix",
    "band",
    "ber",
    "busy",
    "c5greg",
    "cause_type",
    "cell_id",
    "cereg",
    "cesq",
    "cgauth",
    "cgdcont",
    "cgreg",
    "channel",
    "chap",
    "ci",
    "cid",
    "close",
    "closed",
    "cme_error",
    "cms_error",
    "code",
    "command",
    "connect",
    "control_byte",
    "cops",
    "cpin",
    "cpinr",
    "cpsi",
    "creg",
    "csfb_not_preferred_home",
    "csfb_not_preferred_roaming",
    "csq",
    "ctze",
    "ctzv",
    "day",
    "debug",
    "default_retries",
    "denied",
    "dl_bandwidth",
    "dlbw",
    "dst",
    "earfcn",
    "ec_gsm_iot",
    "ecio",
    "ecno",
    "emergency_only",
    "empty",
    "err",
    "error",
    "eutra_5gcn",
    "eutra_nr",
    "eutran",
    "eutran_nb_s1",
    "extra_field",
    "facility",
    "fields",
    "format",
    "gsm",
    "gsm_compact",
    "gsm_egprs",
    "hardware",
    "hour",
    "iccid",
    "info",
    "invalid_field",
    "invalid_utf8",
    "lac",
    "log",
    "mcc",
    "message",
    "minute",
    "missing_field",
    "mnc",
    "mode",
    "month",
    "mux_down",
    "mux_start",
    "mux_stop",
    "mux_up",
    "ng_ran",
    "no_answer",
    "no_carrier",
    "no_dialtone",
    "no_prefix",
    "none",
    "not_inserted",
    "not_ready",
    "not_registered",
    "nr_5gcn",
    "ok",
    "open",
    "opened",
    "operation_mode",
    "operator",
    "other",
    "overflow",
    "pap",
    "pap_or_chap",
    "pci",
    "pdp_type",
    "periodic_tau",
    "ph_corp_pin",
    "ph_corp_puk",
    "ph_fsim_pin",
    "ph_fsim_puk",
    "ph_net_pin",
    "ph_net_puk",
    "ph_netsub_pin",
    "ph_netsub_puk",
    "ph_sim_pin",
    "ph_sp_pin",
    "ph_sp_puk",
    "pin",
    "pin1",
    "pin2",
    "pin_counter",
    "prefix",
    "prompt",
    "psc",
    "puk",
    "puk1",
    "puk2",
    "puk_counter",
    "qcsq",
    "qlts",
    "qnwinfo",
    "qpinc",
    "queue_full",
    "rac",
    "raw",
    "ready",
    "registered_home",
    "registered_roaming",
    "reject_cause",
    "response",
    "response_too_large",
    "retries",
    "retrying",
    "rscp",
    "rsrp",
    "rsrq",
    "rssi",
    "rssnr",
    "rxlev",
    "searching",
    "second",
    "service",
    "sim_not_inserted",
    "sim_pin",
    "sim_pin2",
    "sim_puk",
    "sim_puk2",
    "sim_removed",
    "sinr",
    "sinr_raw",
    "sms_only_home",
    "sms_only_roaming",
    "spic",
    "stat",
    "state",
    "sysmode",
    "system_mode",
    "tac",
    "time",
    "timeout",
    "too_long",
    "tz",
    "uarfcn",
    "ul_bandwidth",
    "ulbw",
    "unknown",
    "unterminated_quote",
    "urc",
    "urcs",
    "urcs_shed",
    "username",
    "utran",
    "utran_hsdpa",
    "utran_hsdpa_hsupa",
    "utran_hsupa",
    "value",
    "values",
    "warning",
    "year",
];

/// RTS/CTS flow control on the tty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowControl {
    /// No flow control (USB modems)
    None,
    /// RTS/CTS (UART-attached modems)
    Hardware,
}

/// Requests from Elixir to the port program.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Start the 3GPP TS 27.010 multiplexer (CMUX, basic mode) on the open
    /// tty. Sent after the modem answered `OK` to `AT+CMUX=0,...` on the
    /// plain port. `n1` is the largest information field of a frame (the N1
    /// of the `AT+CMUX` command). The port answers [`Event::MuxUp`] (AT
    /// commands then travel on DLCI 1) or [`Event::MuxDown`].
    MuxStart { n1: u32 },
    /// Close the multiplexer down (DISC of the channels, CLD), leaving the
    /// modem in plain AT mode; answered [`Event::MuxDown`]. When no
    /// multiplexer runs, a close-down is still written blind (harmless to a
    /// modem in AT mode): send it after [`Request::Open`] when an earlier
    /// program may have left the modem multiplexing.
    MuxStop,
}

/// The bounds of one port program session, sent with [`Request::Open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Info,
    Debug,
}

/// Events from the port program to Elixir.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Several URC lines in a row, in order: one frame (and one message in
    /// the BEAM) for a burst read at once
    Urcs { lines: Vec<String> },
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
    /// The multiplexer is up: AT commands travel on DLCI 1, and `data_tty`
    /// (a pty slave) carries DLCI 2, for pppd
    MuxUp { data_tty: String },
    /// The multiplexer is down (on request, or for `reason`); AT commands
    /// travel on the plain tty again
    MuxDown { reason: String },
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

fn decode_value(frame: &[u8], what: &str) -> Result<Value, ProtocolError> {
    etf::decode(frame, ATOMS).map_err(|e| bad(frame, what, &e.0))
}

fn bad(frame: &[u8], what: &str, why: &str) -> ProtocolError {
    let head: Vec<String> = frame.iter().take(8).map(|b| format!("{b:02x}")).collect();
    ProtocolError(format!(
        "bad {what} frame ({} bytes, starting {}): {why}",
        frame.len(),
        head.join(" ")
    ))
}

/// Reads the fields of a decoded term; each failure names what was wrong.
fn int<T: TryFrom<i64>>(v: &Value, name: &str) -> Result<T, String> {
    match v {
        Value::Int(n) => T::try_from(*n).map_err(|_| format!("{name} is out of range")),
        _ => Err(format!("{name} must be an integer")),
    }
}

fn string(v: &Value, name: &str) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(format!("{name} must be a binary")),
    }
}

impl Request {
    /// The frame body (without the length prefix): the term of
    /// [`Request::to_value`] in ETF, as `:erlang.term_to_binary/1` makes it.
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        Ok(etf::encode(&self.to_value()))
    }

    /// Decodes a frame body (see [`Request::to_value`] for the terms).
    pub fn decode(frame: &[u8]) -> Result<Request, ProtocolError> {
        let value = decode_value(frame, "request")?;
        Request::from_value(&value).map_err(|why| bad(frame, "request", &why))
    }

    /// The request as the term `VintageNetCellular.ATPort` sends:
    ///
    /// * `{:open, path, speed, :none | :hardware, drain_ms, urc_prefixes, limits, drain_first}`,
    ///   `limits` being `{max_response_lines, max_response_bytes, max_queue, urc_burst,
    ///   urc_per_second}` (see [`Limits`])
    /// * `{:command, id, text, timeout_ms}` and `{:raw, id, text, timeout_ms}`
    /// * `:close`
    /// * `{:mux_start, n1}` and `:mux_stop`
    pub fn to_value(&self) -> Value {
        match self {
            Request::Open {
                path,
                speed,
                flow_control,
                drain_ms,
                urc_prefixes,
                limits,
                drain_first,
            } => Value::Tuple(vec![
                Value::Atom("open"),
                path.as_str().into(),
                (*speed).into(),
                Value::Atom(match flow_control {
                    FlowControl::None => "none",
                    FlowControl::Hardware => "hardware",
                }),
                (*drain_ms).into(),
                urc_prefixes.clone().into(),
                Value::Tuple(vec![
                    limits.max_response_lines.into(),
                    limits.max_response_bytes.into(),
                    limits.max_queue.into(),
                    limits.urc_burst.into(),
                    limits.urc_per_second.into(),
                ]),
                Value::Bool(*drain_first),
            ]),
            Request::Command {
                id,
                text,
                timeout_ms,
            } => Value::Tuple(vec![
                Value::Atom("command"),
                Value::Int(clamp(*id)),
                text.as_str().into(),
                (*timeout_ms).into(),
            ]),
            Request::Raw {
                id,
                text,
                timeout_ms,
            } => Value::Tuple(vec![
                Value::Atom("raw"),
                Value::Int(clamp(*id)),
                text.as_str().into(),
                (*timeout_ms).into(),
            ]),
            Request::Close => Value::Atom("close"),
            Request::MuxStart { n1 } => Value::Tuple(vec![Value::Atom("mux_start"), (*n1).into()]),
            Request::MuxStop => Value::Atom("mux_stop"),
        }
    }

    /// The request a term of [`Request::to_value`]'s shapes stands for.
    pub fn from_value(value: &Value) -> Result<Request, String> {
        let items = match value {
            Value::Atom("close") => return Ok(Request::Close),
            Value::Atom("mux_stop") => return Ok(Request::MuxStop),
            Value::Tuple(items) => items.as_slice(),
            _ => {
                return Err(
                    "expected :close, :mux_stop, {:open, ...}, {:command, ...}, {:raw, ...} \
                     or {:mux_start, n1}"
                        .into(),
                )
            }
        };
        match items {
            [Value::Atom("open"), path, speed, flow, drain_ms, prefixes, limits, drain_first] => {
                let flow_control = match flow {
                    Value::Atom("none") => FlowControl::None,
                    Value::Atom("hardware") => FlowControl::Hardware,
                    _ => return Err("flow_control must be :none or :hardware".into()),
                };
                let urc_prefixes = match prefixes {
                    Value::List(items) => items
                        .iter()
                        .map(|p| string(p, "a URC prefix"))
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err("urc_prefixes must be a list".into()),
                };
                let drain_first = match drain_first {
                    Value::Bool(b) => *b,
                    _ => return Err("drain_first must be a boolean".into()),
                };
                Ok(Request::Open {
                    path: string(path, "path")?,
                    speed: int(speed, "speed")?,
                    flow_control,
                    drain_ms: int(drain_ms, "drain_ms")?,
                    urc_prefixes,
                    limits: Limits::from_value(limits)?,
                    drain_first,
                })
            }
            [Value::Atom(tag @ ("command" | "raw")), id, text, timeout_ms] => {
                let (id, text, timeout_ms) = (
                    int(id, "id")?,
                    string(text, "text")?,
                    int(timeout_ms, "timeout_ms")?,
                );
                Ok(if *tag == "command" {
                    Request::Command {
                        id,
                        text,
                        timeout_ms,
                    }
                } else {
                    Request::Raw {
                        id,
                        text,
                        timeout_ms,
                    }
                })
            }
            [Value::Atom("mux_start"), n1] => match int::<u32>(n1, "n1")? {
                0 => Err("n1 must be a positive integer".into()),
                n1 => Ok(Request::MuxStart { n1 }),
            },
            [Value::Atom("open"), ..] => Err(
                "{:open, path, speed, flow_control, drain_ms, urc_prefixes, limits, drain_first}"
                    .into(),
            ),
            [Value::Atom("command" | "raw"), ..] => {
                Err("{:command | :raw, id, text, timeout_ms}".into())
            }
            _ => Err("unknown request".into()),
        }
    }
}

impl Limits {
    fn from_value(value: &Value) -> Result<Limits, String> {
        const SHAPE: &str = "limits must be {max_response_lines, max_response_bytes, max_queue, \
             urc_burst, urc_per_second}, positive integers";
        let Value::Tuple(items) = value else {
            return Err(SHAPE.into());
        };
        let [lines, bytes, queue, burst, rate] = items.as_slice() else {
            return Err(SHAPE.into());
        };
        let positive = |v: &Value| match int::<u32>(v, "a limit") {
            Ok(0) | Err(_) => Err(SHAPE.to_string()),
            Ok(n) => Ok(n),
        };
        Ok(Limits {
            max_response_lines: positive(lines)?,
            max_response_bytes: positive(bytes)?,
            max_queue: positive(queue)?,
            urc_burst: positive(burst)?,
            urc_per_second: positive(rate)?,
        })
    }
}

impl Event {
    /// The frame body (without the length prefix): the term of
    /// [`Event::to_value`] in ETF. Never fails; the `Result` is kept for
    /// the callers' sake.
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        Ok(etf::encode(&self.to_value()))
    }

    /// Decodes a frame body. The parsed forms of lines are checked for shape
    /// and dropped: they are derived from the raw lines, which the event keeps.
    pub fn decode(frame: &[u8]) -> Result<Event, ProtocolError> {
        let value = decode_value(frame, "event")?;
        Event::from_value(&value).map_err(|why| bad(frame, "event", &why))
    }

    /// The event a term of [`Event::to_value`]'s shapes stands for.
    pub fn from_value(value: &Value) -> Result<Event, String> {
        let Value::Tuple(items) = value else {
            return Err("an event must be a tuple".into());
        };
        match items.as_slice() {
            [Value::Atom("opened"), path] => Ok(Event::Opened {
                path: string(path, "path")?,
            }),
            [Value::Atom("closed"), reason] => Ok(Event::Closed {
                reason: string(reason, "reason")?,
            }),
            [Value::Atom("retrying"), reason, in_ms] => Ok(Event::Retrying {
                reason: string(reason, "reason")?,
                in_ms: int(in_ms, "in_ms")?,
            }),
            [Value::Atom("response"), id, reply, Value::List(parsed)] => {
                let reply = Reply::from_value(reply)?;
                let lines = match &reply {
                    Reply::Ok { lines } => lines.len(),
                    _ => 0,
                };
                if parsed.len() != lines || !parsed.iter().all(is_parse_result) {
                    return Err("the parsed lines do not match the reply".into());
                }
                Ok(Event::Response {
                    id: int(id, "id")?,
                    reply,
                })
            }
            [Value::Atom("urc"), line, parsed] if is_parse_result(parsed) => Ok(Event::Urc {
                line: string(line, "line")?,
            }),
            [Value::Atom("urcs"), Value::List(urcs)] => {
                let lines = urcs
                    .iter()
                    .map(|urc| match urc {
                        Value::Tuple(pair) => match pair.as_slice() {
                            [line, parsed] if is_parse_result(parsed) => string(line, "line"),
                            _ => Err("a URC of urcs must be {line, parsed}".to_string()),
                        },
                        _ => Err("a URC of urcs must be a tuple".to_string()),
                    })
                    .collect::<Result<Vec<String>, String>>()?;
                Ok(Event::Urcs { lines })
            }
            [Value::Atom("overflow"), n] => Ok(Event::Overflow {
                dropped: int(n, "dropped")?,
            }),
            [Value::Atom("urcs_shed"), n] => Ok(Event::UrcsShed {
                count: int(n, "count")?,
            }),
            [Value::Atom("log"), Value::Atom(level), target, message] => Ok(Event::Log {
                level: Level::from_name(level).ok_or("unknown log level")?,
                target: string(target, "target")?,
                message: string(message, "message")?,
            }),
            [Value::Atom("mux_up"), tty] => Ok(Event::MuxUp {
                data_tty: string(tty, "data_tty")?,
            }),
            [Value::Atom("mux_down"), reason] => Ok(Event::MuxDown {
                reason: string(reason, "reason")?,
            }),
            _ => Err("unknown event".into()),
        }
    }

    /// The event as the term `VintageNetCellular.ATPort` receives:
    ///
    /// * `{:opened, path}`, `{:closed, reason}`, `{:retrying, reason, in_ms}`
    /// * `{:response, id, reply, parsed}` with `reply` as in [`Reply::to_value`]
    ///   and `parsed` the [`at::parse_term`] of each line of an `{:ok, lines}`
    ///   reply (`[]` for other replies)
    /// * `{:urc, line, parsed}`, `parsed` being [`at::parse_term`] of `line`
    /// * `{:urcs, [{line, parsed}, ...]}`, URCs in a row, oldest first
    /// * `{:overflow, dropped}`, `{:urcs_shed, count}`
    /// * `{:log, level, target, message}`, level `:error | :warning | :info | :debug`
    /// * `{:mux_up, data_tty}`, `{:mux_down, reason}`
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
                Value::List(match reply {
                    Reply::Ok { lines } => {
                        lines.iter().map(|l| at::parse_term(l.as_bytes())).collect()
                    }
                    _ => Vec::new(),
                }),
            ]),
            Event::Urc { line } => t(vec![
                Value::Atom("urc"),
                line.as_str().into(),
                at::parse_term(line.as_bytes()),
            ]),
            Event::Urcs { lines } => t(vec![
                Value::Atom("urcs"),
                Value::List(
                    lines
                        .iter()
                        .map(|line| t(vec![line.as_str().into(), at::parse_term(line.as_bytes())]))
                        .collect(),
                ),
            ]),
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
            Event::MuxUp { data_tty } => t(vec![Value::Atom("mux_up"), data_tty.as_str().into()]),
            Event::MuxDown { reason } => t(vec![Value::Atom("mux_down"), reason.as_str().into()]),
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

    /// The level of a Logger level name.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Error, Level::Warning, Level::Info, Level::Debug]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

/// Whether `v` has the shape of [`at::parse_term`]'s answers.
fn is_parse_result(v: &Value) -> bool {
    match v {
        Value::Tuple(items) => {
            matches!(
                items.as_slice(),
                [Value::Atom("ok"), Value::Tuple(pair)]
                    if matches!(pair.as_slice(), [Value::Atom(_), Value::Map(_)])
            ) || matches!(
                items.as_slice(),
                [Value::Atom("error"), Value::Tuple(pair)]
                    if matches!(pair.as_slice(), [Value::Atom(_), Value::Str(_)])
            )
        }
        _ => false,
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
    /// The reply a term of [`Reply::to_value`]'s shapes stands for.
    pub fn from_value(value: &Value) -> Result<Reply, String> {
        let Value::Tuple(items) = value else {
            return Err("a reply must be a tuple".into());
        };
        let code = |v: &Value| match v {
            Value::Int(n) => Ok(n.to_string()),
            Value::Str(s) => Ok(s.clone()),
            _ => Err("an error code must be an integer or a binary".to_string()),
        };
        Ok(match items.as_slice() {
            [Value::Atom("ok"), Value::List(lines)] => Reply::Ok {
                lines: lines
                    .iter()
                    .map(|l| string(l, "a line"))
                    .collect::<Result<_, _>>()?,
            },
            [Value::Atom("ok"), Value::Atom("connect")] => Reply::Connect { rate: None },
            [Value::Atom("ok"), Value::Tuple(c)] => match c.as_slice() {
                [Value::Atom("connect"), rate] => Reply::Connect {
                    rate: Some(string(rate, "rate")?),
                },
                _ => return Err("unknown reply".into()),
            },
            [Value::Atom("ok"), Value::Atom("prompt")] => Reply::Prompt,
            [Value::Atom("error"), Value::Tuple(e)] => match e.as_slice() {
                [Value::Atom("cme_error"), c] => Reply::CmeError { text: code(c)? },
                [Value::Atom("cms_error"), c] => Reply::CmsError { text: code(c)? },
                _ => return Err("unknown reply".into()),
            },
            [Value::Atom("error"), Value::Atom(why)] => match *why {
                "error" => Reply::Error,
                "no_carrier" => Reply::NoCarrier,
                "busy" => Reply::Busy,
                "no_answer" => Reply::NoAnswer,
                "no_dialtone" => Reply::NoDialtone,
                "timeout" => Reply::Timeout,
                "closed" => Reply::Closed,
                "response_too_large" => Reply::TooLarge,
                "queue_full" => Reply::QueueFull,
                _ => return Err("unknown reply".into()),
            },
            _ => return Err("unknown reply".into()),
        })
    }

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
                id: i64::MAX as u64,
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
            Event::Urc {
                line: "+CSQ: 99,x".into(),
            },
            Event::Response {
                id: 6,
                reply: Reply::Ok {
                    lines: vec!["+COPS: 0,2,\"310410\",7".into(), "Quectel".into()],
                },
            },
            Event::Response {
                id: 7,
                reply: Reply::CmsError { text: "-5".into() },
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
            Event::MuxUp {
                data_tty: "/dev/pts/3".into(),
            },
            Event::MuxDown {
                reason: "the modem stopped answering".into(),
            },
        ]
    }

    #[test]
    fn events_and_requests_round_trip() {
        for event in all_events() {
            assert_eq!(Event::decode(&event.encode().unwrap()).unwrap(), event);
        }
        for request in all_requests() {
            assert_eq!(
                Request::decode(&request.encode().unwrap()).unwrap(),
                request
            );
        }
    }

    fn all_requests() -> Vec<Request> {
        vec![
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
            Request::MuxStart { n1: 127 },
            Request::MuxStop,
            Request::Open {
                path: "/dev/ttyACM0".into(),
                speed: 9600,
                flow_control: FlowControl::None,
                drain_ms: 0,
                urc_prefixes: vec![],
                limits: Limits::default(),
                drain_first: false,
            },
        ]
    }

    #[test]
    fn requests_decode_from_what_term_to_binary_writes() {
        // :erlang.term_to_binary({:command, 1, "AT", 5000}) on OTP 25 (ATOM_EXT atoms).
        let bytes = [
            131, 104, 4, 100, 0, 7, b'c', b'o', b'm', b'm', b'a', b'n', b'd', 97, 1, 109, 0, 0, 0,
            2, b'A', b'T', 98, 0, 0, 19, 136,
        ];
        assert_eq!(
            Request::decode(&bytes).unwrap(),
            Request::Command {
                id: 1,
                text: "AT".into(),
                timeout_ms: 5000
            }
        );
        // :erlang.term_to_binary(:close) on OTP 26+ (SMALL_ATOM_UTF8_EXT).
        assert_eq!(
            Request::decode(&[131, 119, 5, b'c', b'l', b'o', b's', b'e']).unwrap(),
            Request::Close
        );
    }

    #[test]
    fn a_bad_frame_is_an_error_that_shows_its_bytes() {
        let err = Event::decode(&[0xc1, 0x00]).unwrap_err();
        assert!(
            err.0.contains("bad event frame (2 bytes, starting c1 00)"),
            "{err}"
        );
        assert!(Request::decode(&[]).is_err());
        // Well-formed terms of the wrong shapes are refused with a reason.
        let wrong = [
            Value::Atom("open"),
            Value::Tuple(vec![
                Value::Atom("command"),
                Value::Int(-1),
                "AT".into(),
                1u32.into(),
            ]),
            Value::Tuple(vec![
                Value::Atom("command"),
                Value::Int(1),
                Value::Int(2),
                1u32.into(),
            ]),
            Value::Tuple(vec![Value::Atom("raw"), Value::Int(1), "x".into()]),
            Value::Tuple(vec![Value::Atom("mux_start"), Value::Int(0)]),
            Value::Tuple(vec![Value::Atom("mux_start"), "127".into()]),
        ];
        for term in wrong {
            let err = Request::decode(&etf::encode(&term)).unwrap_err();
            assert!(err.0.starts_with("bad request frame"), "{err}");
        }
        let mut open = Request::Open {
            path: "/dev/ttyUSB2".into(),
            speed: 115_200,
            flow_control: FlowControl::None,
            drain_ms: 1000,
            urc_prefixes: vec![],
            limits: Limits::default(),
            drain_first: false,
        }
        .to_value();
        if let Value::Tuple(items) = &mut open {
            items[6] = Value::Tuple(vec![Value::Int(0); 5]);
        }
        let err = Request::decode(&etf::encode(&open)).unwrap_err();
        assert!(err.0.contains("positive integers"), "{err}");
        // An event whose parsed lines do not match its reply.
        let lying = Value::Tuple(vec![
            Value::Atom("response"),
            Value::Int(1),
            Reply::Ok {
                lines: vec!["+CSQ: 1,2".into()],
            }
            .to_value(),
            Value::List(vec![]),
        ]);
        assert!(Event::decode(&etf::encode(&lying)).is_err());
    }

    #[test]
    fn the_atom_table_is_sorted_and_covers_every_event_and_request() {
        assert!(
            ATOMS.windows(2).all(|w| w[0] < w[1]),
            "ATOMS must be sorted, once each"
        );
        assert!(!ATOMS.iter().any(|a| ["true", "false", "nil"].contains(a)));
        let mut atoms = Vec::new();
        for event in all_events() {
            event.to_value().atoms(&mut atoms);
        }
        for reply in [
            Reply::Prompt,
            Reply::Error,
            Reply::NoCarrier,
            Reply::Busy,
            Reply::NoAnswer,
            Reply::NoDialtone,
            Reply::Timeout,
            Reply::Closed,
            Reply::CmsError { text: "x".into() },
            Reply::Connect { rate: None },
        ] {
            reply.to_value().atoms(&mut atoms);
        }
        for level in [Level::Error, Level::Warning, Level::Info, Level::Debug] {
            atoms.push(level.name());
        }
        for request in all_requests() {
            request.to_value().atoms(&mut atoms);
        }
        atoms.extend(at::PARSE_ERROR_REASONS);
        atoms.extend(at::STATS);
        atoms.extend(at::ACTS);
        for atom in atoms {
            assert!(
                ATOMS.binary_search(&atom).is_ok(),
                "{atom} is missing from ATOMS"
            );
        }
    }

    #[test]
    fn urcs_and_response_lines_travel_parsed_beside_the_raw_line() {
        let urc = Event::Urc {
            line: "+CREG: 1,\"1A2B\",\"01C3D04\",7".into(),
        };
        let Value::Tuple(items) = urc.to_value() else {
            panic!()
        };
        assert_eq!(
            items[1],
            Value::Str("+CREG: 1,\"1A2B\",\"01C3D04\",7".into())
        );
        assert_eq!(items[2], at::parse_term(b"+CREG: 1,\"1A2B\",\"01C3D04\",7"));
        let Value::Tuple(ok) = &items[2] else {
            panic!()
        };
        assert_eq!(ok[0], Value::Atom("ok"));
        let bad = Event::Urc {
            line: "+CSQ: x".into(),
        }
        .to_value();
        assert_eq!(
            bad,
            Value::Tuple(vec![
                Value::Atom("urc"),
                "+CSQ: x".into(),
                at::parse_term(b"+CSQ: x"),
            ])
        );
        let response = Event::Response {
            id: 2,
            reply: Reply::Ok {
                lines: vec!["+CSQ: 17,99".into(), "Quectel".into()],
            },
        };
        let Value::Tuple(items) = response.to_value() else {
            panic!()
        };
        assert_eq!(
            items[3],
            Value::List(vec![
                at::parse_term(b"+CSQ: 17,99"),
                at::parse_term(b"Quectel")
            ])
        );
        let Value::Tuple(items) = (Event::Response {
            id: 3,
            reply: Reply::Timeout,
        })
        .to_value() else {
            panic!()
        };
        assert_eq!(items[3], Value::List(vec![]));
        // And a frame decodes through the same atom table ATPort uses.
        let frame = response.encode().unwrap();
        assert_eq!(etf::decode(&frame, ATOMS).unwrap(), response.to_value());
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
                ]),
                Value::List(vec![])
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
