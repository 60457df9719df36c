//! RFC 9370 (multiple key exchanges) against strongSwan 6: the additional key exchanges run in
//! IKE_INTERMEDIATE exchanges (RFC 9242), each direction.
//!
//! - X25519 + ML-KEM-768 (`ke1_mlkem768`): one IKE_INTERMEDIATE;
//! - ECP-384 + ML-KEM-768 + ML-KEM-1024 (`ke1_mlkem768-ke2_mlkem1024`): two.
//!
//! strongSwan's `swanctl --list-sas` must show every key exchange, in order, and our
//! `ikectl list-sas` the number of IKE_INTERMEDIATE exchanges. Needs root and the lab.

use interop::{Pair, Spec};

#[test]
fn x25519_plus_mlkem768() {
    let spec = Spec::new(
        "addke1",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    let Some(pair) = Pair::start("rfc9370_addke::x25519_plus_mlkem768", spec) else {
        return;
    };
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |_, _, ours, peer| {
            assert_eq!(
                peer.algorithms.key_exchanges(),
                ["CURVE_25519", "ML_KEM_768"]
            );
            assert_eq!(ours.intermediate_exchanges, 1, "{ours:#?}");
        },
    );
}

#[test]
fn ecp384_plus_mlkem768_plus_mlkem1024() {
    let spec = Spec::new(
        "addke2",
        "aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke2_mlkem1024",
        "aes256gcm16",
    );
    let Some(pair) = Pair::start("rfc9370_addke::ecp384_plus_mlkem768_plus_mlkem1024", spec) else {
        return;
    };
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384/KE1_ML_KEM_768/KE2_ML_KEM_1024",
        "AES_GCM_16-256",
        |_, _, ours, peer| {
            assert_eq!(
                peer.algorithms.key_exchanges(),
                ["ECP_384", "ML_KEM_768", "ML_KEM_1024"]
            );
            assert_eq!(ours.intermediate_exchanges, 2, "{ours:#?}");
        },
    );
}
