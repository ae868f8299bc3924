#![no_main]
#[path = "../csv_reference.rs"]
mod csv_reference;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mlgate::fuzz::csv_differential(data, csv_reference::csv_crate_records)
});
