//! `VintageNetCellular.Signal` natives.

use crate::convert;
use cellular_core::signal;
use rustler::{Env, Term};

/// `%{asu, dbm, bars}` from a GSM ASU (`+CSQ` rssi).
#[rustler::nif]
fn signal_from_gsm_asu(env: Env<'_>, asu: i64) -> Term<'_> {
    convert::encode(env, &signal::from_gsm_asu(asu).to_value())
}

/// `%{asu, dbm, bars}` from an LTE RSSI in dBm.
#[rustler::nif]
fn signal_from_lte_rssi(env: Env<'_>, dbm: i64) -> Term<'_> {
    convert::encode(env, &signal::from_lte_rssi(dbm).to_value())
}

/// The LTE signal map from RSRP (dBm), RSRQ (dB) and SINR (dB); each may be nil.
#[rustler::nif]
fn signal_from_lte(
    env: Env<'_>,
    rsrp: Option<i64>,
    rsrq: Option<i64>,
    sinr: Option<i64>,
) -> Term<'_> {
    convert::encode(env, &signal::from_lte(rsrp, rsrq, sinr).to_value())
}

/// The LTE signal map from `+CESQ` raw `<rsrp>` and `<rsrq>` values.
#[rustler::nif]
fn signal_from_cesq(env: Env<'_>, rsrp_raw: i64, rsrq_raw: i64) -> Term<'_> {
    convert::encode(env, &signal::from_cesq(rsrp_raw, rsrq_raw).to_value())
}
