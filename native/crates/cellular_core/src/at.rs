//! PLACEHOLDER: AT response parsing. To be replaced by the parser work.
use crate::Value;

/// Why a line could not be parsed. `reason` becomes an atom in Elixir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub reason: &'static str,
    pub detail: String,
}

/// Parses one information-response or URC line into `(kind, fields)`.
pub fn parse(_line: &[u8]) -> Result<(&'static str, Value), ParseError> {
    Err(ParseError {
        reason: "unimplemented",
        detail: String::new(),
    })
}
