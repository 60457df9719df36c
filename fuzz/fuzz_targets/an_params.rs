//! The AN-parameters field of EAP-Response/5G-NAS: parse; if accepted, emit and parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::an_params_round_trip(data));
