//! AES-GCM-16 (`aes-gcm`) and ChaCha20-Poly1305 (`chacha20poly1305`) in IPsec framing: key
//! material is the cipher key followed by a 4-octet salt, and the nonce is
//! `salt | 8-octet explicit IV` (RFC 4106 §3-4, RFC 7634 §2).
//!
//! Key schedules are zeroized on drop: the AES round keys through the `aes` feature `zeroize`,
//! the GHASH key through `polyval`'s, the ChaCha20 key by `chacha20poly1305` itself.

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadCore, AeadInPlace, KeyInit, KeySizeUser};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use zeroize::Zeroizing;

use crate::{AEAD_IV_LEN, AEAD_SALT_LEN, AEAD_TAG_LEN, Aead, AeadAlgorithm, AeadKey, CryptoError};

/// One RustCrypto AEAD algorithm.
struct RcAead {
    alg: AeadAlgorithm,
}

static AES_128_GCM_16: RcAead = RcAead {
    alg: AeadAlgorithm::Aes128Gcm16,
};
static AES_256_GCM_16: RcAead = RcAead {
    alg: AeadAlgorithm::Aes256Gcm16,
};
static CHACHA20_POLY1305: RcAead = RcAead {
    alg: AeadAlgorithm::ChaCha20Poly1305,
};

/// The AEAD for `alg`.
pub(super) fn aead(alg: AeadAlgorithm) -> Option<&'static dyn Aead> {
    match alg {
        AeadAlgorithm::Aes128Gcm16 => Some(&AES_128_GCM_16),
        AeadAlgorithm::Aes256Gcm16 => Some(&AES_256_GCM_16),
        AeadAlgorithm::ChaCha20Poly1305 => Some(&CHACHA20_POLY1305),
    }
}

impl RcAead {
    fn key_len(&self) -> usize {
        match self.alg {
            AeadAlgorithm::Aes128Gcm16 => Aes128Gcm::key_size(),
            AeadAlgorithm::Aes256Gcm16 => Aes256Gcm::key_size(),
            AeadAlgorithm::ChaCha20Poly1305 => ChaCha20Poly1305::key_size(),
        }
    }
}

impl Aead for RcAead {
    fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }

    fn keymat_len(&self) -> usize {
        self.key_len() + AEAD_SALT_LEN
    }

    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        if keymat.len() != self.keymat_len() {
            return Err(CryptoError::InvalidLength);
        }
        let (key, salt) = keymat.split_at(self.key_len());
        Ok(match self.alg {
            AeadAlgorithm::Aes128Gcm16 => Box::new(RcAeadKey::<Aes128Gcm>::new(key, salt)?),
            AeadAlgorithm::Aes256Gcm16 => Box::new(RcAeadKey::<Aes256Gcm>::new(key, salt)?),
            AeadAlgorithm::ChaCha20Poly1305 => {
                Box::new(RcAeadKey::<ChaCha20Poly1305>::new(key, salt)?)
            }
        })
    }
}

/// A keyed RustCrypto AEAD and its salt.
struct RcAeadKey<C> {
    cipher: C,
    salt: Zeroizing<[u8; AEAD_SALT_LEN]>,
}

impl<C: KeyInit> RcAeadKey<C> {
    fn new(key: &[u8], salt: &[u8]) -> Result<Self, CryptoError> {
        let cipher = C::new_from_slice(key).map_err(|_| CryptoError::InvalidLength)?;
        let mut salt_array = Zeroizing::new([0u8; AEAD_SALT_LEN]);
        salt_array.copy_from_slice(salt);
        Ok(Self {
            cipher,
            salt: salt_array,
        })
    }

    /// The 12-octet nonce `salt | iv`.
    fn nonce(&self, iv: &[u8; AEAD_IV_LEN]) -> GenericArray<u8, U12> {
        let mut nonce = GenericArray::default();
        nonce[..AEAD_SALT_LEN].copy_from_slice(self.salt.as_slice());
        nonce[AEAD_SALT_LEN..].copy_from_slice(iv);
        nonce
    }
}

impl<C> AeadKey for RcAeadKey<C>
where
    C: KeyInit + AeadInPlace + AeadCore<NonceSize = U12, TagSize = U16> + Send + Sync,
{
    fn seal_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let tag = self
            .cipher
            .encrypt_in_place_detached(&self.nonce(iv), aad, data)
            .map_err(|_| CryptoError::Internal)?;
        Ok(tag.into())
    }

    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        self.cipher
            .decrypt_in_place_detached(&self.nonce(iv), aad, data, GenericArray::from_slice(tag))
            .map_err(|_| CryptoError::Authentication)
    }
}
