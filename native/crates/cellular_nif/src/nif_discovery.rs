//! `VintageNetCellular.Discovery` and `VintageNetCellular.Operators` natives.
//! Sysfs reads run on a dirty I/O scheduler; the operator lookup is a binary
//! search in a static table and runs on a normal scheduler.

use crate::convert;
use cellular_core::discovery::{self, RoleOverride};
use cellular_core::{operators, Value};
use rustler::{Binary, Env, Term};
use std::path::Path;

/// Scans `sysfs_root`. `overrides` is a list of `{vendor_id, product_id, interface, role}`.
#[rustler::nif(schedule = "DirtyIo")]
fn discovery_scan<'a>(
    env: Env<'a>,
    sysfs_root: String,
    overrides: Vec<(u16, u16, u8, String)>,
) -> Term<'a> {
    let overrides: Vec<RoleOverride> = overrides
        .into_iter()
        .map(|(vendor_id, product_id, interface, role)| RoleOverride {
            vendor_id,
            product_id,
            interface,
            role,
        })
        .collect();
    let devices = discovery::scan(Path::new(&sysfs_root), &overrides);
    convert::encode(env, &Value::List(devices))
}

/// Host controllers, device-mode controllers and registered USB drivers under `sysfs_root`.
#[rustler::nif(schedule = "DirtyIo")]
fn discovery_usb_system<'a>(env: Env<'a>, sysfs_root: String) -> Term<'a> {
    let system = discovery::usb_system(Path::new(&sysfs_root));
    convert::encode(env, &system.to_value())
}

/// The operator row for `mcc`/`mnc`, or nil. Non-UTF-8 input is simply unknown.
#[rustler::nif]
fn operator_lookup<'a>(env: Env<'a>, mcc: Binary<'a>, mnc: Binary<'a>) -> Term<'a> {
    let found = match (
        std::str::from_utf8(mcc.as_slice()),
        std::str::from_utf8(mnc.as_slice()),
    ) {
        (Ok(mcc), Ok(mnc)) => operators::lookup(mcc, mnc),
        _ => None,
    };
    convert::encode(env, &found.map_or(Value::Nil, |op| op.to_value()))
}
