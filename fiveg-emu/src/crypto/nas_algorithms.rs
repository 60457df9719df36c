//! 128-NIA2 (AES-CMAC) and 128-NEA2 (AES-CTR) of TS 33.501 Annex D.3, the same algorithms as
//! 128-EIA2/EEA2 of TS 33.401 Annex B. Messages are bit strings: the test data of TS 33.401
//! Annex C has lengths that are not whole octets, and the functions take a length in bits.
//!
//! Both are built here on the AES block function rather than on CMAC/CTR crates, because those
//! work on octets only.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use zeroize::Zeroizing;

/// The 5-bit BEARER input. For NAS it is the NAS connection identifier (TS 33.501 §6.4.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bearer(u8);

impl Bearer {
    /// NAS connection identifier of 3GPP access.
    pub const NAS_3GPP: Self = Self(1);
    /// NAS connection identifier of non-3GPP access.
    pub const NAS_NON_3GPP: Self = Self(2);

    /// `None` when `value` does not fit five bits.
    pub fn new(value: u8) -> Option<Self> {
        (value < 32).then_some(Self(value))
    }
}

/// The DIRECTION input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// UE to network: 0.
    Uplink,
    /// Network to UE: 1.
    Downlink,
}

/// COUNT, BEARER and DIRECTION: the inputs besides the key and the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgorithmInput {
    /// The 32-bit COUNT.
    pub count: u32,
    /// BEARER.
    pub bearer: Bearer,
    /// DIRECTION.
    pub direction: Direction,
}

impl AlgorithmInput {
    /// COUNT || BEARER || DIRECTION || 0^26, the 64 bits that start both algorithms.
    fn prefix(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&self.count.to_be_bytes());
        let direction = match self.direction {
            Direction::Uplink => 0,
            Direction::Downlink => 1,
        };
        out[4] = self.bearer.0 << 3 | direction << 2;
        out
    }
}

/// The 32-bit MAC of 128-NIA2 over a whole number of octets.
pub fn nia2_mac(key: &[u8; 16], input: &AlgorithmInput, message: &[u8]) -> [u8; 4] {
    cmac_first_32(key, input, message, message.len() * 8)
}

/// The 32-bit MAC of 128-NIA2 over the first `bits` bits of `message`; `None` when `message` is
/// shorter than that.
pub fn nia2_mac_bits(
    key: &[u8; 16],
    input: &AlgorithmInput,
    message: &[u8],
    bits: usize,
) -> Option<[u8; 4]> {
    (bits <= message.len() * 8).then(|| cmac_first_32(key, input, message, bits))
}

/// 128-NEA2 over a whole number of octets, in place (ciphering and deciphering are the same).
pub fn nea2_apply(key: &[u8; 16], input: &AlgorithmInput, data: &mut [u8]) {
    let bits = data.len() * 8;
    ctr_apply(key, input, data, bits);
}

/// 128-NEA2 over the first `bits` bits of `data`, in place; the octets past the bit length are
/// left as they are and the unused low bits of the last octet are cleared (as in TS 33.401
/// Annex C). `false` when `data` is shorter than `bits`.
pub fn nea2_apply_bits(
    key: &[u8; 16],
    input: &AlgorithmInput,
    data: &mut [u8],
    bits: usize,
) -> bool {
    if bits > data.len() * 8 {
        return false;
    }
    ctr_apply(key, input, &mut data[..bits.div_ceil(8)], bits);
    true
}

/// AES-CMAC (NIST SP 800-38B) over `prefix || message[..bits]`, truncated to 32 bits.
fn cmac_first_32(key: &[u8; 16], input: &AlgorithmInput, message: &[u8], bits: usize) -> [u8; 4] {
    let cipher = Aes128::new(GenericArray::from_slice(key));
    let total_bits = 64 + bits;
    let blocks = total_bits.div_ceil(128).max(1);
    let mut padded = Zeroizing::new(vec![0u8; blocks * 16]);
    padded[..8].copy_from_slice(&input.prefix());
    let octets = bits.div_ceil(8);
    padded[8..8 + octets].copy_from_slice(&message[..octets]);
    clear_bits_after(&mut padded, total_bits);
    let complete = total_bits.is_multiple_of(128);
    if !complete {
        padded[total_bits / 8] |= 0x80 >> (total_bits % 8);
    }
    let (k1, k2) = subkeys(&cipher);
    let subkey = if complete { k1 } else { k2 };
    let mut state = [0u8; 16];
    let last = blocks - 1;
    for (index, block) in padded.chunks_exact(16).enumerate() {
        xor16(&mut state, block);
        if index == last {
            xor16(&mut state, &*subkey);
        }
        cipher.encrypt_block(GenericArray::from_mut_slice(&mut state));
    }
    [state[0], state[1], state[2], state[3]]
}

/// K1 and K2 of CMAC: L = E_K(0), K1 = dbl(L), K2 = dbl(K1).
fn subkeys(cipher: &Aes128) -> (Zeroizing<[u8; 16]>, Zeroizing<[u8; 16]>) {
    let mut l = Zeroizing::new([0u8; 16]);
    cipher.encrypt_block(GenericArray::from_mut_slice(l.as_mut_slice()));
    let k1 = Zeroizing::new(dbl(&l));
    let k2 = Zeroizing::new(dbl(&k1));
    (k1, k2)
}

/// Doubling in GF(2^128) with the CMAC polynomial (x^128 + x^7 + x^2 + x + 1).
fn dbl(block: &[u8; 16]) -> [u8; 16] {
    let value = u128::from_be_bytes(*block);
    let carry = (value >> 127) as u8;
    let doubled = (value << 1) ^ u128::from(carry * 0x87);
    doubled.to_be_bytes()
}

/// AES-CTR with T1 = COUNT || BEARER || DIRECTION || 0^26 || 0^64 and the low 64 bits
/// incremented per block (TS 33.401 Annex B.1.3).
fn ctr_apply(key: &[u8; 16], input: &AlgorithmInput, data: &mut [u8], bits: usize) {
    let cipher = Aes128::new(GenericArray::from_slice(key));
    let prefix = input.prefix();
    for (index, chunk) in data.chunks_mut(16).enumerate() {
        let mut block = Zeroizing::new([0u8; 16]);
        block[..8].copy_from_slice(&prefix);
        block[8..].copy_from_slice(&(index as u64).to_be_bytes());
        cipher.encrypt_block(GenericArray::from_mut_slice(block.as_mut_slice()));
        for (byte, key_byte) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= key_byte;
        }
    }
    clear_bits_after(data, bits);
}

/// Clears every bit of `data` at or after bit position `bits`.
fn clear_bits_after(data: &mut [u8], bits: usize) {
    let first_whole = bits.div_ceil(8);
    if !bits.is_multiple_of(8) {
        data[bits / 8] &= 0xFFu8 << (8 - bits % 8);
    }
    for byte in data.iter_mut().skip(first_whole) {
        *byte = 0;
    }
}

fn xor16(acc: &mut [u8; 16], other: &[u8]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a ^= b;
    }
}
