#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mlgate::fuzz::tuf_meta(data));
