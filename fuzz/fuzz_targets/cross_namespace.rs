#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::cross_namespace`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::cross_namespace(data));
