//! The generic key derivation function of TS 33.220 Annex B.2 and PRF' of RFC 5448 §3.4.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The FC octet that separates the uses of the KDF (TS 33.220 Annex B.2.2 and the specs that
/// allocate values from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionCode(pub u8);

impl FunctionCode {
    /// CK'/IK' for EAP-AKA' (TS 33.402 Annex A.2).
    pub const CK_IK_PRIME: Self = Self(0x20);
    /// Algorithm keys KNASenc/KNASint (TS 33.501 Annex A.8).
    pub const ALGORITHM_KEY: Self = Self(0x69);
    /// KAUSF (TS 33.501 Annex A.2).
    pub const KAUSF: Self = Self(0x6A);
    /// RES*/XRES* (TS 33.501 Annex A.4).
    pub const RES_STAR: Self = Self(0x6B);
    /// KSEAF (TS 33.501 Annex A.6).
    pub const KSEAF: Self = Self(0x6C);
    /// KAMF (TS 33.501 Annex A.7).
    pub const KAMF: Self = Self(0x6D);
    /// KgNB and KN3IWF (TS 33.501 Annex A.9).
    pub const ACCESS_NETWORK_KEY: Self = Self(0x6E);
}

/// The 256-bit output of the KDF, zeroized on drop.
pub type KdfOutput = Zeroizing<[u8; 32]>;

/// KDF(Key, S) = HMAC-SHA-256(Key, S) with S = FC || P0 || L0 || P1 || L1 ... where each Li is
/// the length of Pi in two octets, big-endian (TS 33.220 Annex B.2.1).
///
/// # Panics
///
/// When a parameter is longer than 65535 octets: the two-octet length cannot express it. Every
/// caller in this crate passes parameters whose types bound them far below that.
pub fn kdf(key: &[u8], fc: FunctionCode, params: &[&[u8]]) -> KdfOutput {
    let mut mac = hmac_sha256(key);
    mac.update(&[fc.0]);
    for param in params {
        let len = u16::try_from(param.len()).expect("KDF parameter over 65535 octets");
        mac.update(param);
        mac.update(&len.to_be_bytes());
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// PRF' output longer than 255 blocks was asked for.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("PRF' can produce at most {max} octets", max = PRF_PRIME_MAX)]
pub struct PrfPrimeTooLong;

/// The most PRF' can produce: 255 blocks of 32 octets (the counter is one octet).
pub const PRF_PRIME_MAX: usize = 255 * 32;

/// PRF'(K, S) = T1 | T2 | ... with T1 = HMAC-SHA-256(K, S | 0x01) and
/// Tn = HMAC-SHA-256(K, Tn-1 | S | n) (RFC 5448 §3.4), written into `out`.
///
/// # Errors
///
/// [`PrfPrimeTooLong`] when `out` is longer than [`PRF_PRIME_MAX`].
pub fn prf_prime(key: &[u8], seed: &[u8], out: &mut [u8]) -> Result<(), PrfPrimeTooLong> {
    if out.len() > PRF_PRIME_MAX {
        return Err(PrfPrimeTooLong);
    }
    let mut previous = Zeroizing::new([0u8; 32]);
    for (index, chunk) in out.chunks_mut(32).enumerate() {
        let mut mac = hmac_sha256(key);
        if index > 0 {
            mac.update(previous.as_slice());
        }
        mac.update(seed);
        // The length check above keeps `index + 1` within 1..=255.
        mac.update(&[u8::try_from(index + 1).map_err(|_| PrfPrimeTooLong)?]);
        previous.copy_from_slice(&mac.finalize().into_bytes());
        chunk.copy_from_slice(&previous[..chunk.len()]);
    }
    Ok(())
}

fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (RFC 2104 §2), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}
