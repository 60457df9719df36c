//! RFC 7634 (ChaCha20-Poly1305 for IKEv2 and ESP) against strongSwan 6, each direction, with
//! X25519 + ML-KEM-768. strongSwan must show CHACHA20_POLY1305 for the IKE SA and the ESP
//! Child SA. Needs root and the lab.

use interop::{Pair, Spec};

#[test]
fn chacha20poly1305_ike_and_esp() {
    let spec = Spec::new(
        "chacha",
        "chacha20poly1305-prfsha256-x25519-ke1_mlkem768",
        "chacha20poly1305",
    );
    let Some(pair) = Pair::start("rfc7634_chacha20::chacha20poly1305_ike_and_esp", spec) else {
        return;
    };
    pair.both_directions(
        "CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519/KE1_ML_KEM_768",
        "CHACHA20_POLY1305",
        |_, _, _, _| {},
    );
}
