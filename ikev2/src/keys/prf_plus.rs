//! prf+ (RFC 7296 §2.13).

use ipsec_crypto::{Prf, SecretBytes};

/// `prf+(K, S)` truncated to `len` bytes, where `S` is the concatenation of `seed`.
///
/// Returns `None` when `len` needs more than 255 iterations (RFC 7296 §2.13).
pub(crate) fn prf_plus(
    prf: &dyn Prf,
    key: &[u8],
    seed: &[&[u8]],
    len: usize,
) -> Option<SecretBytes> {
    let block = prf.output_len();
    let rounds = len.div_ceil(block);
    if rounds > 255 {
        return None;
    }
    let keyed = prf.key(key);
    let mut out = SecretBytes::zeroed(rounds * block);
    for round in 1..=rounds {
        let counter = [round as u8];
        let (done, rest) = out.expose_mut().split_at_mut((round - 1) * block);
        let mut input: Vec<&[u8]> = Vec::with_capacity(seed.len() + 2);
        if round > 1 {
            input.push(&done[(round - 2) * block..]);
        }
        input.extend_from_slice(seed);
        input.push(&counter);
        keyed.compute(&input, &mut rest[..block]);
    }
    // The tail beyond `len` stays in `out` and is zeroized when it drops.
    Some(out.split_prefix(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prf+ with HMAC-SHA-256 checked against a manual expansion of RFC 7296 §2.13.
    #[test]
    fn prf_plus_matches_manual_expansion() {
        let p = crate::test_provider();
        let prf = p
            .prf(ipsec_crypto::PrfAlgorithm::HmacSha256)
            .expect("sha256");
        let key = b"key";
        let seed = b"seed";
        let out = prf_plus(prf, key, &[seed], 80).expect("len");
        let k = prf.key(key);
        let mut t1 = [0u8; 32];
        k.compute(&[seed, &[1]], &mut t1);
        let mut t2 = [0u8; 32];
        k.compute(&[&t1, seed, &[2]], &mut t2);
        let mut t3 = [0u8; 32];
        k.compute(&[&t2, seed, &[3]], &mut t3);
        let expected: Vec<u8> = [t1, t2, t3].concat()[..80].to_vec();
        assert_eq!(out.expose(), &expected[..]);
    }

    #[test]
    fn prf_plus_refuses_more_than_255_rounds() {
        let p = crate::test_provider();
        let prf = p
            .prf(ipsec_crypto::PrfAlgorithm::HmacSha256)
            .expect("sha256");
        assert!(prf_plus(prf, b"k", &[b"s"], 255 * 32).is_some());
        assert!(prf_plus(prf, b"k", &[b"s"], 255 * 32 + 1).is_none());
    }
}
