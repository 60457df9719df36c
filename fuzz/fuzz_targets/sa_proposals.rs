//! An SA payload body (proposals, transforms, attributes), round-tripped; accepted proposals
//! are also read back through the accessors the engine uses.
#![no_main]

use ikev2::wire::{Payload, PayloadType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(Payload::Sa(proposals)) = ikev2_fuzz::body_round_trip(PayloadType::SA, data) {
        for transform in proposals.iter().flat_map(|p| &p.transforms) {
            let _ = transform.key_length();
            let _ = transform.transform_type.is_key_exchange();
        }
    }
});
