//! An EAP packet from an IKE_AUTH EAP payload: parse as EAP-5G; if accepted, emit and parse
//! again, and compare.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::eap5g_round_trip(data));
