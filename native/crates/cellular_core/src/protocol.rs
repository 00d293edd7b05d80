//! PLACEHOLDER: the port program's wire protocol. To be replaced by the port work.
