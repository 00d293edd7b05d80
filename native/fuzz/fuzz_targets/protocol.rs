//! libFuzzer entry of the `protocol` target; the body is `cellular_fuzz::protocol`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::protocol(data));
