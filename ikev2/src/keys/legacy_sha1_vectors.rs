//! Known answers for the legacy profile of free5GC's UE (`aes256-sha1-modp2048`, ESP
//! `aes256-sha1`): SKEYSEED, the seven IKE SA keys and the first Child SA's KEYMAT with
//! PRF_HMAC_SHA1, computed independently by `ikev2/tests/vectors/legacy_sha1_keys.py` (Python
//! `hmac`/`hashlib`). The key lengths are the provider's: SK_d and SK_p are the PRF output (20
//! octets), SK_a the HMAC-SHA1-96 key (20, RFC 2404 §3), SK_e the AES-256 key.

use ipsec_crypto::{CbcAlgorithm, IntegAlgorithm, PrfAlgorithm, SecretBytes};

use super::{IkeKeys, KeyLengths};
use crate::keys::child_keymat;
use crate::wire::IkeSpi;

const VECTORS: &str = include_str!("../../tests/vectors/legacy_sha1_keys.txt");

fn get(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(" = "))
        .unwrap_or_else(|| panic!("{name} missing from the vector file"));
    hex::decode(line.trim()).expect("hex")
}

fn spi(name: &str) -> IkeSpi {
    IkeSpi::from_slice(&get(name)).expect("8 octets")
}

#[test]
fn prf_sha1_key_schedule_matches_the_independent_computation() {
    let provider = crate::test_provider();
    let prf = provider.prf(PrfAlgorithm::HmacSha1).expect("PRF-HMAC-SHA1");
    let integ = provider
        .integ(IntegAlgorithm::HmacSha1_96)
        .expect("HMAC-SHA1-96");
    let cbc = provider.cbc(CbcAlgorithm::Aes256Cbc).expect("AES-CBC-256");
    let lengths = KeyLengths {
        prf: prf.output_len(),
        integ: integ.key_len(),
        encr: cbc.key_len(),
    };
    assert_eq!(
        lengths,
        KeyLengths {
            prf: 20,
            integ: 20,
            encr: 32
        }
    );
    let (ni, nr) = (get("ni"), get("nr"));
    let shared = SecretBytes::new(get("g_ir"));
    let keys = IkeKeys::initial(prf, lengths, &shared, &ni, &nr, spi("spi_i"), spi("spi_r"))
        .expect("keys");
    for (name, key) in [
        ("sk_d", &keys.sk_d),
        ("sk_ai", &keys.sk_ai),
        ("sk_ar", &keys.sk_ar),
        ("sk_ei", &keys.sk_ei),
        ("sk_er", &keys.sk_er),
        ("sk_pi", &keys.sk_pi),
        ("sk_pr", &keys.sk_pr),
    ] {
        assert_eq!(key.expose(), get(name), "{name}");
    }

    let per_direction = cbc.key_len() + integ.key_len();
    let (i_to_r, r_to_i) =
        child_keymat(prf, &keys.sk_d, None, &ni, &nr, &[], per_direction).expect("KEYMAT");
    assert_eq!(i_to_r.expose(), get("keymat_i_to_r"));
    assert_eq!(r_to_i.expose(), get("keymat_r_to_i"));
}
