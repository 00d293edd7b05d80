//! libFuzzer entry of the `uevent` target; the body is `cellular_fuzz::uevent`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::uevent(data));
