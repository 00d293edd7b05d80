//! libFuzzer entry of the `at` target; the body is `cellular_fuzz::at`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::at(data));
