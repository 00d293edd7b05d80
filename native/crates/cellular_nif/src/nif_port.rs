//! `VintageNetCellular.ATPort` natives: the port program's wire protocol.
//!
//! Frames are MessagePack of `cellular_core::protocol` types, decoded and
//! encoded here so Elixir only ever sees terms. All three calls are short and
//! run on normal schedulers.

use crate::convert;
use cellular_core::engine::redact::redact;
use cellular_core::protocol::{Event, FlowControl, Limits, Request};
use rustler::types::tuple::get_tuple;
use rustler::{Atom, Binary, Env, Error, NewBinary, NifResult, Term};

rustler::atoms! {
    open,
    command,
    raw,
    close,
    none,
    hardware,
    bad_request_atom = "bad_request",
}

/// Decodes an event frame from `cellular_port` into
/// `{:ok, event}` (see `cellular_core::protocol::Event::to_value`) or
/// `{:error, {:bad_frame, detail}}`.
#[rustler::nif]
fn port_decode<'a>(env: Env<'a>, frame: Binary<'a>) -> Term<'a> {
    match Event::decode(frame.as_slice()) {
        Ok(event) => convert::ok(env, convert::encode(env, &event.to_value())),
        Err(e) => convert::error(env, "bad_frame", &e.0),
    }
}

/// Encodes a request for `cellular_port` as a frame body:
///
/// * `{:open, path, speed, :none | :hardware, drain_ms, urc_prefixes, limits, drain_first}`,
///   `limits` being `{max_response_lines, max_response_bytes, max_queue, urc_burst,
///   urc_per_second}` (see `cellular_core::protocol::Limits`)
/// * `{:command, id, text, timeout_ms}` and `{:raw, id, text, timeout_ms}`
/// * `:close`
///
/// Anything else raises `{:bad_request, detail}`.
#[rustler::nif]
fn port_encode<'a>(env: Env<'a>, request: Term<'a>) -> NifResult<Binary<'a>> {
    let request = decode_request(request).map_err(bad_request)?;
    let body = request.encode().map_err(|e| bad_request(e.0))?;
    let mut binary = NewBinary::new(env, body.len());
    binary.as_mut_slice().copy_from_slice(&body);
    Ok(binary.into())
}

/// The command with the arguments of secret commands (PIN, passwords)
/// replaced by `<redacted>`; the same table the port program uses.
#[rustler::nif]
fn port_redact(text: Binary) -> String {
    let text = String::from_utf8_lossy(text.as_slice());
    redact(&text).into_owned()
}

fn bad_request(detail: String) -> Error {
    Error::RaiseTerm(Box::new((bad_request_atom(), detail)))
}

fn decode_request(term: Term) -> Result<Request, String> {
    if let Ok(atom) = term.decode::<Atom>() {
        return if atom == close() {
            Ok(Request::Close)
        } else {
            Err("expected :close, {:open, ...}, {:command, ...} or {:raw, ...}".into())
        };
    }
    let items = get_tuple(term).map_err(|_| "a request must be an atom or a tuple".to_string())?;
    let tag = items
        .first()
        .and_then(|t| t.decode::<Atom>().ok())
        .ok_or("a request tuple must start with an atom")?;
    if tag == open() {
        let [_, path, speed, flow, drain_ms, prefixes, limits, drain_first] = items.as_slice()
        else {
            return Err(
                "{:open, path, speed, flow_control, drain_ms, urc_prefixes, limits, drain_first}"
                    .into(),
            );
        };
        let limits = decode_limits(limits)?;
        let flow = flow.decode::<Atom>().ok();
        let flow_control = if flow == Some(none()) {
            FlowControl::None
        } else if flow == Some(hardware()) {
            FlowControl::Hardware
        } else {
            return Err("flow_control must be :none or :hardware".into());
        };
        Ok(Request::Open {
            path: field(path, "path")?,
            speed: field(speed, "speed")?,
            flow_control,
            drain_ms: field(drain_ms, "drain_ms")?,
            urc_prefixes: field(prefixes, "urc_prefixes")?,
            limits,
            drain_first: field(drain_first, "drain_first")?,
        })
    } else if tag == command() || tag == raw() {
        let [_, id, text, timeout_ms] = items.as_slice() else {
            return Err("{:command | :raw, id, text, timeout_ms}".into());
        };
        let (id, text, timeout_ms) = (
            field(id, "id")?,
            field(text, "text")?,
            field(timeout_ms, "timeout_ms")?,
        );
        Ok(if tag == command() {
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
    } else {
        Err("unknown request tag".into())
    }
}

fn decode_limits(term: &Term) -> Result<Limits, String> {
    const SHAPE: &str =
        "limits must be {max_response_lines, max_response_bytes, max_queue, urc_burst, urc_per_second}, positive integers";
    let items = get_tuple(*term).map_err(|_| SHAPE.to_string())?;
    let [lines, bytes, queue, burst, rate] = items.as_slice() else {
        return Err(SHAPE.into());
    };
    let positive = |t: &Term, name: &str| -> Result<u32, String> {
        match field::<u32>(t, name)? {
            0 => Err(SHAPE.into()),
            n => Ok(n),
        }
    };
    Ok(Limits {
        max_response_lines: positive(lines, "max_response_lines")?,
        max_response_bytes: positive(bytes, "max_response_bytes")?,
        max_queue: positive(queue, "max_queue")?,
        urc_burst: positive(burst, "urc_burst")?,
        urc_per_second: positive(rate, "urc_per_second")?,
    })
}

fn field<'a, T: rustler::Decoder<'a>>(term: &Term<'a>, name: &str) -> Result<T, String> {
    term.decode::<T>()
        .map_err(|_| format!("{name} has the wrong type"))
}
