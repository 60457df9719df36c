//! A payload chain as found inside SK: the first octet is the first payload type, the rest is
//! the chain. Parse; if accepted, emit and parse again, and compare.
#![no_main]

use ikev2::wire::PayloadType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((first, chain)) = data.split_first() {
        ikev2_fuzz::chain_round_trip(PayloadType(*first), chain);
    }
});
