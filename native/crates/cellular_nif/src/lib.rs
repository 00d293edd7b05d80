//! The NIF shim behind `VintageNetCellular.Native`.
//!
//! Each `nif_*` module exposes one area of `cellular_core`. Nothing here
//! parses or decides anything: it decodes arguments, calls the core, and
//! encodes the core's [`cellular_core::Value`] trees as terms.
//!
//! Panics: the release profile unwinds and rustler turns a panic inside a NIF
//! into an Erlang exception, so none reaches the VM; the core is written not to
//! panic on any input in the first place. Calls that touch the filesystem run on
//! dirty I/O schedulers.

// Unsafe code here is limited to FFI and fd handling; each block states why it is sound.
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

mod convert;
mod nif_at;
mod nif_discovery;
mod nif_port;
mod nif_signal;

use rustler::{Env, Term};

/// The build id the Mix compiler passed to cargo: an MD5 of the Cargo
/// workspace's sources. `VintageNetCellular.Native` passes its own copy as load
/// info and the library refuses to load when they differ.
pub const BUILD_ID: &str = match option_env!("VINTAGE_NET_CELLULAR_BUILD_ID") {
    Some(id) => id,
    None => "unset",
};

/// Returns the build id compiled into this library.
#[rustler::nif]
fn build_id() -> &'static str {
    BUILD_ID
}

fn load(_env: Env, info: Term) -> bool {
    matches!(info.decode::<String>(), Ok(expected) if expected == BUILD_ID)
}

rustler::init!("Elixir.VintageNetCellular.Native", load = load);
