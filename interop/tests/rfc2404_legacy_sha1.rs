//! The legacy profile of free5GC's UE against strongSwan 6, each direction: IKE
//! `aes256-sha1-modp2048` (AES-CBC-256, HMAC-SHA1-96 of RFC 2404, PRF-HMAC-SHA1, MODP-2048) and
//! ESP `aes256-sha1`. strongSwan must show exactly those algorithms for the IKE SA and the ESP
//! Child SA, traffic crosses the tunnel both ways, and our daemon warned at load that the
//! proposals name legacy algorithms. Needs root and the lab.

use interop::{Pair, Spec};

#[test]
fn aes256_sha1_modp2048_ike_and_esp() {
    let mut spec = Spec::new("sha1", "aes256-sha1-modp2048", "aes256-sha1");
    spec.ours_negotiated = Some("aes256-sha1-prfsha1-modp2048".into());
    let Some(pair) = Pair::start(
        "rfc2404_legacy_sha1::aes256_sha1_modp2048_ike_and_esp",
        spec,
    ) else {
        return;
    };
    let log = pair.iked.log();
    assert!(
        log.contains("'aes256-sha1-modp2048' names legacy algorithms (HMAC-SHA1-96, PRF-HMAC-SHA1, MODP-2048 without ML-KEM, not post-quantum)")
            && log.contains("'aes256-sha1' names legacy algorithms (HMAC-SHA1-96)"),
        "iked did not warn about SHA-1 at load:\n{log}"
    );
    pair.both_directions(
        "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048",
        "AES_CBC-256/HMAC_SHA1_96",
        |_, _, _, _| {},
    );
}
