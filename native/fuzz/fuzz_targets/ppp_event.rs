//! libFuzzer entry of the `ppp_event` target; the body is `cellular_fuzz::ppp_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cellular_fuzz::ppp_event(data));
