//! Log lines for Elixir's Logger, sent as [`Event::Log`] frames.
//!
//! The most verbose level sent comes from the `CELLULAR_PORT_LOG` environment
//! variable (`error`, `warning`, `info` or `debug`; default `info`), which
//! `ATPort` sets from Logger's level; [`init`] reads it. Until then nothing is
//! sent (so unit tests, which never call it, write no frames). A line is the
//! message, then `key=value` for each field, as the `log_*!` macros' callers
//! write them; the target is the module (`cellular_port::session`).
//!
//! This replaced a `tracing` subscriber: the same frames, without the crate's
//! per-call-site metadata and dispatch (~20 KB of the program).

use crate::output;
use cellular_core::protocol::{Event, Level};
use std::sync::atomic::{AtomicU8, Ordering};

/// The most verbose level sent, as [`rank`]; 0 sends nothing.
static MAX: AtomicU8 = AtomicU8::new(0);

fn rank(level: Level) -> u8 {
    match level {
        Level::Error => 1,
        Level::Warning => 2,
        Level::Info => 3,
        Level::Debug => 4,
    }
}

/// Sets the level from `CELLULAR_PORT_LOG`.
pub fn init() {
    MAX.store(rank(level_from_env()), Ordering::Relaxed);
}

/// The level named by `CELLULAR_PORT_LOG`.
pub fn level_from_env() -> Level {
    match std::env::var("CELLULAR_PORT_LOG").as_deref() {
        Ok("error") => Level::Error,
        Ok("warning" | "warn") => Level::Warning,
        Ok("debug") => Level::Debug,
        _ => Level::Info,
    }
}

/// Whether lines of `level` are sent.
pub fn enabled(level: Level) -> bool {
    rank(level) <= MAX.load(Ordering::Relaxed)
}

/// Sends one line.
pub fn emit(level: Level, target: &str, message: String) {
    output::emit(&Event::Log {
        level,
        target: target.to_owned(),
        message,
    });
}

/// `log_at!(Level::Warning, "format", args...)`: formats and sends the line
/// only when the level is enabled.
macro_rules! log_at {
    ($level:expr, $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, module_path!(), format!($($arg)+));
        }
    };
}

macro_rules! log_error {
    ($($arg:tt)+) => { log_at!(cellular_core::protocol::Level::Error, $($arg)+) };
}

macro_rules! log_warn {
    ($($arg:tt)+) => { log_at!(cellular_core::protocol::Level::Warning, $($arg)+) };
}

macro_rules! log_info {
    ($($arg:tt)+) => { log_at!(cellular_core::protocol::Level::Info, $($arg)+) };
}

macro_rules! log_debug {
    ($($arg:tt)+) => { log_at!(cellular_core::protocol::Level::Debug, $($arg)+) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_nest() {
        MAX.store(rank(Level::Info), Ordering::Relaxed);
        assert!(enabled(Level::Error) && enabled(Level::Warning) && enabled(Level::Info));
        assert!(!enabled(Level::Debug));
        MAX.store(0, Ordering::Relaxed);
        assert!(!enabled(Level::Error));
    }
}
