//! `cellular_sim`: a realistic USB cellular modem on pseudo-terminals.
//!
//! The binary opens two ptys (the "at" and "ppp" interfaces of one modem),
//! prints their paths as a JSON `ready` line on stdout, and answers AT
//! commands behind them the way the chosen model (EC25, BG96, SIM7600, ...)
//! does. A scenario file and control commands on stdin drive time and faults.
//! See README.md in this crate for the command line and the languages.
//!
//! Layout:
//! - [`modem`]: the pure state machine (no I/O, explicit time), with
//!   [`profile`] holding each model's differences as data;
//! - [`at`]: AT command-line lexing; [`control`]: the control/scenario
//!   language; [`config`]: the command line;
//! - [`runtime`] and [`pty`]: the tokio shell that moves bytes between ptys
//!   and the modem; [`fragment`]: how output is split into writes;
//! - [`json`]: the stdout events; [`rng`]: the seeded generator;
//! - [`mux`]: the single serial line (`--uart`) and its 27.010 multiplexer.

// Unsafe code here is limited to FFI and fd handling; each block states why it is sound.
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

pub mod at;
pub mod config;
pub mod control;
pub mod fragment;
pub mod json;
pub mod modem;
pub mod mux;
pub mod profile;
pub mod pty;
pub mod rng;
pub mod runtime;
