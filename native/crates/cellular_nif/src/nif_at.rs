//! `VintageNetCellular.AT` natives.

use crate::convert;
use cellular_core::at;
use rustler::types::tuple::make_tuple;
use rustler::{Binary, Env, Term};

/// Parses one AT response or URC line: `{:ok, {kind, map}}` or `{:error, {reason, detail}}`.
#[rustler::nif]
fn at_parse<'a>(env: Env<'a>, line: Binary<'a>) -> Term<'a> {
    match at::parse(line.as_slice()) {
        Ok((kind, fields)) => {
            let pair = make_tuple(
                env,
                &[
                    convert::encode(env, &cellular_core::Value::Atom(kind)),
                    convert::encode(env, &fields),
                ],
            );
            convert::ok(env, pair)
        }
        Err(e) => convert::error(env, e.reason, &e.detail),
    }
}
