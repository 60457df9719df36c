//! The two providers interoperate: key exchanges in both directions, AEAD, CBC, PRF and
//! integrity outputs agree.

use crate::{
    AEAD_IV_LEN, AeadAlgorithm, CbcAlgorithm, CryptoProvider, IntegAlgorithm, PrfAlgorithm,
    default_provider, rustcrypto_provider,
};

/// Both orders of (initiator, responder).
fn pairs() -> [(&'static dyn CryptoProvider, &'static dyn CryptoProvider); 2] {
    [
        (default_provider(), rustcrypto_provider()),
        (rustcrypto_provider(), default_provider()),
    ]
}

#[test]
fn key_exchange_across_providers() {
    for (initiator, responder) in pairs() {
        for group in super::ALL_GROUPS {
            let active = initiator
                .key_exchange(group)
                .expect("group")
                .start()
                .expect("start");
            let (response, responder_secret) = responder
                .key_exchange(group)
                .expect("group")
                .respond(active.public())
                .expect("respond");
            let initiator_secret = active.complete(&response).expect("complete");
            assert!(
                initiator_secret.ct_eq(responder_secret.expose()),
                "{group:?}: {} -> {}",
                initiator.name(),
                responder.name()
            );
        }
    }
}

#[test]
fn aead_across_providers() {
    for (sealer, opener) in pairs() {
        for alg in [
            AeadAlgorithm::Aes128Gcm16,
            AeadAlgorithm::Aes256Gcm16,
            AeadAlgorithm::ChaCha20Poly1305,
        ] {
            let mut keymat = vec![0; sealer.aead(alg).expect("AEAD").keymat_len()];
            sealer.fill_random(&mut keymat).expect("random");
            let seal_key = sealer
                .aead(alg)
                .expect("AEAD")
                .new_key(&keymat)
                .expect("key");
            let open_key = opener
                .aead(alg)
                .expect("AEAD")
                .new_key(&keymat)
                .expect("key");
            let iv = [0x5a; AEAD_IV_LEN];
            let plaintext: Vec<u8> = (0..1400u32).map(|i| (i * 7) as u8).collect();
            let mut data = plaintext.clone();
            let tag = seal_key
                .seal_in_place(&iv, b"spi|seq", &mut data)
                .expect("seal");
            open_key
                .open_in_place(&iv, b"spi|seq", &mut data, &tag)
                .expect("open");
            assert_eq!(data, plaintext, "{alg:?}");
        }
    }
}

#[test]
fn prf_integ_and_cbc_agree_across_providers() {
    let (a, b) = (default_provider(), rustcrypto_provider());
    let key = [0x33u8; 64];
    let data: &[&[u8]] = &[b"Ni | Nr", &[1, 2, 3], b"SPIi | SPIr"];
    for alg in [
        PrfAlgorithm::HmacSha1,
        PrfAlgorithm::HmacSha256,
        PrfAlgorithm::HmacSha384,
        PrfAlgorithm::HmacSha512,
    ] {
        let (pa, pb) = (a.prf(alg).expect("PRF"), b.prf(alg).expect("PRF"));
        let mut out_a = vec![0; pa.output_len()];
        let mut out_b = vec![0; pb.output_len()];
        pa.key(&key).compute(data, &mut out_a);
        pb.key(&key).compute(data, &mut out_b);
        assert_eq!(out_a, out_b, "{alg:?}");
    }
    for alg in [
        IntegAlgorithm::HmacSha1_96,
        IntegAlgorithm::HmacSha256_128,
        IntegAlgorithm::HmacSha384_192,
        IntegAlgorithm::HmacSha512_256,
    ] {
        let (ia, ib) = (a.integ(alg).expect("integ"), b.integ(alg).expect("integ"));
        let mut tag = vec![0; ia.tag_len()];
        ia.new_key(&key[..ia.key_len()])
            .expect("key")
            .sign(data, &mut tag);
        assert!(
            ib.new_key(&key[..ib.key_len()])
                .expect("key")
                .verify(data, &tag),
            "{alg:?}"
        );
    }
    for alg in [CbcAlgorithm::Aes128Cbc, CbcAlgorithm::Aes256Cbc] {
        let (ca, cb) = (a.cbc(alg).expect("CBC"), b.cbc(alg).expect("CBC"));
        let plaintext = [0x17u8; 64];
        let mut data = plaintext;
        ca.new_key(&key[..ca.key_len()])
            .expect("key")
            .encrypt_in_place(&[9; 16], &mut data)
            .expect("encrypt");
        cb.new_key(&key[..cb.key_len()])
            .expect("key")
            .decrypt_in_place(&[9; 16], &mut data)
            .expect("decrypt");
        assert_eq!(data, plaintext, "{alg:?}");
    }
}
