//! AES-CBC without padding (RFC 3602; the caller pads), for peers that offer no AEAD.
//!
//! Both providers use this code (RustCrypto `aes` + `cbc`). The AES key schedule is expanded
//! once per key and zeroized on drop (`aes` feature `zeroize`).

use aes::{Aes128, Aes256};
use cbc::cipher::inout::InOutBuf;
use cbc::cipher::{
    BlockCipher as RcBlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut,
    InnerIvInit, KeyInit, consts::U16,
};

use crate::{BlockCipher, BlockCipherKey, CbcAlgorithm, CryptoError};

/// AES block (and CBC IV) length.
const AES_BLOCK_LEN: usize = 16;

/// AES-CBC with one key length.
pub(crate) struct AesCbc {
    alg: CbcAlgorithm,
}

/// ENCR_AES_CBC with a 128-bit key.
pub(crate) static AES_128_CBC: AesCbc = AesCbc {
    alg: CbcAlgorithm::Aes128Cbc,
};
/// ENCR_AES_CBC with a 256-bit key.
pub(crate) static AES_256_CBC: AesCbc = AesCbc {
    alg: CbcAlgorithm::Aes256Cbc,
};

/// The CBC cipher for `alg`.
pub(crate) fn cbc(alg: CbcAlgorithm) -> Option<&'static dyn BlockCipher> {
    match alg {
        CbcAlgorithm::Aes128Cbc => Some(&AES_128_CBC),
        CbcAlgorithm::Aes256Cbc => Some(&AES_256_CBC),
    }
}

impl BlockCipher for AesCbc {
    fn algorithm(&self) -> CbcAlgorithm {
        self.alg
    }

    fn key_len(&self) -> usize {
        match self.alg {
            CbcAlgorithm::Aes128Cbc => 16,
            CbcAlgorithm::Aes256Cbc => 32,
        }
    }

    fn block_len(&self) -> usize {
        AES_BLOCK_LEN
    }

    fn new_key(&self, key: &[u8]) -> Result<Box<dyn BlockCipherKey>, CryptoError> {
        if key.len() != self.key_len() {
            return Err(CryptoError::InvalidLength);
        }
        Ok(match self.alg {
            CbcAlgorithm::Aes128Cbc => Box::new(AesCbcKey::<Aes128>::new(key)?),
            CbcAlgorithm::Aes256Cbc => Box::new(AesCbcKey::<Aes256>::new(key)?),
        })
    }
}

/// An expanded AES key (zeroized on drop by the `aes` crate).
struct AesCbcKey<C> {
    cipher: C,
}

impl<C> AesCbcKey<C>
where
    C: KeyInit + RcBlockCipher<BlockSize = U16> + BlockEncrypt + BlockDecrypt + Clone,
{
    fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let cipher = C::new_from_slice(key).map_err(|_| CryptoError::InvalidLength)?;
        Ok(Self { cipher })
    }
}

/// Checks the IV length and that `data` is whole blocks.
fn check_lengths(iv: &[u8], data: &[u8]) -> Result<(), CryptoError> {
    if iv.len() != AES_BLOCK_LEN || !data.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(CryptoError::InvalidLength);
    }
    Ok(())
}

impl<C> BlockCipherKey for AesCbcKey<C>
where
    C: KeyInit + RcBlockCipher<BlockSize = U16> + BlockEncrypt + BlockDecrypt + Clone + Send + Sync,
{
    fn encrypt_in_place(&self, iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
        check_lengths(iv, data)?;
        let mut mode = cbc::Encryptor::<C>::inner_iv_slice_init(self.cipher.clone(), iv)
            .map_err(|_| CryptoError::InvalidLength)?;
        let (blocks, _) = InOutBuf::from(data).into_chunks::<U16>();
        mode.encrypt_blocks_inout_mut(blocks);
        Ok(())
    }

    fn decrypt_in_place(&self, iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
        check_lengths(iv, data)?;
        let mut mode = cbc::Decryptor::<C>::inner_iv_slice_init(self.cipher.clone(), iv)
            .map_err(|_| CryptoError::InvalidLength)?;
        let (blocks, _) = InOutBuf::from(data).into_chunks::<U16>();
        mode.decrypt_blocks_inout_mut(blocks);
        Ok(())
    }
}
