//! 2048-bit MODP group (RFC 3526 §3, IKEv2 group 14), shared by both providers.
//!
//! Exponentiation is constant time in the exponent: Montgomery form with a fixed 4-bit window,
//! constant-time table lookups and a fixed number of squarings (`crypto-bigint`). Private
//! exponents are 256 bits, twice the ~110-bit strength of the group (RFC 3526 §8).

use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};
use crypto_bigint::{Encoding, U256, U2048, impl_modulus};
use zeroize::{Zeroize, Zeroizing};

use crate::{ActiveKeyExchange, CryptoError, KeError, KeGroup, KeyExchange, SecretBytes};

/// Length of public values and of the shared secret (RFC 7296 §2.14: fixed-length, left-padded).
pub(crate) const MODP2048_LEN: usize = 256;

/// Bits in a private exponent.
const EXPONENT_BITS: usize = 256;

impl_modulus!(
    Modp2048Prime,
    U2048,
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD\
     EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED\
     EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F\
     83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B\
     E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510\
     15728E5A8AACAA68FFFFFFFFFFFFFFFF"
);

/// An element of the group in Montgomery form.
type Element = Residue<Modp2048Prime, { U2048::LIMBS }>;

/// The group generator, 2.
const GENERATOR: U2048 = U2048::from_u8(2);

/// MODP-2048 with a provider's random source.
pub(crate) struct Modp2048 {
    fill_random: fn(&mut [u8]) -> Result<(), CryptoError>,
}

impl Modp2048 {
    /// The group, drawing private exponents from `fill_random`.
    pub(crate) const fn new(fill_random: fn(&mut [u8]) -> Result<(), CryptoError>) -> Self {
        Self { fill_random }
    }

    /// A fresh private exponent: 256 random bits, redrawn in the (2^-255) case that it is below 2.
    fn random_exponent(&self) -> Result<Zeroizing<U256>, KeError> {
        let mut bytes = Zeroizing::new([0u8; EXPONENT_BITS / 8]);
        loop {
            (self.fill_random)(bytes.as_mut_slice()).map_err(|_| KeError::Internal)?;
            let exponent = Zeroizing::new(U256::from_be_slice(bytes.as_slice()));
            if *exponent > U256::ONE {
                return Ok(exponent);
            }
        }
    }
}

/// Parses and range-checks a peer's public value: 256 octets, `1 < y < p - 1` (RFC 6989 §2.1).
fn peer_element(peer: &[u8]) -> Result<Element, KeError> {
    if peer.len() != MODP2048_LEN {
        return Err(KeError::InvalidLength);
    }
    let y = U2048::from_be_slice(peer);
    let p_minus_one = Modp2048Prime::MODULUS.wrapping_sub(&U2048::ONE);
    if y <= U2048::ONE || y >= p_minus_one {
        return Err(KeError::InvalidPublic);
    }
    Ok(Element::new(&y))
}

/// `base ^ exponent mod p` as 256 big-endian octets, in constant time in the exponent.
fn exponentiate(base: &Element, exponent: &U256) -> Zeroizing<[u8; MODP2048_LEN]> {
    let mut power = base.pow_bounded_exp(exponent, EXPONENT_BITS);
    let mut value = power.retrieve();
    let bytes = Zeroizing::new(value.to_be_bytes());
    value.zeroize();
    power.zeroize();
    bytes
}

/// The public value `g ^ x`.
fn public_value(exponent: &U256) -> Vec<u8> {
    exponentiate(&Element::new(&GENERATOR), exponent).to_vec()
}

/// The shared secret `y ^ x`, left-padded to 256 octets.
fn shared_secret(peer: &[u8], exponent: &U256) -> Result<SecretBytes, KeError> {
    let y = peer_element(peer)?;
    Ok(SecretBytes::from_slice(
        exponentiate(&y, exponent).as_slice(),
    ))
}

impl KeyExchange for Modp2048 {
    fn group(&self) -> KeGroup {
        KeGroup::Modp2048
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
        let exponent = self.random_exponent()?;
        Ok(Box::new(ActiveModp2048::new(exponent)))
    }

    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
        // Check the peer's value before spending an exponentiation on our own.
        peer_element(peer)?;
        let exponent = self.random_exponent()?;
        let shared = shared_secret(peer, &exponent)?;
        Ok((public_value(&exponent), shared))
    }
}

/// The initiator's MODP-2048 exponent and public value. The exponent is zeroized on drop.
pub(crate) struct ActiveModp2048 {
    exponent: Zeroizing<U256>,
    public: Vec<u8>,
}

impl ActiveModp2048 {
    fn new(exponent: Zeroizing<U256>) -> Self {
        let public = public_value(&exponent);
        Self { exponent, public }
    }

    /// An initiator with a fixed exponent (big-endian, at most 32 octets), for known-answer tests.
    #[cfg(test)]
    pub(crate) fn from_exponent(exponent: &[u8]) -> Option<Self> {
        if exponent.len() > EXPONENT_BITS / 8 {
            return None;
        }
        let mut padded = Zeroizing::new([0u8; EXPONENT_BITS / 8]);
        padded[EXPONENT_BITS / 8 - exponent.len()..].copy_from_slice(exponent);
        Some(Self::new(Zeroizing::new(U256::from_be_slice(
            padded.as_slice(),
        ))))
    }
}

impl ActiveKeyExchange for ActiveModp2048 {
    fn group(&self) -> KeGroup {
        KeGroup::Modp2048
    }

    fn public(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        shared_secret(peer, &self.exponent)
    }
}
