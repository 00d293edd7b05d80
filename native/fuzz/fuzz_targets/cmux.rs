//! libFuzzer entry of the `cmux` target; the body is `cellular_fuzz::cmux`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::cmux(data));
