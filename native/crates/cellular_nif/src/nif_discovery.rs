//! `VintageNetCellular.Discovery` natives. Sysfs reads run on a dirty I/O scheduler.

use crate::convert;
use cellular_core::discovery::{self, RoleOverride};
use cellular_core::Value;
use rustler::{Env, Term};
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
