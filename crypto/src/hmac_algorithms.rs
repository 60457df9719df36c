//! HMAC as a PRF (RFC 4868 §2.1.2, RFC 7296 §2.13) and as truncated integrity
//! (RFC 4868 §2.1.1, RFC 2404 for SHA-1), on RustCrypto `hmac`, `sha1` and `sha2`. SHA-1 is
//! here only for legacy peers (free5GC's UE offers nothing else) and is used only when a
//! connection's proposals name it.
//!
//! Both providers use this code: with the key set up once, it was faster here than ring and
//! aws-lc-rs for the short inputs IKEv2 feeds it (see `benches/primitives.rs`).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroize;

use crate::{CryptoError, Integ, IntegAlgorithm, IntegKey, Prf, PrfAlgorithm, PrfKey, ct_eq};

/// HMAC-SHA2 as a PRF.
pub(crate) struct HmacPrf {
    alg: PrfAlgorithm,
}

/// PRF_HMAC_SHA1.
pub(crate) static PRF_HMAC_SHA1: HmacPrf = HmacPrf {
    alg: PrfAlgorithm::HmacSha1,
};
/// PRF_HMAC_SHA2_256.
pub(crate) static PRF_HMAC_SHA256: HmacPrf = HmacPrf {
    alg: PrfAlgorithm::HmacSha256,
};
/// PRF_HMAC_SHA2_384.
pub(crate) static PRF_HMAC_SHA384: HmacPrf = HmacPrf {
    alg: PrfAlgorithm::HmacSha384,
};
/// PRF_HMAC_SHA2_512.
pub(crate) static PRF_HMAC_SHA512: HmacPrf = HmacPrf {
    alg: PrfAlgorithm::HmacSha512,
};

/// The PRF for `alg`.
pub(crate) fn prf(alg: PrfAlgorithm) -> Option<&'static dyn Prf> {
    match alg {
        PrfAlgorithm::HmacSha1 => Some(&PRF_HMAC_SHA1),
        PrfAlgorithm::HmacSha256 => Some(&PRF_HMAC_SHA256),
        PrfAlgorithm::HmacSha384 => Some(&PRF_HMAC_SHA384),
        PrfAlgorithm::HmacSha512 => Some(&PRF_HMAC_SHA512),
    }
}

impl Prf for HmacPrf {
    fn algorithm(&self) -> PrfAlgorithm {
        self.alg
    }

    fn output_len(&self) -> usize {
        match self.alg {
            PrfAlgorithm::HmacSha1 => 20,
            PrfAlgorithm::HmacSha256 => 32,
            PrfAlgorithm::HmacSha384 => 48,
            PrfAlgorithm::HmacSha512 => 64,
        }
    }

    fn key(&self, key: &[u8]) -> Box<dyn PrfKey> {
        match self.alg {
            PrfAlgorithm::HmacSha1 => Box::new(KeyedHmac::<Hmac<Sha1>>::new(key)),
            PrfAlgorithm::HmacSha256 => Box::new(KeyedHmac::<Hmac<Sha256>>::new(key)),
            PrfAlgorithm::HmacSha384 => Box::new(KeyedHmac::<Hmac<Sha384>>::new(key)),
            PrfAlgorithm::HmacSha512 => Box::new(KeyedHmac::<Hmac<Sha512>>::new(key)),
        }
    }
}

/// An HMAC with the key already absorbed (the inner and outer pads hashed once), cloned for
/// every computation.
///
/// Neither `Clone` nor `Debug`: the state is equivalent to the key.
struct KeyedHmac<M> {
    mac: M,
}

impl<M: Mac + KeyInit + Clone> KeyedHmac<M> {
    fn new(key: &[u8]) -> Self {
        Self { mac: new_hmac(key) }
    }

    /// Writes the first `out.len()` bytes of the MAC over the concatenated `data` into `out`.
    fn compute_into(&self, data: &[&[u8]], out: &mut [u8]) {
        let mut mac = self.mac.clone();
        for part in data {
            mac.update(part);
        }
        let mut tag = mac.finalize().into_bytes();
        let n = out.len().min(tag.len());
        out[..n].copy_from_slice(&tag[..n]);
        tag.as_mut_slice().zeroize();
    }
}

/// A keyed HMAC. HMAC takes keys of any length (RFC 2104 §3), so `new_from_slice` cannot fail.
fn new_hmac<M: Mac + KeyInit>(key: &[u8]) -> M {
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // Unreachable: `Hmac<D>` accepts every key length (it hashes long keys, pads short ones).
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

impl<M: Mac + KeyInit + Clone + Send + Sync> PrfKey for KeyedHmac<M> {
    fn compute(&self, data: &[&[u8]], out: &mut [u8]) {
        debug_assert_eq!(
            out.len(),
            <M as hmac::digest::OutputSizeUser>::output_size()
        );
        self.compute_into(data, out);
    }
}

/// Truncated HMAC-SHA2 for integrity (RFC 4868).
pub(crate) struct HmacInteg {
    alg: IntegAlgorithm,
}

/// AUTH_HMAC_SHA1_96.
pub(crate) static INTEG_HMAC_SHA1_96: HmacInteg = HmacInteg {
    alg: IntegAlgorithm::HmacSha1_96,
};
/// AUTH_HMAC_SHA2_256_128.
pub(crate) static INTEG_HMAC_SHA256_128: HmacInteg = HmacInteg {
    alg: IntegAlgorithm::HmacSha256_128,
};
/// AUTH_HMAC_SHA2_384_192.
pub(crate) static INTEG_HMAC_SHA384_192: HmacInteg = HmacInteg {
    alg: IntegAlgorithm::HmacSha384_192,
};
/// AUTH_HMAC_SHA2_512_256.
pub(crate) static INTEG_HMAC_SHA512_256: HmacInteg = HmacInteg {
    alg: IntegAlgorithm::HmacSha512_256,
};

/// The integrity algorithm for `alg`.
pub(crate) fn integ(alg: IntegAlgorithm) -> Option<&'static dyn Integ> {
    match alg {
        IntegAlgorithm::HmacSha1_96 => Some(&INTEG_HMAC_SHA1_96),
        IntegAlgorithm::HmacSha256_128 => Some(&INTEG_HMAC_SHA256_128),
        IntegAlgorithm::HmacSha384_192 => Some(&INTEG_HMAC_SHA384_192),
        IntegAlgorithm::HmacSha512_256 => Some(&INTEG_HMAC_SHA512_256),
    }
}

impl Integ for HmacInteg {
    fn algorithm(&self) -> IntegAlgorithm {
        self.alg
    }

    /// The key is as long as the hash output (RFC 4868 §2.1.1, RFC 2404 §3).
    fn key_len(&self) -> usize {
        match self.alg {
            IntegAlgorithm::HmacSha1_96 => 20,
            IntegAlgorithm::HmacSha256_128 => 32,
            IntegAlgorithm::HmacSha384_192 => 48,
            IntegAlgorithm::HmacSha512_256 => 64,
        }
    }

    /// Half the hash output (RFC 4868 §2.3); 96 bits for SHA-1 (RFC 2404 §2).
    fn tag_len(&self) -> usize {
        match self.alg {
            IntegAlgorithm::HmacSha1_96 => 12,
            _ => self.key_len() / 2,
        }
    }

    fn new_key(&self, key: &[u8]) -> Result<Box<dyn IntegKey>, CryptoError> {
        if key.len() != self.key_len() {
            return Err(CryptoError::InvalidLength);
        }
        let tag_len = self.tag_len();
        Ok(match self.alg {
            IntegAlgorithm::HmacSha1_96 => Box::new(TruncatedHmac::<Hmac<Sha1>>::new(key, tag_len)),
            IntegAlgorithm::HmacSha256_128 => {
                Box::new(TruncatedHmac::<Hmac<Sha256>>::new(key, tag_len))
            }
            IntegAlgorithm::HmacSha384_192 => {
                Box::new(TruncatedHmac::<Hmac<Sha384>>::new(key, tag_len))
            }
            IntegAlgorithm::HmacSha512_256 => {
                Box::new(TruncatedHmac::<Hmac<Sha512>>::new(key, tag_len))
            }
        })
    }
}

/// A keyed HMAC whose output is cut to `tag_len` bytes.
struct TruncatedHmac<M> {
    keyed: KeyedHmac<M>,
    tag_len: usize,
}

impl<M: Mac + KeyInit + Clone> TruncatedHmac<M> {
    fn new(key: &[u8], tag_len: usize) -> Self {
        Self {
            keyed: KeyedHmac::new(key),
            tag_len,
        }
    }
}

impl<M: Mac + KeyInit + Clone + Send + Sync> IntegKey for TruncatedHmac<M> {
    fn sign(&self, data: &[&[u8]], tag: &mut [u8]) {
        debug_assert_eq!(tag.len(), self.tag_len);
        let n = tag.len().min(self.tag_len);
        self.keyed.compute_into(data, &mut tag[..n]);
    }

    fn verify(&self, data: &[&[u8]], tag: &[u8]) -> bool {
        if tag.len() != self.tag_len {
            return false;
        }
        let mut expected = [0u8; 64];
        let expected = &mut expected[..self.tag_len];
        self.keyed.compute_into(data, expected);
        ct_eq(expected, tag)
    }
}
