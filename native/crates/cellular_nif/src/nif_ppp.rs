//! `VintageNetCellular.PPP.Notifier` natives: decoding the datagrams that
//! `cellular_port` (as notifier) sends when pppd runs its ip-up / ip-down scripts.

use crate::convert;
use cellular_core::ppp_event::PppEvent;
use rustler::{Binary, Env, Term};

/// Decodes one notifier datagram: `{:ok, map}` or `{:error, {reason, detail}}`
/// with `reason` one of `:empty`, `:too_large`, `:format`, `:malformed`.
#[rustler::nif]
fn ppp_event_decode<'a>(env: Env<'a>, datagram: Binary<'a>) -> Term<'a> {
    match PppEvent::decode(datagram.as_slice()) {
        Ok(event) => convert::ok(env, convert::encode(env, &event.to_value())),
        Err(e) => convert::error(env, e.reason, &e.detail),
    }
}
