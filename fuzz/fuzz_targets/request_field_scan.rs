#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::request_field_scan`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::request_field_scan(data));
