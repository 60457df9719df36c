//! Shared helpers for the public-API tests: providers, transforms, SA pairs, inner packets.

#![allow(dead_code, unreachable_pub)]

use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Spi};
use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, CryptoProvider, IntegAlgorithm, SecretBytes};

/// Every provider compiled into the tests.
pub fn providers() -> [&'static dyn CryptoProvider; 2] {
    [
        ipsec_crypto::default_provider(),
        ipsec_crypto::rustcrypto_provider(),
    ]
}

/// Every transform the datapath supports.
pub const CIPHERS: [Cipher; 7] = [
    Cipher::Aead(AeadAlgorithm::Aes128Gcm16),
    Cipher::Aead(AeadAlgorithm::Aes256Gcm16),
    Cipher::Aead(AeadAlgorithm::ChaCha20Poly1305),
    Cipher::Cbc {
        cipher: CbcAlgorithm::Aes128Cbc,
        integ: IntegAlgorithm::HmacSha256_128,
    },
    Cipher::Cbc {
        cipher: CbcAlgorithm::Aes256Cbc,
        integ: IntegAlgorithm::HmacSha384_192,
    },
    Cipher::Cbc {
        cipher: CbcAlgorithm::Aes256Cbc,
        integ: IntegAlgorithm::HmacSha512_256,
    },
    // The legacy profile of free5GC's UE (ESP `aes256-sha1`).
    Cipher::Cbc {
        cipher: CbcAlgorithm::Aes256Cbc,
        integ: IntegAlgorithm::HmacSha1_96,
    },
];

/// Key material length of `cipher` with `provider`.
pub fn keymat_len(provider: &dyn CryptoProvider, cipher: Cipher) -> usize {
    match cipher {
        Cipher::Aead(alg) => provider.aead(alg).unwrap().keymat_len(),
        Cipher::Cbc { cipher, integ } => {
            provider.cbc(cipher).unwrap().key_len() + provider.integ(integ).unwrap().key_len()
        }
    }
}

/// A configuration with deterministic key material.
pub fn config(provider: &dyn CryptoProvider, spi: u32, cipher: Cipher, esn: bool) -> SaConfig {
    let keymat: Vec<u8> = (0..keymat_len(provider, cipher))
        .map(|i| (i * 7 + 3) as u8)
        .collect();
    let mut cfg = SaConfig::new(Spi(spi), cipher, SecretBytes::new(keymat));
    cfg.esn = esn;
    cfg
}

/// An outbound SA and the inbound SA that opens its packets.
pub fn pair(provider: &dyn CryptoProvider, cipher: Cipher, esn: bool) -> (OutboundSa, InboundSa) {
    let out = OutboundSa::new(provider, config(provider, 0xc0ff_ee01, cipher, esn)).unwrap();
    let inb = InboundSa::new(provider, config(provider, 0xc0ff_ee01, cipher, esn)).unwrap();
    (out, inb)
}

/// An IPv4/UDP packet of `len` bytes (at least 28) from 10.1.0.1:4000 to 10.2.0.1:53.
pub fn ipv4(len: usize, fill: u8) -> Vec<u8> {
    assert!(len >= 28);
    let mut p: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
    p[..28].copy_from_slice(&[
        0x45,
        0,
        (len >> 8) as u8,
        len as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        17,
        0,
        0,
        10,
        1,
        0,
        1,
        10,
        2,
        0,
        1,
        0x0f,
        0xa0,
        0,
        53,
        ((len - 20) >> 8) as u8,
        (len - 20) as u8,
        0,
        0,
    ]);
    p
}

/// An IPv6/UDP packet of `len` bytes (at least 48) from 2001:db8:1::1 to 2001:db8:2::1.
pub fn ipv6(len: usize, fill: u8) -> Vec<u8> {
    assert!(len >= 48);
    let mut p: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
    let payload = len - 40;
    p[..8].copy_from_slice(&[0x60, 0, 0, 0, (payload >> 8) as u8, payload as u8, 17, 64]);
    p[8..24].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p[24..40].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p[40..44].copy_from_slice(&[0x0f, 0xa0, 0x01, 0xbb]);
    p
}

/// Seals `inner` with exactly the headroom and tailroom the SA asks for; returns the packet.
pub fn seal(sa: &mut OutboundSa, inner: &[u8]) -> Vec<u8> {
    let start = sa.headroom();
    let mut buf = vec![0; start + inner.len() + sa.tailroom(inner.len())];
    buf[start..start + inner.len()].copy_from_slice(inner);
    let range = sa.seal(&mut buf, start, inner.len()).unwrap();
    assert_eq!(range, 0..buf.len());
    buf
}
