//! Known answers for RFC 9867 in CREATE_CHILD_SA, computed independently by
//! `ikev2/tests/vectors/rfc9867_create_child.py` (Python `hmac`/`hashlib`).

use ipsec_crypto::{PrfAlgorithm, SecretBytes};

use super::{IkeKeys, KeyLengths};
use crate::keys::{child_keymat, ppk_confirmation};

const VECTORS: &str = include_str!("../../tests/vectors/rfc9867_create_child.txt");

fn get(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(" = "))
        .unwrap_or_else(|| panic!("{name} missing from the vector file"));
    hex::decode(line.trim()).expect("hex")
}

const LENGTHS: KeyLengths = KeyLengths {
    prf: 48,
    integ: 0,
    encr: 36,
};

fn ike_keys() -> IkeKeys {
    IkeKeys {
        sk_d: SecretBytes::new(get("sk_d")),
        sk_ai: SecretBytes::zeroed(0),
        sk_ar: SecretBytes::zeroed(0),
        sk_ei: SecretBytes::zeroed(36),
        sk_er: SecretBytes::zeroed(36),
        sk_pi: SecretBytes::zeroed(48),
        sk_pr: SecretBytes::zeroed(48),
        lengths: LENGTHS,
    }
}

fn spi(name: &str) -> crate::wire::IkeSpi {
    crate::wire::IkeSpi::from_slice(&get(name)).expect("8 octets")
}

#[test]
fn create_child_sa_ppk_matches_the_independent_computation() {
    let prf = crate::test_provider()
        .prf(PrfAlgorithm::HmacSha384)
        .expect("HMAC-SHA-384");
    let ppk = SecretBytes::new(get("ppk"));
    let (ni, nr, g_ir) = (get("ni"), get("nr"), get("g_ir"));
    let confirmation = ppk_confirmation(prf, &ppk, &[&ni, &get("spi_i"), &get("spi_r")]);
    assert_eq!(confirmation.to_vec(), get("confirmation"));

    let keys = ike_keys();
    let sk_d_prime = keys.sk_d_with_ppk(prf, &ppk).expect("SK_d'");
    assert_eq!(sk_d_prime.expose(), get("sk_d_prime"));

    let (i_to_r, r_to_i) =
        child_keymat(prf, &sk_d_prime, Some(&g_ir), &ni, &nr, &[], 36).expect("KEYMAT");
    assert_eq!(i_to_r.expose(), get("keymat_i_to_r"));
    assert_eq!(r_to_i.expose(), get("keymat_r_to_i"));
    let (plain, _) = child_keymat(prf, &keys.sk_d, Some(&g_ir), &ni, &nr, &[], 36).expect("KEYMAT");
    assert_eq!(plain.expose(), get("keymat_i_to_r_without_ppk"));

    let rekeyed = keys
        .rekeyed(
            prf,
            prf,
            LENGTHS,
            Some(&sk_d_prime),
            &g_ir,
            &[],
            &ni,
            &nr,
            spi("new_spi_i"),
            spi("new_spi_r"),
        )
        .expect("rekey");
    assert_eq!(rekeyed.sk_d.expose(), get("rekey_sk_d"));
    assert_eq!(rekeyed.sk_ei.expose(), get("rekey_sk_ei"));
    assert_eq!(rekeyed.sk_er.expose(), get("rekey_sk_er"));
    assert_eq!(rekeyed.sk_pi.expose(), get("rekey_sk_pi"));
    assert_eq!(rekeyed.sk_pr.expose(), get("rekey_sk_pr"));
}
