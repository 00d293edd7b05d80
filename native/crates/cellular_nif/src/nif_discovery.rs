//! `VintageNetCellular.Discovery` and `VintageNetCellular.Operators` natives.
//! Sysfs reads run on a dirty I/O scheduler; the operator lookup is a binary
//! search in a static table and runs on a normal scheduler.

use crate::convert;
use cellular_core::discovery::{self, Interface, Role, RoleOverride, UsbDevice};
use cellular_core::{operators, Value};
use rustler::sys::ErlNifTerm;
use rustler::types::atom;
use rustler::{Binary, Encoder, Env, Term};
use std::path::Path;

rustler::atoms! {
    usb_path,
    vendor_id,
    product_id,
    manufacturer,
    product,
    serial,
    interfaces,
    at_tty,
    ppp_tty,
    port_table,
    plugin,
    model,
    number,
    class,
    subclass,
    protocol,
    driver,
    role,
    ttys,
    net,
    at_primary,
    at_secondary,
    ppp,
    gps,
    qcdm,
    audio,
    qmi,
    ignore,
}

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
    let devices = discovery::scan_devices(Path::new(&sysfs_root), &overrides);
    encode_devices(env, &devices)
}

// The scan's result is the largest term any NIF returns (a 200-device bus is
// some 1,200 maps), so it is built straight from the structs rather than
// through a `Value` tree, without allocating and freeing the tree's thousands
// of nodes and strings. This is the one definition of its shape:
//
//   %{usb_path, vendor_id, product_id, manufacturer, product, serial,
//     interfaces: [%{number, class, subclass, protocol, driver, role, ttys, net}],
//     at_tty, ppp_tty, port_table: %{plugin, model} | nil}
//
// with `role` an atom (`:at_primary`, ...) or nil. test/vintage_net_cellular/
// discovery_test.exs pins the keys.

fn encode_devices<'a>(env: Env<'a>, devices: &[UsbDevice]) -> Term<'a> {
    let terms: Vec<ErlNifTerm> = devices
        .iter()
        .map(|d| encode_device(env, d).as_c_arg())
        .collect();
    make_list(env, &terms)
}

fn encode_device<'a>(env: Env<'a>, d: &UsbDevice) -> Term<'a> {
    let nil = atom::nil().encode(env);
    let port_table_term = d.port_table.map_or(nil, |t| {
        let keys = [plugin().as_c_arg(), model().as_c_arg()];
        let values = [
            t.plugin().encode(env).as_c_arg(),
            t.model().encode(env).as_c_arg(),
        ];
        convert::make_map(env, &keys, &values)
    });
    let ifaces: Vec<ErlNifTerm> = d
        .interfaces
        .iter()
        .map(|i| encode_interface(env, i).as_c_arg())
        .collect();
    let keys = [
        usb_path(),
        vendor_id(),
        product_id(),
        manufacturer(),
        product(),
        serial(),
        interfaces(),
        at_tty(),
        ppp_tty(),
        port_table(),
    ]
    .map(|k| k.as_c_arg());
    let values = [
        d.usb_path.encode(env),
        i64::from(d.vendor_id).encode(env),
        i64::from(d.product_id).encode(env),
        opt_str(env, &d.manufacturer),
        opt_str(env, &d.product),
        opt_str(env, &d.serial),
        make_list(env, &ifaces),
        opt_str(env, &d.at_tty),
        opt_str(env, &d.ppp_tty),
        port_table_term,
    ]
    .map(|v| v.as_c_arg());
    convert::make_map(env, &keys, &values)
}

fn encode_interface<'a>(env: Env<'a>, i: &Interface) -> Term<'a> {
    let nil = atom::nil().encode(env);
    let opt_int = |v: Option<u8>| v.map_or(nil, |v| i64::from(v).encode(env));
    let keys = [
        number(),
        class(),
        subclass(),
        protocol(),
        driver(),
        role(),
        ttys(),
        net(),
    ]
    .map(|k| k.as_c_arg());
    let values = [
        i64::from(i.number).encode(env),
        i64::from(i.class).encode(env),
        opt_int(i.subclass),
        opt_int(i.protocol),
        opt_str(env, &i.driver),
        i.role.map_or(nil, |r| role_atom(r).encode(env)),
        str_list(env, &i.ttys),
        str_list(env, &i.net),
    ]
    .map(|v| v.as_c_arg());
    convert::make_map(env, &keys, &values)
}

fn role_atom(r: Role) -> rustler::Atom {
    match r {
        Role::AtPrimary => at_primary(),
        Role::AtSecondary => at_secondary(),
        Role::Ppp => ppp(),
        Role::Gps => gps(),
        Role::Qcdm => qcdm(),
        Role::Audio => audio(),
        Role::Qmi => qmi(),
        Role::Ignore => ignore(),
    }
}

fn opt_str<'a>(env: Env<'a>, s: &Option<String>) -> Term<'a> {
    match s {
        Some(s) => s.encode(env),
        None => atom::nil().encode(env),
    }
}

fn str_list<'a>(env: Env<'a>, items: &[String]) -> Term<'a> {
    let terms: Vec<ErlNifTerm> = items.iter().map(|s| s.encode(env).as_c_arg()).collect();
    make_list(env, &terms)
}

fn make_list<'a>(env: Env<'a>, items: &[ErlNifTerm]) -> Term<'a> {
    // SAFETY: every term in `items` was made in `env`.
    unsafe {
        Term::new(
            env,
            rustler::sys::enif_make_list_from_array(
                env.as_c_arg(),
                items.as_ptr(),
                items.len() as u32,
            ),
        )
    }
}

/// Host controllers, device-mode controllers and registered USB drivers under `sysfs_root`.
/// The vendor ids of the generated port table, sorted.
#[rustler::nif]
fn discovery_table_vendors() -> Vec<u16> {
    discovery::table::vendors()
}

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
