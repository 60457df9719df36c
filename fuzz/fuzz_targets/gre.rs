//! The payload of an IP packet with protocol 47 from an NWu Child SA: parse as GRE (with and
//! without checksum verification); if accepted with a key, write the NWu header and parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::userplane::gre_round_trip(data));
