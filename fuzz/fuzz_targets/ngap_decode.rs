//! An SCTP payload on N2: decode as NGAP; if accepted, encode and decode again, and compare.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::ngap_round_trip(data));
