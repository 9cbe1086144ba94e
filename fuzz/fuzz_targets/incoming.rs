#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spiffe_authz_fuzz::incoming_edge(data));
