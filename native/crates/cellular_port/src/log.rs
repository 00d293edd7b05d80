//! A tiny `tracing` subscriber that forwards events to Elixir's Logger as
//! [`Event::Log`] frames. Spans are accepted and ignored.
//!
//! The most verbose level sent comes from the `CELLULAR_PORT_LOG` environment
//! variable (`error`, `warning`, `info` or `debug`; default `info`), which
//! `ATPort` sets from Logger's level. Field values other than the message are
//! appended as `key=value`.

use crate::output;
use cellular_core::protocol::{Event, Level};
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};

/// The bridge.
pub struct LoggerBridge {
    max: Level,
}

impl LoggerBridge {
    /// A bridge passing events up to `max` (`Debug` passes all but trace).
    pub fn new(max: Level) -> LoggerBridge {
        LoggerBridge { max }
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
}

/// The protocol level of a tracing level; TRACE is not forwarded.
pub fn level_of(level: &tracing::Level) -> Option<Level> {
    match *level {
        tracing::Level::ERROR => Some(Level::Error),
        tracing::Level::WARN => Some(Level::Warning),
        tracing::Level::INFO => Some(Level::Info),
        tracing::Level::DEBUG => Some(Level::Debug),
        _ => None,
    }
}

impl Subscriber for LoggerBridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_of(metadata.level()).is_some_and(|l| l <= self.max)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(match self.max {
            Level::Error => tracing::level_filters::LevelFilter::ERROR,
            Level::Warning => tracing::level_filters::LevelFilter::WARN,
            Level::Info => tracing::level_filters::LevelFilter::INFO,
            Level::Debug => tracing::level_filters::LevelFilter::DEBUG,
        })
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let Some(level) = level_of(event.metadata().level()) else {
            return;
        };
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        output::emit(&Event::Log {
            level,
            target: event.metadata().target().to_owned(),
            message: visitor.finish(),
        });
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Collects an event's message and fields into one line.
#[derive(Default)]
pub struct MessageVisitor {
    message: String,
    fields: String,
}

impl MessageVisitor {
    /// `message key=value key=value`
    pub fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.push_field(field, format_args!("{value}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.push_field(field, format_args!("{value:?}"));
        }
    }
}

impl MessageVisitor {
    fn push_field(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{}={}", field.name(), value);
    }
}
