//! The IKEv2 key schedule: prf+, SKEYSEED, the RFC 9370 update after each additional key
//! exchange, PPK mixing (RFC 8784 and RFC 9867), Child SA KEYMAT and the RFC 9242 IntAuth chain.

mod int_auth;
mod prf_plus;
mod sk;

pub(crate) use int_auth::IntAuthChain;
pub(crate) use prf_plus::prf_plus;
pub(crate) use sk::{IkeKeys, KeyLengths};

use ipsec_crypto::{Prf, SecretBytes};

/// Child SA key material, in the order of RFC 7296 §2.17: initiator→responder keys first.
///
/// `KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr [| SK(1) | … | SK(n)])` (RFC 7296 §2.17,
/// RFC 9370 §2.2.4), where Ni and Nr are the nonces of the exchange that created the SA.
pub(crate) fn child_keymat(
    prf: &dyn Prf,
    sk_d: &SecretBytes,
    ke: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    additional: &[&[u8]],
    per_direction: usize,
) -> Option<(SecretBytes, SecretBytes)> {
    let mut seed: Vec<&[u8]> = Vec::with_capacity(3 + additional.len());
    seed.extend(ke);
    seed.push(ni);
    seed.push(nr);
    seed.extend_from_slice(additional);
    let mut keymat = prf_plus(prf, sk_d.expose(), &seed, 2 * per_direction)?;
    let i_to_r = keymat.split_prefix(per_direction);
    Some((i_to_r, keymat))
}

/// The RFC 9867 PPK Confirmation: the first 8 octets of `prf(PPK, parts)`. In IKE_INTERMEDIATE
/// `parts` is `Ni | Nr | SPIi | SPIr` (§3.1); in CREATE_CHILD_SA see `sa/ppk_child.rs`.
pub(crate) fn ppk_confirmation(prf: &dyn Prf, ppk: &SecretBytes, parts: &[&[u8]]) -> [u8; 8] {
    let mut out = vec![0; prf.output_len()];
    prf.key(ppk.expose()).compute(parts, &mut out);
    let mut c = [0; 8];
    c.copy_from_slice(&out[..8]);
    c
}

/// The PSK AUTH value of RFC 7296 §2.15: `prf(prf(PSK, "Key Pad for IKEv2"), octets)`.
pub(crate) fn psk_auth(prf: &dyn Prf, psk: &[u8], signed_octets: &[&[u8]]) -> SecretBytes {
    let mut pad_key = SecretBytes::zeroed(prf.output_len());
    prf.key(psk).compute(&[KEY_PAD], pad_key.expose_mut());
    let mut out = SecretBytes::zeroed(prf.output_len());
    prf.key(pad_key.expose())
        .compute(signed_octets, out.expose_mut());
    out
}

/// `MACedIDFor{I,R} = prf(SK_p{i,r}, RestOfIDPayload)` (RFC 7296 §2.15).
pub(crate) fn maced_id(prf: &dyn Prf, sk_p: &SecretBytes, id_body: &[u8]) -> Vec<u8> {
    let mut out = vec![0; prf.output_len()];
    prf.key(sk_p.expose()).compute(&[id_body], &mut out);
    out
}

const KEY_PAD: &[u8] = b"Key Pad for IKEv2";
