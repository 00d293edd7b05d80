//! PLACEHOLDER: the streaming AT line engine. To be replaced by the engine work.
