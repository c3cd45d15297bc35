#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::token`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::token(data));
