//! libFuzzer entry of the `discovery` target; the body is `cellular_fuzz::discovery`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::discovery(data));
