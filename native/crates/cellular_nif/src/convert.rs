//! `Value` → term encoding, shared by every NIF.

use cellular_core::Value;
use rustler::sys::{enif_make_map_from_arrays, ErlNifTerm};
use rustler::types::atom;
use rustler::types::tuple::make_tuple;
use rustler::{Atom, Encoder, Env, Term};
use std::cell::RefCell;
use std::mem::MaybeUninit;

/// Encodes a core value tree as an Erlang term.
pub fn encode<'a>(env: Env<'a>, value: &Value) -> Term<'a> {
    match value {
        Value::Nil => atom::nil().encode(env),
        Value::Bool(b) => b.encode(env),
        Value::Int(i) => i.encode(env),
        Value::Str(s) => s.encode(env),
        Value::Atom(name) => encode_static_atom(env, name),
        Value::List(items) => items
            .iter()
            .map(|item| encode(env, item))
            .collect::<Vec<Term<'a>>>()
            .encode(env),
        Value::Tuple(items) => {
            let terms: Vec<Term<'a>> = items.iter().map(|item| encode(env, item)).collect();
            make_tuple(env, &terms)
        }
        Value::Map(fields) => encode_map(env, fields),
    }
}

/// Maps up to this size are built from arrays on the stack, not the heap.
const INLINE_MAP: usize = 32;

fn encode_map<'a>(env: Env<'a>, fields: &[(&'static str, Value)]) -> Term<'a> {
    if fields.len() > INLINE_MAP {
        let keys: Vec<Term<'a>> = fields
            .iter()
            .map(|(k, _)| encode_static_atom(env, k))
            .collect();
        let values: Vec<Term<'a>> = fields.iter().map(|(_, v)| encode(env, v)).collect();
        // Only fails on duplicate keys, which the core never produces;
        // fall back to an empty map rather than raise.
        return Term::map_from_term_arrays(env, &keys, &values)
            .unwrap_or_else(|_| rustler::types::map::map_new(env));
    }
    let mut keys = [ErlNifTerm::default(); INLINE_MAP];
    let mut values = [ErlNifTerm::default(); INLINE_MAP];
    for (i, (k, v)) in fields.iter().enumerate() {
        keys[i] = encode_static_atom(env, k).as_c_arg();
        values[i] = encode(env, v).as_c_arg();
    }
    let n = fields.len();
    make_map(env, &keys[..n], &values[..n])
}

/// A map from equally long arrays of keys and values made in `env` (an
/// empty map if they differ in length or repeat a key, which callers never
/// do: they pass fixed, distinct atom keys).
pub fn make_map<'a>(env: Env<'a>, keys: &[ErlNifTerm], values: &[ErlNifTerm]) -> Term<'a> {
    if keys.len() != values.len() {
        return rustler::types::map::map_new(env);
    }
    let mut map = MaybeUninit::uninit();
    // SAFETY: both arrays hold `keys.len()` terms made in `env`, and the VM
    // writes `map` only when it returns non-zero.
    unsafe {
        if enif_make_map_from_arrays(
            env.as_c_arg(),
            keys.as_ptr(),
            values.as_ptr(),
            keys.len(),
            map.as_mut_ptr(),
        ) == 0
        {
            // Only on duplicate keys, which the core never produces.
            return rustler::types::map::map_new(env);
        }
        Term::new(env, map.assume_init())
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

/// Slots of the atom cache below (a power of two).
const ATOM_SLOTS: usize = 1024;

thread_local! {
    /// Atoms already made, in a direct-mapped cache keyed by the address and
    /// length of their `&'static str` name. An atom term is valid in every env
    /// and is never garbage-collected, while making one takes the VM's
    /// atom-table lock and an allocation: caching them per scheduler thread
    /// makes encoding a map several times faster. A `&'static str` never moves
    /// or changes, so its address is a safe key; a slot taken by another name
    /// is simply overwritten.
    static ATOMS: RefCell<[(usize, usize, Option<Atom>); ATOM_SLOTS]> =
        const { RefCell::new([(0, 0, None); ATOM_SLOTS]) };
}

/// [`encode_atom`] for the `&'static str` names of core values, cached.
fn encode_static_atom<'a>(env: Env<'a>, name: &'static str) -> Term<'a> {
    let (ptr, len) = (name.as_ptr() as usize, name.len());
    let hash = (ptr as u64 ^ (len as u64).rotate_left(40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let slot = (hash >> 54) as usize % ATOM_SLOTS;
    ATOMS.with(|atoms| {
        let mut atoms = atoms.borrow_mut();
        match atoms[slot] {
            (p, l, Some(atom)) if p == ptr && l == len => atom.encode(env),
            _ => match Atom::from_str(env, name) {
                Ok(atom) => {
                    atoms[slot] = (ptr, len, Some(atom));
                    atom.encode(env)
                }
                Err(_) => atom::nil().encode(env),
            },
        }
    })
}
