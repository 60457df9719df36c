//! ML-KEM alone in IKE_SA_INIT (draft-ietf-ipsecme-ikev2-mlkem; transform IDs 35-37 of RFC 9370's
//! registry) against strongSwan 6, each direction: no classical key exchange and no
//! IKE_INTERMEDIATE. IKE_SA_INIT then carries the 1184-byte encapsulation key and the 1088-byte
//! ciphertext, unfragmented (RFC 7383 does not apply to IKE_SA_INIT). Needs root and the lab.

use interop::{Pair, Spec};

#[test]
fn mlkem768_in_ike_sa_init() {
    let spec = Spec::new("mlkem", "aes256gcm16-prfsha384-mlkem768", "aes256gcm16");
    let Some(pair) = Pair::start("ikev2_mlkem::mlkem768_in_ike_sa_init", spec) else {
        return;
    };
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/ML_KEM_768",
        "AES_GCM_16-256",
        |_, _, ours, peer| {
            assert_eq!(peer.algorithms.key_exchanges(), ["ML_KEM_768"]);
            assert_eq!(ours.intermediate_exchanges, 0, "{ours:#?}");
        },
    );
}
