//! ESP inbound processing on untrusted bytes.
//!
//! 1. The input as a packet, through `Sad::open` with a fixed AES-256-GCM SA: once as it is and
//!    once with the SA's SPI written over its first four bytes, so the bytes reach the replay
//!    check and the ICV.
//! 2. The input as the plaintext of an authentic packet (sealed by the matching outbound SA,
//!    as a dummy packet when it is not IPv4 or IPv6), so that the trailer, Next Header and
//!    inner-length checks see arbitrary bytes; whatever opens must be a prefix of the input.
#![no_main]

use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Sad, Spi};
use ipsec_crypto::{AeadAlgorithm, SecretBytes};
use libfuzzer_sys::fuzz_target;

const SPI: Spi = Spi(0x0bad_cafe);

fn config() -> SaConfig {
    let cipher = Cipher::Aead(AeadAlgorithm::Aes256Gcm16);
    let mut cfg = SaConfig::new(SPI, cipher, SecretBytes::new((0..36).collect()));
    cfg.esn = true;
    cfg.replay_window = 64;
    cfg
}

fuzz_target!(|data: &[u8]| {
    let provider = ipsec_crypto::default_provider();
    let mut sad = Sad::new();
    sad.insert(InboundSa::new(provider, config()).expect("inbound SA"));

    let mut packet = data.to_vec();
    let _ = sad.open(&mut packet);
    if data.len() >= 4 {
        let mut packet = data.to_vec();
        packet[..4].copy_from_slice(&SPI.to_be_bytes());
        assert!(sad.open(&mut packet).is_err(), "forged bytes opened");
    }

    let mut out = OutboundSa::new(provider, config()).expect("outbound SA");
    let start = OutboundSa::HEADROOM;
    let mut buf = vec![0; start + data.len() + OutboundSa::TAILROOM];
    buf[start..start + data.len()].copy_from_slice(data);
    let range = match out.seal(&mut buf, start, data.len()) {
        Ok(range) => range,
        Err(_) => {
            buf[start..start + data.len()].copy_from_slice(data);
            out.seal_dummy(&mut buf, start, data.len())
                .expect("dummy packet")
        }
    };
    let mut packet = buf[range].to_vec();
    if let Ok(opened) = sad.open(&mut packet) {
        assert!(
            data.starts_with(&packet[opened.inner]),
            "opened bytes differ from the input"
        );
    }
});
