//! libFuzzer entry of the `engine` target; the body is `cellular_fuzz::engine`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::engine(data));
