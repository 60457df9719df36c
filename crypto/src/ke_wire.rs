//! Key exchange data as IKEv2 carries it, and the checks both providers run on peer data before
//! any library sees it.
//!
//! - X25519 (RFC 8031 §2): 32-octet public values; an all-zero shared secret is refused.
//! - ECP-256/384 (RFC 5903 §7): public value is `x | y` without the SEC1 `0x04` prefix, the shared
//!   secret is the `x` coordinate only.
//! - ML-KEM (draft-ietf-ipsecme-ikev2-mlkem): the initiator sends the encapsulation key, the
//!   responder the ciphertext; encapsulation keys get the FIPS 203 §7.2 modulus check here.

use subtle::ConstantTimeEq;

use crate::{KeError, KeGroup, SecretBytes};

/// The field prime of ML-KEM (FIPS 203 §2.4).
const MLKEM_Q: u16 = 3329;

/// Length of an X25519 public value and shared secret.
pub(crate) const X25519_LEN: usize = 32;

/// The SEC1 tag of an uncompressed point.
const SEC1_UNCOMPRESSED: u8 = 0x04;

/// Coordinate length in bytes of an ECP group, or `None` for other groups.
pub(crate) fn ecp_coordinate_len(group: KeGroup) -> Option<usize> {
    match group {
        KeGroup::Ecp256 => Some(32),
        KeGroup::Ecp384 => Some(48),
        _ => None,
    }
}

/// Parameter `k` of an ML-KEM group, or `None` for other groups.
fn mlkem_k(group: KeGroup) -> Option<usize> {
    match group {
        KeGroup::MlKem512 => Some(2),
        KeGroup::MlKem768 => Some(3),
        KeGroup::MlKem1024 => Some(4),
        _ => None,
    }
}

/// Length of an ML-KEM encapsulation key (FIPS 203 §8, table 3: 384k + 32).
pub(crate) fn mlkem_ek_len(group: KeGroup) -> Option<usize> {
    mlkem_k(group).map(|k| 384 * k + 32)
}

/// Length of an ML-KEM ciphertext (FIPS 203 §8, table 3: 32(du·k + dv)).
pub(crate) fn mlkem_ct_len(group: KeGroup) -> Option<usize> {
    match group {
        KeGroup::MlKem512 => Some(768),
        KeGroup::MlKem768 => Some(1088),
        KeGroup::MlKem1024 => Some(1568),
        _ => None,
    }
}

/// Checks a peer's ML-KEM encapsulation key: its length, then the FIPS 203 §7.2 modulus check
/// (ByteDecode12 of the first 384k bytes must give coefficients below q = 3329).
///
/// The key is public, so this check need not run in constant time.
pub(crate) fn check_mlkem_ek(group: KeGroup, ek: &[u8]) -> Result<(), KeError> {
    let (Some(k), Some(len)) = (mlkem_k(group), mlkem_ek_len(group)) else {
        return Err(KeError::Internal);
    };
    if ek.len() != len {
        return Err(KeError::InvalidLength);
    }
    // Every 3 bytes hold two little-endian 12-bit coefficients (FIPS 203 Algorithm 6, d = 12).
    let coefficients_ok = ek[..384 * k].chunks_exact(3).all(|b| {
        let c0 = u16::from(b[0]) | (u16::from(b[1] & 0x0f) << 8);
        let c1 = u16::from(b[1] >> 4) | (u16::from(b[2]) << 4);
        c0 < MLKEM_Q && c1 < MLKEM_Q
    });
    if coefficients_ok {
        Ok(())
    } else {
        Err(KeError::InvalidPublic)
    }
}

/// Checks the length of a peer's ML-KEM ciphertext.
pub(crate) fn check_mlkem_ct(group: KeGroup, ct: &[u8]) -> Result<(), KeError> {
    match mlkem_ct_len(group) {
        Some(len) if ct.len() == len => Ok(()),
        Some(_) => Err(KeError::InvalidLength),
        None => Err(KeError::Internal),
    }
}

/// The peer's X25519 public value as an array, after the length check.
pub(crate) fn x25519_public(peer: &[u8]) -> Result<[u8; X25519_LEN], KeError> {
    peer.try_into().map_err(|_| KeError::InvalidLength)
}

/// Wraps an X25519 result, refusing the all-zero value that low-order peer points produce
/// (RFC 7748 §6.1, RFC 8031 §2.3). The check runs in constant time.
pub(crate) fn x25519_shared(shared: &[u8]) -> Result<SecretBytes, KeError> {
    let zero = [0u8; X25519_LEN];
    if shared.len() != X25519_LEN {
        return Err(KeError::Internal);
    }
    if bool::from(shared.ct_eq(&zero)) {
        return Err(KeError::InvalidPublic);
    }
    Ok(SecretBytes::from_slice(shared))
}

/// Turns a peer's IKEv2 ECP public value (`x | y`) into a SEC1 uncompressed point
/// (`0x04 | x | y`), after the length check. The caller's library checks the point is on the curve.
pub(crate) fn ecp_peer_to_sec1(group: KeGroup, peer: &[u8]) -> Result<Vec<u8>, KeError> {
    let coordinate = ecp_coordinate_len(group).ok_or(KeError::Internal)?;
    if peer.len() != 2 * coordinate {
        return Err(KeError::InvalidLength);
    }
    let mut sec1 = Vec::with_capacity(1 + peer.len());
    sec1.push(SEC1_UNCOMPRESSED);
    sec1.extend_from_slice(peer);
    Ok(sec1)
}

/// Turns our SEC1 uncompressed point into the IKEv2 ECP public value (`x | y`).
pub(crate) fn ecp_public_from_sec1(group: KeGroup, sec1: &[u8]) -> Result<Vec<u8>, KeError> {
    let coordinate = ecp_coordinate_len(group).ok_or(KeError::Internal)?;
    match sec1.split_first() {
        Some((&SEC1_UNCOMPRESSED, xy)) if xy.len() == 2 * coordinate => Ok(xy.to_vec()),
        _ => Err(KeError::Internal),
    }
}

/// Checks the length of an ECP shared secret (the `x` coordinate) and wraps it.
pub(crate) fn ecp_shared(group: KeGroup, x: &[u8]) -> Result<SecretBytes, KeError> {
    match ecp_coordinate_len(group) {
        Some(len) if x.len() == len => Ok(SecretBytes::from_slice(x)),
        _ => Err(KeError::Internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlkem_sizes_match_fips_203() {
        assert_eq!(mlkem_ek_len(KeGroup::MlKem512), Some(800));
        assert_eq!(mlkem_ek_len(KeGroup::MlKem768), Some(1184));
        assert_eq!(mlkem_ek_len(KeGroup::MlKem1024), Some(1568));
        assert_eq!(mlkem_ek_len(KeGroup::X25519), None);
    }

    #[test]
    fn modulus_check_accepts_q_minus_one_and_rejects_q() {
        let mut ek = vec![0u8; 800];
        // c0 = 3328 = 0xd00, c1 = 3328 = 0xd00: bytes 00 0d d0.
        ek[..3].copy_from_slice(&[0x00, 0x0d, 0xd0]);
        assert_eq!(check_mlkem_ek(KeGroup::MlKem512, &ek), Ok(()));
        // c1 = 3329 = 0xd01 in the second coefficient: bytes 00 10 d0.
        ek[..3].copy_from_slice(&[0x00, 0x10, 0xd0]);
        assert_eq!(
            check_mlkem_ek(KeGroup::MlKem512, &ek),
            Err(KeError::InvalidPublic)
        );
        // The last coefficient before rho counts too.
        ek[..3].fill(0);
        ek[765..768].copy_from_slice(&[0xff, 0xff, 0xff]);
        assert_eq!(
            check_mlkem_ek(KeGroup::MlKem512, &ek),
            Err(KeError::InvalidPublic)
        );
        // rho (the last 32 bytes) is not decoded.
        ek[765..768].fill(0);
        ek[768..].fill(0xff);
        assert_eq!(check_mlkem_ek(KeGroup::MlKem512, &ek), Ok(()));
        assert_eq!(
            check_mlkem_ek(KeGroup::MlKem512, &ek[1..]),
            Err(KeError::InvalidLength)
        );
    }

    #[test]
    fn ecp_framing_round_trips() {
        let xy = [7u8; 64];
        let sec1 = ecp_peer_to_sec1(KeGroup::Ecp256, &xy).expect("64 octets");
        assert_eq!(sec1[0], 0x04);
        assert_eq!(
            ecp_public_from_sec1(KeGroup::Ecp256, &sec1).expect("65 octets"),
            xy
        );
        assert_eq!(
            ecp_peer_to_sec1(KeGroup::Ecp256, &sec1),
            Err(KeError::InvalidLength)
        );
        assert_eq!(
            ecp_peer_to_sec1(KeGroup::Ecp384, &xy),
            Err(KeError::InvalidLength)
        );
    }

    #[test]
    fn x25519_all_zero_is_refused() {
        assert!(matches!(
            x25519_shared(&[0; 32]),
            Err(KeError::InvalidPublic)
        ));
        assert!(x25519_shared(&[1; 32]).is_ok());
    }
}
