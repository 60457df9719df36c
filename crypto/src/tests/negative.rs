//! Bad input: wrong lengths, invalid public values, tampered data.

use super::harness::{Harness, h};
use crate::{
    AEAD_IV_LEN, AeadAlgorithm, CbcAlgorithm, CryptoError, IntegAlgorithm, KeError, KeGroup,
};

/// Every group refuses peer data of the wrong length, on both sides.
pub(crate) fn ke_wrong_lengths(harness: &Harness) {
    for group in super::ALL_GROUPS {
        let ke = harness
            .provider
            .key_exchange(group)
            .expect("group supported");
        let active = ke.start().expect("start");
        let good_len = active.public().len();
        for len in [0, 1, good_len - 1, good_len + 1] {
            let peer = vec![0x42; len];
            assert_eq!(
                ke.respond(&peer).err(),
                Some(KeError::InvalidLength),
                "{group:?} respond {len}"
            );
        }
        let (response, _) = ke.respond(active.public()).expect("respond");
        for len in [0, response.len() - 1, response.len() + 1] {
            let active = ke.start().expect("start");
            let peer = vec![0x42; len];
            assert_eq!(
                active.complete(&peer).err(),
                Some(KeError::InvalidLength),
                "{group:?} complete {len}"
            );
        }
    }
}

/// An ML-KEM encapsulation key with a coefficient of q = 3329 or more fails the FIPS 203 §7.2
/// modulus check.
pub(crate) fn mlkem_ek_modulus_check(harness: &Harness) {
    for group in [KeGroup::MlKem512, KeGroup::MlKem768, KeGroup::MlKem1024] {
        let ke = harness
            .provider
            .key_exchange(group)
            .expect("group supported");
        let valid = ke.start().expect("start").public().to_vec();
        assert!(ke.respond(&valid).is_ok());
        // First coefficient = 3329 (0xd01): low byte 0x01, then low nibble 0xd.
        let mut ek = valid.clone();
        ek[0] = 0x01;
        ek[1] = (ek[1] & 0xf0) | 0x0d;
        assert_eq!(
            ke.respond(&ek).err(),
            Some(KeError::InvalidPublic),
            "{group:?} c0 = q"
        );
        // Last coefficient before rho = 4095.
        let mut ek = valid.clone();
        let end = ek.len() - 32;
        ek[end - 2] |= 0xf0;
        ek[end - 1] = 0xff;
        assert_eq!(
            ke.respond(&ek).err(),
            Some(KeError::InvalidPublic),
            "{group:?} last = 4095"
        );
        // rho is not range-checked.
        let mut ek = valid;
        let end = ek.len();
        ek[end - 32..].fill(0xff);
        assert!(ke.respond(&ek).is_ok(), "{group:?} rho of ones");
    }
}

/// X25519 points of small order (RFC 7748 §6.1) give an all-zero secret: refused.
pub(crate) fn x25519_low_order_points(harness: &Harness) {
    let ke = harness
        .provider
        .key_exchange(KeGroup::X25519)
        .expect("X25519 supported");
    let low_order = [
        h("0000000000000000000000000000000000000000000000000000000000000000"),
        h("0100000000000000000000000000000000000000000000000000000000000000"),
        h("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        h("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        h("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ];
    for point in &low_order {
        assert_eq!(
            ke.respond(point).err(),
            Some(KeError::InvalidPublic),
            "respond"
        );
        let active = ke.start().expect("start");
        assert_eq!(
            active.complete(point).err(),
            Some(KeError::InvalidPublic),
            "complete"
        );
    }
}

/// ECP points that are not on the curve, or are all zero, are refused.
pub(crate) fn ecp_points_off_curve(harness: &Harness) {
    for group in [KeGroup::Ecp256, KeGroup::Ecp384] {
        let ke = harness
            .provider
            .key_exchange(group)
            .expect("group supported");
        let valid = ke.start().expect("start").public().to_vec();
        let mut off_curve = valid.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 0x01;
        let zero = vec![0u8; valid.len()];
        for bad in [off_curve, zero] {
            assert_eq!(
                ke.respond(&bad).err(),
                Some(KeError::InvalidPublic),
                "{group:?} respond"
            );
            let active = ke.start().expect("start");
            assert_eq!(
                active.complete(&bad).err(),
                Some(KeError::InvalidPublic),
                "{group:?}"
            );
        }
    }
}

/// MODP public values outside 1 < y < p - 1 are refused (RFC 6989 §2.1).
pub(crate) fn modp_out_of_range(harness: &Harness) {
    let ke = harness
        .provider
        .key_exchange(KeGroup::Modp2048)
        .expect("MODP supported");
    let mut p = [0xff; 256];
    p[8..248].copy_from_slice(&h(
        "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD\
         EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B\
         0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05\
         98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D\
         670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28F\
         B5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68",
    ));
    let mut p_minus_one = p;
    p_minus_one[255] = 0xfe;
    let mut one = [0u8; 256];
    one[255] = 1;
    let zero = [0u8; 256];
    let mut two = [0u8; 256];
    two[255] = 2;
    let mut p_minus_two = p;
    p_minus_two[255] = 0xfd;
    for bad in [zero, one, p_minus_one, p, [0xff; 256]] {
        assert_eq!(ke.respond(&bad).err(), Some(KeError::InvalidPublic));
        let active = ke.start().expect("start");
        assert_eq!(active.complete(&bad).err(), Some(KeError::InvalidPublic));
    }
    for edge in [two, p_minus_two] {
        assert!(ke.respond(&edge).is_ok(), "2 and p - 2 are in range");
    }
}

/// Symmetric algorithms refuse keys, IVs and buffers of the wrong length.
pub(crate) fn symmetric_wrong_lengths(harness: &Harness) {
    for alg in [
        AeadAlgorithm::Aes128Gcm16,
        AeadAlgorithm::Aes256Gcm16,
        AeadAlgorithm::ChaCha20Poly1305,
    ] {
        let aead = harness.provider.aead(alg).expect("AEAD supported");
        let len = aead.keymat_len();
        for bad in [len - 4, len - 1, len + 1] {
            assert_eq!(
                aead.new_key(&vec![0; bad]).err(),
                Some(CryptoError::InvalidLength)
            );
        }
    }
    for alg in [CbcAlgorithm::Aes128Cbc, CbcAlgorithm::Aes256Cbc] {
        let cbc = harness.provider.cbc(alg).expect("CBC supported");
        assert_eq!(
            cbc.new_key(&vec![0; cbc.key_len() + 1]).err(),
            Some(CryptoError::InvalidLength)
        );
        let key = cbc.new_key(&vec![0; cbc.key_len()]).expect("key");
        let mut unaligned = vec![0; 17];
        assert_eq!(
            key.encrypt_in_place(&[0; 16], &mut unaligned),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            key.decrypt_in_place(&[0; 16], &mut unaligned),
            Err(CryptoError::InvalidLength)
        );
        let mut block = vec![0; 16];
        assert_eq!(
            key.encrypt_in_place(&[0; 8], &mut block),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            key.decrypt_in_place(&[0; 17], &mut block),
            Err(CryptoError::InvalidLength)
        );
        let mut empty = Vec::new();
        assert_eq!(key.encrypt_in_place(&[0; 16], &mut empty), Ok(()));
    }
    for alg in [
        IntegAlgorithm::HmacSha256_128,
        IntegAlgorithm::HmacSha384_192,
        IntegAlgorithm::HmacSha512_256,
    ] {
        let integ = harness.provider.integ(alg).expect("integrity supported");
        assert_eq!(
            integ.new_key(&[0; 20]).err(),
            Some(CryptoError::InvalidLength)
        );
        let key = integ.new_key(&vec![1; integ.key_len()]).expect("key");
        let mut tag = vec![0; integ.tag_len()];
        key.sign(&[b"data"], &mut tag);
        assert!(key.verify(&[b"data"], &tag));
        assert!(!key.verify(&[b"data"], &tag[..tag.len() - 1]), "short tag");
        let mut long = tag.clone();
        long.push(0);
        assert!(!key.verify(&[b"data"], &long), "long tag");
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert!(!key.verify(&[b"data"], &bad), "tampered tag");
        assert!(!key.verify(&[b"dat"], &tag), "other data");
    }
}

/// AEAD round trips over several lengths, with a random key and IV from the provider.
pub(crate) fn aead_random_round_trips(harness: &Harness) {
    for alg in [
        AeadAlgorithm::Aes128Gcm16,
        AeadAlgorithm::Aes256Gcm16,
        AeadAlgorithm::ChaCha20Poly1305,
    ] {
        let aead = harness.provider.aead(alg).expect("AEAD supported");
        let mut keymat = vec![0; aead.keymat_len()];
        harness.provider.fill_random(&mut keymat).expect("random");
        let key = aead.new_key(&keymat).expect("key");
        for len in [0, 1, 15, 16, 17, 64, 1400, 9000] {
            let mut iv = [0u8; AEAD_IV_LEN];
            harness.provider.fill_random(&mut iv).expect("random");
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut data = plaintext.clone();
            let tag = key.seal_in_place(&iv, b"header", &mut data).expect("seal");
            // Shorter ciphertexts can equal the plaintext by chance (2^-8 for one octet).
            if len >= 15 {
                assert_ne!(data, plaintext);
            }
            key.open_in_place(&iv, b"header", &mut data, &tag)
                .expect("open");
            assert_eq!(data, plaintext, "{alg:?} {len}");
        }
    }
}

/// Two draws from the random source differ.
pub(crate) fn random_source_works(harness: &Harness) {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    harness.provider.fill_random(&mut a).expect("random");
    harness.provider.fill_random(&mut b).expect("random");
    assert_ne!(a, b);
    assert_ne!(a, [0; 32]);
    assert!(!harness.provider.name().is_empty());
}
