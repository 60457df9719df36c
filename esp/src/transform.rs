//! The cipher of an SA behind one interface, applied to a whole ESP packet in place: an AEAD
//! (RFC 4106, RFC 7634) or CBC with a truncated HMAC (RFC 3602, RFC 4868; HMAC-SHA1-96 of RFC
//! 2404 for legacy peers, 12-octet ICV).
//!
//! Packet layout (RFC 4303 §2): SPI (4) | Sequence Number (4) | IV | payload, padding, Pad
//! Length, Next Header | ICV.

use ipsec_crypto::{
    AEAD_IV_LEN, AEAD_TAG_LEN, AeadKey, BlockCipherKey, CryptoError, CryptoProvider, IntegKey,
    SecretBytes,
};

use crate::config::Cipher;
use crate::error::{DropReason, EspError};

/// SPI and Sequence Number.
pub(crate) const ESP_HEADER_LEN: usize = 8;
/// The largest IV of any supported transform (a 16-octet block).
pub(crate) const MAX_IV_LEN: usize = 16;
/// The largest padding: one block less one octet.
pub(crate) const MAX_PAD_LEN: usize = MAX_BLOCK_LEN - 1;
/// The largest ICV (HMAC-SHA-512-256).
pub(crate) const MAX_ICV_LEN: usize = 32;
/// Pad Length and Next Header.
pub(crate) const TRAILER_LEN: usize = 2;
/// AEAD payloads are padded to 4 octets (RFC 4303 §2.4).
const AEAD_ALIGN: usize = 4;
const MAX_BLOCK_LEN: usize = 16;
const ZERO_BLOCK: [u8; MAX_BLOCK_LEN] = [0; MAX_BLOCK_LEN];

/// A keyed transform.
pub(crate) enum Transform {
    Aead(Box<dyn AeadKey>),
    Cbc(CbcHmac),
}

/// CBC encryption with a separate truncated HMAC over the encrypted packet.
pub(crate) struct CbcHmac {
    cipher: Box<dyn BlockCipherKey>,
    block_len: usize,
    integ: Box<dyn IntegKey>,
    icv_len: usize,
}

impl Transform {
    /// Keys `cipher` from `keymat` with the provider's algorithms.
    pub(crate) fn new(
        provider: &dyn CryptoProvider,
        cipher: Cipher,
        keymat: &SecretBytes,
    ) -> Result<Self, EspError> {
        match cipher {
            Cipher::Aead(alg) => {
                let aead = provider.aead(alg).ok_or(EspError::UnsupportedCipher)?;
                check_key_len(aead.keymat_len(), keymat.len())?;
                Ok(Self::Aead(aead.new_key(keymat.expose())?))
            }
            Cipher::Cbc { cipher, integ } => {
                let cbc = provider.cbc(cipher).ok_or(EspError::UnsupportedCipher)?;
                let integ = provider.integ(integ).ok_or(EspError::UnsupportedCipher)?;
                let block_len = cbc.block_len();
                let icv_len = integ.tag_len();
                if !block_len.is_power_of_two()
                    || !(AEAD_ALIGN..=MAX_BLOCK_LEN).contains(&block_len)
                    || !(1..=MAX_ICV_LEN).contains(&icv_len)
                {
                    return Err(EspError::UnsupportedCipher);
                }
                check_key_len(cbc.key_len() + integ.key_len(), keymat.len())?;
                let (encr_key, integ_key) = keymat
                    .expose()
                    .split_at_checked(cbc.key_len())
                    .ok_or(EspError::UnsupportedCipher)?;
                Ok(Self::Cbc(CbcHmac {
                    cipher: cbc.new_key(encr_key)?,
                    block_len,
                    integ: integ.new_key(integ_key)?,
                    icv_len,
                }))
            }
        }
    }

    /// Encrypts and authenticates `packet` in place. `packet` holds the header, the IV, the
    /// plaintext payload with its trailer, and room for the ICV at the end. `seq_high` is the
    /// high half of an extended sequence number, which is authenticated but not sent.
    pub(crate) fn seal(&self, packet: &mut [u8], seq_high: Option<u32>) -> Result<(), DropReason> {
        match self {
            Self::Aead(key) => {
                let (header, rest) = packet
                    .split_first_chunk_mut::<ESP_HEADER_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let (iv, rest) = rest
                    .split_first_chunk_mut::<AEAD_IV_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let (data, icv) = rest
                    .split_last_chunk_mut::<AEAD_TAG_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let mut aad_buf = [0; 12];
                let aad = aead_aad(header, seq_high, &mut aad_buf);
                *icv = key.seal_in_place(iv, aad, data).map_err(drop_reason)?;
                Ok(())
            }
            Self::Cbc(cbc) => cbc.seal(packet, seq_high),
        }
    }

    /// Verifies the ICV of `packet` and decrypts its payload in place (the plaintext stays
    /// between the IV and the ICV).
    pub(crate) fn open(&self, packet: &mut [u8], seq_high: Option<u32>) -> Result<(), DropReason> {
        match self {
            Self::Aead(key) => {
                let (header, rest) = packet
                    .split_first_chunk_mut::<ESP_HEADER_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let (iv, rest) = rest
                    .split_first_chunk_mut::<AEAD_IV_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let (data, icv) = rest
                    .split_last_chunk_mut::<AEAD_TAG_LEN>()
                    .ok_or(DropReason::Truncated)?;
                let mut aad_buf = [0; 12];
                let aad = aead_aad(header, seq_high, &mut aad_buf);
                key.open_in_place(iv, aad, data, icv).map_err(drop_reason)
            }
            Self::Cbc(cbc) => cbc.open(packet, seq_high),
        }
    }

    /// Writes a fresh IV for sequence number `seq` into `iv` (of [`Transform::iv_len`] bytes).
    ///
    /// AEAD: the 64-bit sequence number, unique per key as RFC 4106 §3.1 and RFC 7634 §2
    /// require. CBC: the block cipher applied to `prefix | seq`, which is unpredictable to
    /// anyone without the key (NIST SP 800-38A Appendix C), as RFC 3602 §2.3 requires.
    pub(crate) fn write_iv(
        &self,
        iv: &mut [u8],
        prefix: &[u8; 8],
        seq: u64,
    ) -> Result<(), DropReason> {
        match self {
            Self::Aead(_) => {
                let out = iv
                    .first_chunk_mut::<8>()
                    .ok_or(DropReason::BufferTooSmall)?;
                *out = seq.to_be_bytes();
                Ok(())
            }
            Self::Cbc(cbc) => {
                let block = iv
                    .get_mut(..cbc.block_len)
                    .ok_or(DropReason::BufferTooSmall)?;
                block.fill(0);
                for (b, n) in block
                    .iter_mut()
                    .zip(prefix.iter().chain(seq.to_be_bytes().iter()))
                {
                    *b = *n;
                }
                let zero = ZERO_BLOCK.get(..cbc.block_len).ok_or(DropReason::Crypto)?;
                cbc.cipher
                    .encrypt_in_place(zero, block)
                    .map_err(drop_reason)
            }
        }
    }

    /// IV length in bytes.
    pub(crate) fn iv_len(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_IV_LEN,
            Self::Cbc(cbc) => cbc.block_len,
        }
    }

    /// ICV length in bytes.
    pub(crate) fn icv_len(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_TAG_LEN,
            Self::Cbc(cbc) => cbc.icv_len,
        }
    }

    /// The payload plus trailer is padded to a multiple of this (RFC 4303 §2.4).
    pub(crate) fn alignment(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_ALIGN,
            Self::Cbc(cbc) => cbc.block_len,
        }
    }

    /// The shortest packet that can hold a header, IV, one aligned trailer and the ICV.
    pub(crate) fn min_packet_len(&self) -> usize {
        let min_payload = match self {
            Self::Aead(_) => TRAILER_LEN,
            Self::Cbc(cbc) => cbc.block_len,
        };
        ESP_HEADER_LEN + self.iv_len() + min_payload + self.icv_len()
    }
}

impl CbcHmac {
    fn seal(&self, packet: &mut [u8], seq_high: Option<u32>) -> Result<(), DropReason> {
        let icv_at = packet
            .len()
            .checked_sub(self.icv_len)
            .ok_or(DropReason::Truncated)?;
        let (authenticated, icv) = packet
            .split_at_mut_checked(icv_at)
            .ok_or(DropReason::Truncated)?;
        let (iv, data) = authenticated
            .get_mut(ESP_HEADER_LEN..)
            .and_then(|r| r.split_at_mut_checked(self.block_len))
            .ok_or(DropReason::Truncated)?;
        self.cipher
            .encrypt_in_place(iv, data)
            .map_err(drop_reason)?;
        // RFC 4303 §2.2.1: the high-order ESN bits follow the packet in the ICV input only.
        match seq_high {
            Some(high) => self.integ.sign(&[authenticated, &high.to_be_bytes()], icv),
            None => self.integ.sign(&[authenticated], icv),
        }
        Ok(())
    }

    fn open(&self, packet: &mut [u8], seq_high: Option<u32>) -> Result<(), DropReason> {
        let icv_at = packet
            .len()
            .checked_sub(self.icv_len)
            .ok_or(DropReason::Truncated)?;
        let (authenticated, icv) = packet
            .split_at_mut_checked(icv_at)
            .ok_or(DropReason::Truncated)?;
        let ciphertext_len = authenticated
            .len()
            .checked_sub(ESP_HEADER_LEN + self.block_len)
            .ok_or(DropReason::Truncated)?;
        if ciphertext_len == 0 || ciphertext_len % self.block_len != 0 {
            return Err(DropReason::Malformed);
        }
        let verified = match seq_high {
            Some(high) => self
                .integ
                .verify(&[authenticated, &high.to_be_bytes()], icv),
            None => self.integ.verify(&[authenticated], icv),
        };
        if !verified {
            return Err(DropReason::Authentication);
        }
        let (iv, data) = authenticated
            .get_mut(ESP_HEADER_LEN..)
            .and_then(|r| r.split_at_mut_checked(self.block_len))
            .ok_or(DropReason::Truncated)?;
        self.cipher.decrypt_in_place(iv, data).map_err(drop_reason)
    }
}

/// RFC 4106 §5 (and RFC 7634 §2.1): SPI || Sequence Number, with the high half of an extended
/// sequence number between the two.
fn aead_aad<'a>(header: &'a [u8; 8], seq_high: Option<u32>, buf: &'a mut [u8; 12]) -> &'a [u8] {
    let Some(high) = seq_high else {
        return header;
    };
    let [s0, s1, s2, s3, q0, q1, q2, q3] = *header;
    let [h0, h1, h2, h3] = high.to_be_bytes();
    *buf = [s0, s1, s2, s3, h0, h1, h2, h3, q0, q1, q2, q3];
    buf
}

fn check_key_len(expected: usize, actual: usize) -> Result<(), EspError> {
    if expected == actual {
        Ok(())
    } else {
        Err(EspError::InvalidKeyLength { expected, actual })
    }
}

fn drop_reason(e: CryptoError) -> DropReason {
    match e {
        CryptoError::Authentication => DropReason::Authentication,
        CryptoError::InvalidLength => DropReason::Malformed,
        _ => DropReason::Crypto,
    }
}
