#![no_main]
//! Fuzz target: see `tonic_authz_fuzz::frame_reader`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tonic_authz_fuzz::frame_reader(data));
