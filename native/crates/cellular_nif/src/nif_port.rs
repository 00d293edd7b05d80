//! `VintageNetCellular.ATPort.redact/1`: the port program's redaction table,
//! for users and logs in the BEAM.
//!
//! The port program's frames need no NIF: they are the Erlang external term
//! format (`cellular_core::etf`), written and read by the BEAM itself.

use cellular_core::engine::redact::redact;
use rustler::Binary;

/// The command with the arguments of secret commands (PIN, passwords)
/// replaced by `<redacted>`; the same table the port program uses.
#[rustler::nif]
fn port_redact(text: Binary) -> String {
    let text = String::from_utf8_lossy(text.as_slice());
    redact(&text).into_owned()
}
