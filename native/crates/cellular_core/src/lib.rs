//! The pure logic of vintage_net_cellular.
//!
//! Nothing here knows about the BEAM: the NIF shim (`cellular_nif`), the port
//! program (`cellular_port`), the simulator (`cellular_sim`) and the notifier
//! (`cellular_notify`) are thin layers over these modules.
//!
//! Data flows one way: tty bytes → [`engine`] → typed events ([`protocol`],
//! each line parsed once by [`at`], in the Erlang term format of [`etf`]) →
//! Elixir. Parsed values leave this crate as [`value::Value`] trees, which the
//! NIF shim turns into Erlang terms without knowing what they mean.

#![forbid(unsafe_code)]

pub mod at;
pub mod cmux;
pub mod discovery;
pub mod engine;
pub mod etf;
pub mod operators;
pub mod ppp_event;
pub mod protocol;
pub mod signal;
pub mod uevent;
pub mod value;

pub use value::Value;
