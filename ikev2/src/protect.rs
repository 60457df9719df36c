//! SK and SKF protection (RFC 7296 §3.14, RFC 5282, RFC 7383 §2.5): encryption of the inner
//! payload chain, integrity, and splitting into fragments.

use ipsec_crypto::{
    AEAD_IV_LEN, AEAD_TAG_LEN, AeadKey, BlockCipherKey, CryptoProvider, IntegKey, SecretBytes,
};

use crate::proposal::Negotiated;
use crate::wire::{GENERIC_HEADER_LEN, HEADER_LEN, Header, PayloadType};

/// The keys protecting one direction of an IKE SA.
pub(crate) enum Protection {
    Aead(Box<dyn AeadKey>),
    Cbc {
        cipher: Box<dyn BlockCipherKey>,
        integ: Box<dyn IntegKey>,
        block: usize,
        icv: usize,
    },
}

/// Why an inbound SK/SKF payload was rejected. All of these are silent drops (RFC 7296 §2.21.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenError {
    Truncated,
    Integrity,
    Padding,
}

/// Octets of the SKF header after the generic header: Fragment Number and Total Fragments.
pub(crate) const SKF_EXTRA: usize = 4;

impl Protection {
    /// Keys for one direction from SK_e (and SK_a for CBC).
    pub(crate) fn new(
        provider: &dyn CryptoProvider,
        suite: &Negotiated,
        sk_e: &SecretBytes,
        sk_a: &SecretBytes,
    ) -> Option<Self> {
        if let Some(aead) = suite.aead() {
            let key = provider.aead(aead)?.new_key(sk_e.expose()).ok()?;
            return Some(Self::Aead(key));
        }
        let (cbc, integ) = suite.cbc()?;
        let cipher = provider.cbc(cbc)?;
        let integ = provider.integ(integ)?;
        Some(Self::Cbc {
            block: cipher.block_len(),
            icv: integ.tag_len(),
            cipher: cipher.new_key(sk_e.expose()).ok()?,
            integ: integ.new_key(sk_a.expose()).ok()?,
        })
    }

    /// IV plus ICV plus the pad-length octet: the fixed overhead inside an SK payload.
    pub(crate) fn overhead(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_IV_LEN + AEAD_TAG_LEN + 1,
            Self::Cbc { block, icv, .. } => block + icv + block,
        }
    }

    /// Builds a complete protected datagram: `header` (its next payload and length are set
    /// here), an SK payload (or SKF when `fragment` is `Some((number, total))`) whose inner chain
    /// starts with `first_inner` and whose plaintext is `plain`.
    pub(crate) fn seal(
        &self,
        provider: &dyn CryptoProvider,
        header: &Header,
        first_inner: PayloadType,
        fragment: Option<(u16, u16)>,
        plain: &[u8],
    ) -> Option<Vec<u8>> {
        let (iv_len, pad, icv) = match self {
            Self::Aead(_) => (AEAD_IV_LEN, 0, AEAD_TAG_LEN),
            Self::Cbc { block, icv, .. } => {
                (*block, (block - (plain.len() + 1) % block) % block, *icv)
            }
        };
        let extra = if fragment.is_some() { SKF_EXTRA } else { 0 };
        let payload_len = GENERIC_HEADER_LEN + extra + iv_len + plain.len() + pad + 1 + icv;
        let mut out = sk_headers(header, first_inner, fragment, payload_len)?;
        let aad_end = out.len();
        let mut iv = vec![0; iv_len];
        provider.fill_random(&mut iv).ok()?;
        out.extend_from_slice(&iv);
        let ct_start = out.len();
        out.extend_from_slice(plain);
        // RFC 7296 §3.14: padding content is arbitrary; we send zeros, then the pad length.
        out.resize(out.len() + pad, 0);
        out.push(pad as u8);
        self.encrypt_and_tag(&mut out, aad_end, ct_start, &iv)?;
        Some(out)
    }

    /// Encrypts `out[ct_start..]` in place and appends the ICV (over `out[..aad_end]` as AAD
    /// for an AEAD; over everything for CBC with HMAC).
    fn encrypt_and_tag(
        &self,
        out: &mut Vec<u8>,
        aad_end: usize,
        ct_start: usize,
        iv: &[u8],
    ) -> Option<()> {
        match self {
            Self::Aead(key) => {
                let iv: &[u8; AEAD_IV_LEN] = iv.try_into().ok()?;
                let (aad, rest) = out.split_at_mut(aad_end);
                let tag = key.seal_in_place(iv, aad, &mut rest[AEAD_IV_LEN..]).ok()?;
                out.extend_from_slice(&tag);
            }
            Self::Cbc {
                cipher, integ, icv, ..
            } => {
                cipher.encrypt_in_place(iv, &mut out[ct_start..]).ok()?;
                let mut tag = vec![0; *icv];
                integ.sign(&[out], &mut tag);
                out.extend_from_slice(&tag);
            }
        }
        Some(())
    }

    /// Verifies and decrypts the SK/SKF body that ends `datagram` (the body is the last
    /// `body_len` octets). Returns the inner plaintext without padding.
    pub(crate) fn open(&self, datagram: &[u8], body_len: usize) -> Result<Vec<u8>, OpenError> {
        let aad_end = datagram
            .len()
            .checked_sub(body_len)
            .ok_or(OpenError::Truncated)?;
        let (aad, body) = datagram.split_at(aad_end);
        let mut plain = match self {
            Self::Aead(key) => {
                if body.len() < AEAD_IV_LEN + AEAD_TAG_LEN + 1 {
                    return Err(OpenError::Truncated);
                }
                let (iv, rest) = body.split_at(AEAD_IV_LEN);
                let (ct, tag) = rest.split_at(rest.len() - AEAD_TAG_LEN);
                let iv: &[u8; AEAD_IV_LEN] = iv.try_into().map_err(|_| OpenError::Truncated)?;
                let tag: &[u8; AEAD_TAG_LEN] = tag.try_into().map_err(|_| OpenError::Truncated)?;
                let mut buf = ct.to_vec();
                key.open_in_place(iv, aad, &mut buf, tag)
                    .map_err(|_| OpenError::Integrity)?;
                buf
            }
            Self::Cbc {
                cipher,
                integ,
                block,
                icv,
            } => {
                if body.len() < block + block + icv || (body.len() - block - icv) % block != 0 {
                    return Err(OpenError::Truncated);
                }
                let (signed, tag) = datagram.split_at(datagram.len() - icv);
                if !integ.verify(&[signed], tag) {
                    return Err(OpenError::Integrity);
                }
                let (iv, ct) = body[..body.len() - icv].split_at(*block);
                let mut buf = ct.to_vec();
                cipher
                    .decrypt_in_place(iv, &mut buf)
                    .map_err(|_| OpenError::Integrity)?;
                buf
            }
        };
        let pad = usize::from(*plain.last().ok_or(OpenError::Padding)?);
        let keep = plain.len().checked_sub(pad + 1).ok_or(OpenError::Padding)?;
        plain.truncate(keep);
        Ok(plain)
    }
}

/// The RFC 9242 §3.3.2 "A" octets of an IKE_INTERMEDIATE message: the IKE header and the SK
/// generic header with their lengths adjusted to count only the plaintext inner payloads.
pub(crate) fn int_auth_a(header: &Header, first_inner: PayloadType, plain_len: usize) -> Vec<u8> {
    let sk_len = GENERIC_HEADER_LEN + plain_len;
    let mut h = header.clone();
    h.next_payload = PayloadType::SK;
    h.length = (HEADER_LEN + sk_len) as u32;
    let mut out = Vec::with_capacity(HEADER_LEN + GENERIC_HEADER_LEN);
    h.emit(&mut out);
    out.push(first_inner.0);
    out.push(0);
    out.extend_from_slice(&(sk_len as u16).to_be_bytes());
    out
}

/// Splits `plain` into fragments so that each protected datagram fits `max_datagram` octets
/// (RFC 7383 §2.5). Returns the datagrams, or `None` when a fragment cannot carry any data.
pub(crate) fn seal_fragments(
    prot: &Protection,
    provider: &dyn CryptoProvider,
    header: &Header,
    first_inner: PayloadType,
    plain: &[u8],
    max_datagram: usize,
) -> Option<Vec<Vec<u8>>> {
    let fixed = HEADER_LEN + GENERIC_HEADER_LEN + SKF_EXTRA + prot.overhead();
    let room = max_datagram.checked_sub(fixed).filter(|r| *r >= 16)?;
    // CBC pads each fragment to the block size: round the room down to keep within the limit.
    let room = match prot {
        Protection::Cbc { block, .. } => room - room % block,
        Protection::Aead(_) => room,
    };
    let chunks: Vec<&[u8]> = plain.chunks(room).collect();
    let total = u16::try_from(chunks.len()).ok()?;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let number = i as u16 + 1;
            let inner = if number == 1 {
                first_inner
            } else {
                PayloadType::NONE
            };
            prot.seal(provider, header, inner, Some((number, total)), chunk)
        })
        .collect()
}

/// The IKE header (with the SK or SKF payload type and the total length) and the SK/SKF
/// payload header of a protected message whose SK payload is `payload_len` octets.
fn sk_headers(
    header: &Header,
    first_inner: PayloadType,
    fragment: Option<(u16, u16)>,
    payload_len: usize,
) -> Option<Vec<u8>> {
    let total = HEADER_LEN + payload_len;
    let mut h = header.clone();
    h.next_payload = if fragment.is_some() {
        PayloadType::SKF
    } else {
        PayloadType::SK
    };
    h.length = u32::try_from(total).ok()?;
    let mut out = Vec::with_capacity(total);
    h.emit(&mut out);
    out.push(first_inner.0);
    out.push(0);
    out.extend_from_slice(&u16::try_from(payload_len).ok()?.to_be_bytes());
    if let Some((number, count)) = fragment {
        out.extend_from_slice(&number.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use ipsec_crypto::{CbcAlgorithm, IntegAlgorithm};

    use super::*;
    use crate::wire::{ExchangeType, Flags, IKE_VERSION, IkeSpi, MessageId};

    fn cbc() -> Protection {
        let p = crate::test_provider();
        let cipher = p.cbc(CbcAlgorithm::Aes256Cbc).expect("AES-CBC");
        let integ = p
            .integ(IntegAlgorithm::HmacSha256_128)
            .expect("HMAC-SHA-256");
        Protection::Cbc {
            block: cipher.block_len(),
            icv: integ.tag_len(),
            cipher: cipher.new_key(&[7; 32]).expect("key"),
            integ: integ.new_key(&[9; 32]).expect("key"),
        }
    }

    fn header() -> Header {
        Header {
            spi_i: IkeSpi(1),
            spi_r: IkeSpi(2),
            next_payload: PayloadType::SK,
            version: IKE_VERSION,
            exchange: ExchangeType::IKE_AUTH,
            flags: Flags::new(true, false),
            message_id: MessageId(1),
            length: 0,
        }
    }

    /// A correctly authenticated SK payload whose one plaintext block is `block`.
    fn sealed_block(prot: &Protection, block: [u8; 16]) -> (Vec<u8>, usize) {
        let body_len = GENERIC_HEADER_LEN + 16 + 16 + 16;
        let mut out = sk_headers(&header(), PayloadType::NONE, None, body_len).expect("headers");
        let aad_end = out.len();
        let iv = [3u8; 16];
        out.extend_from_slice(&iv);
        let ct_start = out.len();
        out.extend_from_slice(&block);
        prot.encrypt_and_tag(&mut out, aad_end, ct_start, &iv)
            .expect("sealed");
        let len = out.len();
        (out, len - aad_end)
    }

    /// free5GC's N3IWF crashed on a CBC pad length beyond the plaintext (its issue #997). Here
    /// it is an error, even when the integrity check passes.
    #[test]
    fn a_pad_length_beyond_the_plaintext_is_refused_after_integrity() {
        let prot = cbc();
        let mut block = [0u8; 16];
        block[15] = 255;
        let (datagram, body_len) = sealed_block(&prot, block);
        assert_eq!(prot.open(&datagram, body_len), Err(OpenError::Padding));

        block[15] = 15;
        let (datagram, body_len) = sealed_block(&prot, block);
        assert_eq!(prot.open(&datagram, body_len), Ok(Vec::new()));
    }

    #[test]
    fn short_and_tampered_bodies_are_refused() {
        let prot = cbc();
        let (mut datagram, body_len) = sealed_block(&prot, [0; 16]);
        assert_eq!(
            prot.open(&datagram[..datagram.len() - 1], body_len - 1),
            Err(OpenError::Truncated)
        );
        let last = datagram.len() - 1;
        datagram[last] ^= 1;
        assert_eq!(prot.open(&datagram, body_len), Err(OpenError::Integrity));
    }
}
