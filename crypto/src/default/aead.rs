//! AES-GCM-16 and ChaCha20-Poly1305 on ring, in IPsec framing: key material is the cipher key
//! followed by a 4-octet salt, and the nonce is `salt | 8-octet explicit IV`
//! (RFC 4106 §3-4, RFC 7634 §2).

use ring::aead::{
    AES_128_GCM, AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey,
};
use zeroize::Zeroizing;

use crate::{AEAD_IV_LEN, AEAD_SALT_LEN, AEAD_TAG_LEN, Aead, AeadAlgorithm, AeadKey, CryptoError};

/// One ring AEAD algorithm.
struct RingAead {
    alg: AeadAlgorithm,
    ring_alg: &'static ring::aead::Algorithm,
}

static AES_128_GCM_16: RingAead = RingAead {
    alg: AeadAlgorithm::Aes128Gcm16,
    ring_alg: &AES_128_GCM,
};
static AES_256_GCM_16: RingAead = RingAead {
    alg: AeadAlgorithm::Aes256Gcm16,
    ring_alg: &AES_256_GCM,
};
static CHACHA20_POLY1305_IPSEC: RingAead = RingAead {
    alg: AeadAlgorithm::ChaCha20Poly1305,
    ring_alg: &CHACHA20_POLY1305,
};

/// The AEAD for `alg`.
pub(super) fn aead(alg: AeadAlgorithm) -> Option<&'static dyn Aead> {
    match alg {
        AeadAlgorithm::Aes128Gcm16 => Some(&AES_128_GCM_16),
        AeadAlgorithm::Aes256Gcm16 => Some(&AES_256_GCM_16),
        AeadAlgorithm::ChaCha20Poly1305 => Some(&CHACHA20_POLY1305_IPSEC),
    }
}

impl Aead for RingAead {
    fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }

    fn keymat_len(&self) -> usize {
        self.ring_alg.key_len() + AEAD_SALT_LEN
    }

    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        if keymat.len() != self.keymat_len() {
            return Err(CryptoError::InvalidLength);
        }
        let (key, salt) = keymat.split_at(self.ring_alg.key_len());
        let key = UnboundKey::new(self.ring_alg, key).map_err(|_| CryptoError::InvalidLength)?;
        let mut salt_array = Zeroizing::new([0u8; AEAD_SALT_LEN]);
        salt_array.copy_from_slice(salt);
        Ok(Box::new(RingAeadKey {
            key: LessSafeKey::new(key),
            salt: salt_array,
        }))
    }
}

/// A ring key and its salt. ring does not zeroize its key schedule on drop; the salt is.
struct RingAeadKey {
    key: LessSafeKey,
    salt: Zeroizing<[u8; AEAD_SALT_LEN]>,
}

impl RingAeadKey {
    /// The 12-octet nonce `salt | iv`.
    fn nonce(&self, iv: &[u8; AEAD_IV_LEN]) -> Nonce {
        let mut nonce = [0u8; AEAD_SALT_LEN + AEAD_IV_LEN];
        nonce[..AEAD_SALT_LEN].copy_from_slice(self.salt.as_slice());
        nonce[AEAD_SALT_LEN..].copy_from_slice(iv);
        Nonce::assume_unique_for_key(nonce)
    }
}

impl AeadKey for RingAeadKey {
    fn seal_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(iv), Aad::from(aad), data)
            .map_err(|_| CryptoError::Internal)?;
        tag.as_ref().try_into().map_err(|_| CryptoError::Internal)
    }

    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        self.key
            .open_in_place_separate_tag(self.nonce(iv), Aad::from(aad), Tag::from(*tag), data, 0..)
            .map(|_| ())
            .map_err(|_| CryptoError::Authentication)
    }
}
