#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::api_key_file`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::api_key_file(data));
