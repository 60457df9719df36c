//! ETSI GS QKD 014 answers a KME sends to the client: Status, Key container and Error bodies.
//! Parsing never panics, and an accepted key container encodes and parses back to the same
//! keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qkd_client::api::{ErrorBody, KeyContainer, Status};

fuzz_target!(|data: &[u8]| {
    if let Ok(status) = Status::from_json(data) {
        let text = serde_json::to_vec(&status).expect("a parsed status encodes");
        assert_eq!(
            Status::from_json(&text).ok(),
            Some(status),
            "status round trip"
        );
    }
    if let Ok(container) = KeyContainer::from_json(data) {
        let again =
            KeyContainer::from_json(&container.to_json()).expect("an encoded container parses");
        assert_eq!(
            again.keys.len(),
            container.keys.len(),
            "container round trip"
        );
        for (a, b) in again.keys.iter().zip(&container.keys) {
            assert_eq!(a.key_id(), b.key_id(), "key ID round trip");
            assert!(a.dangerous_key() == b.dangerous_key(), "key round trip");
            assert_eq!(
                a.key_id_extension(),
                b.key_id_extension(),
                "extension round trip"
            );
        }
    }
    let _ = serde_json::from_slice::<ErrorBody>(data);
});
