//! The TS 33.220 KDF and PRF' against the EAP-AKA' test vectors of RFC 5448 Appendix C.

#![allow(clippy::unwrap_used)]

mod common;

use fiveg_emu::crypto::kdf::{PRF_PRIME_MAX, PrfPrimeTooLong, prf_prime};
use fiveg_emu::keys::{aka_prime_keys, ck_ik_prime};
use fiveg_emu::secret::{Ck, Ik};

#[test]
fn ck_ik_prime_matches_rfc_5448_appendix_c() {
    let cases = common::sections("rfc5448_eap_aka_prime.txt");
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let ck = Ck::from_bytes(case.array("ck"));
        let ik = Ik::from_bytes(case.array("ik"));
        let autn = case.hex("autn");
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let network = case.text("network").as_bytes();
        let (ck_prime, ik_prime) = ck_ik_prime(&ck, &ik, network, &sqn_xor_ak);
        case.assert_hex("ck_prime", ck_prime.dangerous_as_bytes());
        case.assert_hex("ik_prime", ik_prime.dangerous_as_bytes());
    }
}

#[test]
fn prf_prime_keys_match_rfc_5448_appendix_c() {
    for case in &common::sections("rfc5448_eap_aka_prime.txt") {
        let ck = Ck::from_bytes(case.array("ck"));
        let ik = Ik::from_bytes(case.array("ik"));
        let sqn_xor_ak: [u8; 6] = case.hex("autn")[..6].try_into().unwrap();
        let (ck_prime, ik_prime) =
            ck_ik_prime(&ck, &ik, case.text("network").as_bytes(), &sqn_xor_ak);
        let keys = aka_prime_keys(&ck_prime, &ik_prime, case.text("identity").as_bytes());
        case.assert_hex("k_encr", keys.k_encr.dangerous_as_bytes());
        case.assert_hex("k_aut", keys.k_aut.dangerous_as_bytes());
        case.assert_hex("k_re", keys.k_re.dangerous_as_bytes());
        case.assert_hex("msk", keys.msk.dangerous_as_bytes());
        case.assert_hex("emsk", keys.emsk.dangerous_as_bytes());
    }
}

#[test]
fn prf_prime_refuses_more_than_255_blocks() {
    let mut at_limit = vec![0u8; PRF_PRIME_MAX];
    assert_eq!(prf_prime(b"key", b"seed", &mut at_limit), Ok(()));
    let mut over = vec![0u8; PRF_PRIME_MAX + 1];
    assert_eq!(prf_prime(b"key", b"seed", &mut over), Err(PrfPrimeTooLong));
}

#[test]
fn prf_prime_prefix_is_stable_across_output_lengths() {
    let mut short = [0u8; 40];
    let mut long = [0u8; 100];
    prf_prime(b"k", b"s", &mut short).unwrap();
    prf_prime(b"k", b"s", &mut long).unwrap();
    assert_eq!(short[..], long[..40]);
}
