//! A whole datagram: parse; if accepted, emit and parse again, and compare.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::message_round_trip(data));
