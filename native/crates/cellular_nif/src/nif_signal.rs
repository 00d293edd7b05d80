//! `VintageNetCellular.Signal` natives.

use crate::convert;
use cellular_core::signal;
use rustler::{Env, Term};

#[rustler::nif]
fn signal_from_gsm_asu(env: Env<'_>, asu: i64) -> Term<'_> {
    convert::encode(env, &signal::from_gsm_asu(asu).to_value())
}

#[rustler::nif]
fn signal_from_lte_rssi(env: Env<'_>, dbm: i64) -> Term<'_> {
    convert::encode(env, &signal::from_lte_rssi(dbm).to_value())
}
