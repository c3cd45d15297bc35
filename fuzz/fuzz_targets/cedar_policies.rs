#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::cedar_policies`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::cedar_policies(data));
