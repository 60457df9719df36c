//! A UDP payload on port 2152: parse as GTP-U (header, extension header chain, IEs); if
//! accepted, write the same message and parse again, and compare.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::userplane::gtpu_round_trip(data));
