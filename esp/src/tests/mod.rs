//! In-crate tests that need internals: known-answer vectors whose IV is fixed by the vector,
//! sequence numbers near 2^32 and 2^64, trailer checks on authentic packets, and a model check
//! of the replay window with ESN.

mod esn;
mod kat;
mod replay_model;
mod trailer;

use ipsec_crypto::{AeadAlgorithm, CryptoProvider, SecretBytes};

use crate::{Cipher, InboundSa, OutboundSa, SaConfig, Spi};

/// Every provider compiled into the tests.
fn providers() -> [&'static dyn CryptoProvider; 2] {
    [
        ipsec_crypto::default_provider(),
        ipsec_crypto::rustcrypto_provider(),
    ]
}

/// Hex with any whitespace, as the RFCs print it.
fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn config(spi: u32, cipher: Cipher, keymat: &[u8], esn: bool) -> SaConfig {
    let mut cfg = SaConfig::new(Spi(spi), cipher, SecretBytes::from_slice(keymat));
    cfg.esn = esn;
    cfg
}

/// An outbound and an inbound SA sharing AES-256-GCM keys.
fn gcm_pair(provider: &dyn CryptoProvider, esn: bool, window: u32) -> (OutboundSa, InboundSa) {
    let cipher = Cipher::Aead(AeadAlgorithm::Aes256Gcm16);
    let keymat = [0x5a; 36];
    let out = OutboundSa::new(provider, config(0x0102_0304, cipher, &keymat, esn)).unwrap();
    let mut cfg = config(0x0102_0304, cipher, &keymat, esn);
    cfg.replay_window = window;
    (out, InboundSa::new(provider, cfg).unwrap())
}

/// A minimal IPv4/UDP packet of `len` bytes (at least 28).
fn ipv4_packet(len: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; len];
    p[..20].copy_from_slice(&[
        0x45,
        0,
        (len >> 8) as u8,
        len as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        192,
        0,
        2,
        1,
        198,
        51,
        100,
        1,
    ]);
    p
}

/// Seals `inner` into a fresh buffer and returns the ESP packet.
fn seal(sa: &mut OutboundSa, inner: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; OutboundSa::HEADROOM + inner.len() + OutboundSa::TAILROOM];
    buf[OutboundSa::HEADROOM..][..inner.len()].copy_from_slice(inner);
    let range = sa
        .seal(&mut buf, OutboundSa::HEADROOM, inner.len())
        .unwrap();
    buf[range].to_vec()
}
