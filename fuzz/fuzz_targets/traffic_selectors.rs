//! A TS payload body (count and selectors), round-tripped as both TSi and TSr.
#![no_main]

use ikev2::wire::PayloadType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tsi = ikev2_fuzz::body_round_trip(PayloadType::TSI, data);
    let tsr = ikev2_fuzz::body_round_trip(PayloadType::TSR, data);
    assert_eq!(
        tsi.is_some(),
        tsr.is_some(),
        "TSi and TSr bodies parse alike"
    );
});
