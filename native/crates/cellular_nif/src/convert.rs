//! `Value` → term encoding, shared by every NIF.

use cellular_core::Value;
use rustler::types::atom;
use rustler::types::tuple::make_tuple;
use rustler::{Atom, Encoder, Env, Term};

/// Encodes a core value tree as an Erlang term.
pub fn encode<'a>(env: Env<'a>, value: &Value) -> Term<'a> {
    match value {
        Value::Nil => atom::nil().encode(env),
        Value::Bool(b) => b.encode(env),
        Value::Int(i) => i.encode(env),
        Value::Str(s) => s.encode(env),
        Value::Atom(name) => encode_atom(env, name),
        Value::List(items) => items
            .iter()
            .map(|item| encode(env, item))
            .collect::<Vec<Term<'a>>>()
            .encode(env),
        Value::Tuple(items) => {
            let terms: Vec<Term<'a>> = items.iter().map(|item| encode(env, item)).collect();
            make_tuple(env, &terms)
        }
        Value::Map(fields) => {
            let keys: Vec<Term<'a>> = fields.iter().map(|(k, _)| encode_atom(env, k)).collect();
            let values: Vec<Term<'a>> = fields.iter().map(|(_, v)| encode(env, v)).collect();
            // Only fails on duplicate keys, which the core never produces;
            // fall back to an empty map rather than raise.
            Term::map_from_term_arrays(env, &keys, &values)
                .unwrap_or_else(|_| rustler::types::map::map_new(env))
        }
    }
}

/// `{:ok, term}`
pub fn ok<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    make_tuple(env, &[atom::ok().encode(env), term])
}

/// `{:error, {reason, detail}}`
pub fn error<'a>(env: Env<'a>, reason: &str, detail: &str) -> Term<'a> {
    let inner = make_tuple(env, &[encode_atom(env, reason), detail.encode(env)]);
    make_tuple(env, &[atom::error().encode(env), inner])
}

fn encode_atom<'a>(env: Env<'a>, name: &str) -> Term<'a> {
    // Atom names come from `&'static str`s in the core, never from input.
    Atom::from_str(env, name)
        .map(|a| a.encode(env))
        .unwrap_or_else(|_| atom::nil().encode(env))
}
