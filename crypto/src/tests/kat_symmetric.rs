//! Known-answer tests for the PRFs, integrity algorithms, AEADs and CBC ciphers.

use super::harness::{Harness, h};
use crate::{AEAD_IV_LEN, AEAD_TAG_LEN, AeadAlgorithm, CbcAlgorithm, IntegAlgorithm, PrfAlgorithm};

/// RFC 4231 §4.7 and §4.8 share this key.
const KEY_131_AA: [u8; 131] = [0xaa; 131];
/// RFC 4231 §4.7 data.
const DATA_TC6: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";
/// RFC 4231 §4.8 data.
const DATA_TC7: &[u8] = b"This is a test using a larger than block-size key and a larger than \
block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

/// One HMAC case: key, data, and the outputs for SHA-256, SHA-384, SHA-512.
struct HmacCase {
    key: &'static [u8],
    data: &'static [u8],
    sha256: &'static str,
    sha384: &'static str,
    sha512: &'static str,
}

/// RFC 4231 §4.2, §4.3, §4.4, §4.7 and §4.8 (test cases 1, 2, 3, 6, 7; 4 and 5 are covered by
/// these, 5 only tests truncation).
const RFC4231: &[HmacCase] = &[
    HmacCase {
        key: &[0x0b; 20],
        data: b"Hi There",
        sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        sha384: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                 faea9ea9076ede7f4af152e8b2fa9cb6",
        sha512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    },
    HmacCase {
        key: b"Jefe",
        data: b"what do ya want for nothing?",
        sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        sha384: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                 8e2240ca5e69e2c78b3239ecfab21649",
        sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    },
    HmacCase {
        key: &[0xaa; 20],
        data: &[0xdd; 50],
        sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        sha384: "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b\
                 2a5ab39dc13814b94e3ab6e101a34f27",
        sha512: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39\
                 bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
    },
    HmacCase {
        key: &KEY_131_AA,
        data: DATA_TC6,
        sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        sha384: "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                 0c2ef6ab4030fe8296248df163f44952",
        sha512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                 6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    },
    HmacCase {
        key: &KEY_131_AA,
        data: DATA_TC7,
        sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        sha384: "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5\
                 a678cc31e799176d3860e6110c46523e",
        sha512: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944\
                 b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
    },
];

pub(crate) fn hmac_prf_rfc4231(harness: &Harness) {
    for case in RFC4231 {
        for (alg, expected) in [
            (PrfAlgorithm::HmacSha256, case.sha256),
            (PrfAlgorithm::HmacSha384, case.sha384),
            (PrfAlgorithm::HmacSha512, case.sha512),
        ] {
            let prf = harness.provider.prf(alg).expect("PRF supported");
            assert_eq!(prf.algorithm(), alg);
            let expected = h(expected);
            assert_eq!(prf.output_len(), expected.len());
            let key = prf.key(case.key);
            let mut out = vec![0; prf.output_len()];
            key.compute(&[case.data], &mut out);
            assert_eq!(out, expected, "{alg:?}");
            // The same key, the data in pieces (prf+ feeds T(n-1) | S | n this way).
            let (a, b) = case.data.split_at(case.data.len() / 3);
            let mut pieces = vec![0; prf.output_len()];
            key.compute(&[a, &[], b], &mut pieces);
            assert_eq!(pieces, expected, "{alg:?} in pieces");
        }
    }
}

/// RFC 2202 §3: HMAC-SHA-1 test cases 1, 2, 3, 4 and 6 (the legacy PRF_HMAC_SHA1).
pub(crate) fn hmac_sha1_prf_rfc2202(harness: &Harness) {
    let key4: Vec<u8> = (1..=25).collect();
    let cases: [(&[u8], &[u8], &str); 5] = [
        (
            &[0x0b; 20],
            b"Hi There",
            "b617318655057264e28bc0b6fb378c8ef146be00",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
        ),
        (
            &[0xaa; 20],
            &[0xdd; 50],
            "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
        ),
        (
            &key4,
            &[0xcd; 50],
            "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
        ),
        (
            &[0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "aa4ae5e15272d00e95705637ce8a3b55ed402112",
        ),
    ];
    let prf = harness
        .provider
        .prf(PrfAlgorithm::HmacSha1)
        .expect("PRF supported");
    assert_eq!(prf.output_len(), 20);
    for (key, data, expected) in cases {
        let mut out = [0u8; 20];
        prf.key(key).compute(&[data], &mut out);
        assert_eq!(out.to_vec(), h(expected));
    }
}

/// RFC 2404 §3: HMAC-SHA-1-96 is the first 96 bits of RFC 2202's cases with 20-octet keys.
pub(crate) fn hmac_sha1_96_integ_rfc2404(harness: &Harness) {
    let integ = harness
        .provider
        .integ(IntegAlgorithm::HmacSha1_96)
        .expect("integrity supported");
    assert_eq!((integ.key_len(), integ.tag_len()), (20, 12));
    for (key, data, expected) in [
        ([0x0b; 20], &b"Hi There"[..], "b617318655057264e28bc0b6"),
        ([0xaa; 20], &[0xdd; 50][..], "125d7342b9ac11cd91a39af4"),
    ] {
        let k = integ.new_key(&key).expect("key");
        let mut tag = [0u8; 12];
        k.sign(&[data], &mut tag);
        assert_eq!(tag.to_vec(), h(expected));
        assert!(k.verify(&[data], &tag));
        tag[11] ^= 1;
        assert!(!k.verify(&[data], &tag), "a changed tag is refused");
    }
    assert!(integ.new_key(&[0; 16]).is_err(), "the key is 20 octets");
}

/// RFC 4868 §2.7.2.1-2.7.2.3 (authenticator test cases 1 and 2 of each hash; the key is as long
/// as the hash output).
pub(crate) fn hmac_integ_rfc4868(harness: &Harness) {
    let cases: [(IntegAlgorithm, Vec<u8>, &[u8], &str); 6] = [
        (
            IntegAlgorithm::HmacSha256_128,
            vec![0x0b; 32],
            b"Hi There",
            "198a607eb44bfbc69903a0f1cf2bbdc5",
        ),
        (
            IntegAlgorithm::HmacSha256_128,
            b"JefeJefeJefeJefeJefeJefeJefeJefe".to_vec(),
            b"what do ya want for nothing?",
            "167f928588c5cc2eef8e3093caa0e87c",
        ),
        (
            IntegAlgorithm::HmacSha384_192,
            vec![0x0b; 48],
            b"Hi There",
            "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973",
        ),
        (
            IntegAlgorithm::HmacSha384_192,
            b"Jefe".repeat(12),
            b"what do ya want for nothing?",
            "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d",
        ),
        (
            IntegAlgorithm::HmacSha512_256,
            vec![0x0b; 64],
            b"Hi There",
            "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8",
        ),
        (
            IntegAlgorithm::HmacSha512_256,
            b"Jefe".repeat(16),
            b"what do ya want for nothing?",
            "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454",
        ),
    ];
    for (alg, key, data, expected) in cases {
        let integ = harness
            .provider
            .integ(alg)
            .expect("integrity algorithm supported");
        assert_eq!(integ.algorithm(), alg);
        assert_eq!(integ.key_len(), key.len());
        let expected = h(expected);
        assert_eq!(integ.tag_len(), expected.len());
        let key = integ.new_key(&key).expect("key of the right length");
        let mut tag = vec![0; integ.tag_len()];
        key.sign(&[data], &mut tag);
        assert_eq!(tag, expected, "{alg:?}");
        assert!(key.verify(&[&data[..3], &data[3..]], &expected));
    }
}

/// One AEAD case in IPsec framing.
struct AeadCase {
    alg: AeadAlgorithm,
    /// Cipher key followed by the 4-octet salt (the first third of the 12-octet nonce).
    keymat: &'static str,
    /// The last 8 octets of the 12-octet nonce.
    iv: &'static str,
    aad: &'static str,
    plaintext: &'static str,
    ciphertext: &'static str,
    tag: &'static str,
}

/// The 64-octet plaintext of GCM test cases 3, 4, 15 and 16 (4 and 16 use its first 60 octets).
const GCM_PLAINTEXT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";

/// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", appendix B, test cases 3, 4
/// (AES-128) and 15, 16 (AES-256); nonce cafebabe | facedbaddecaf888. RFC 8439 §2.8.2 for
/// ChaCha20-Poly1305; nonce 07000000 | 4041424344454647.
fn aead_cases() -> [AeadCase; 5] {
    [
        AeadCase {
            alg: AeadAlgorithm::Aes128Gcm16,
            keymat: "feffe9928665731c6d6a8f9467308308 cafebabe",
            iv: "facedbaddecaf888",
            aad: "",
            plaintext: GCM_PLAINTEXT,
            ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            tag: "4d5c2af327cd64a62cf35abd2ba6fab4",
        },
        AeadCase {
            alg: AeadAlgorithm::Aes128Gcm16,
            keymat: "feffe9928665731c6d6a8f9467308308 cafebabe",
            iv: "facedbaddecaf888",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            plaintext: &GCM_PLAINTEXT[..120],
            ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            tag: "5bc94fbc3221a5db94fae95ae7121a47",
        },
        AeadCase {
            alg: AeadAlgorithm::Aes256Gcm16,
            keymat: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308 cafebabe",
            iv: "facedbaddecaf888",
            aad: "",
            plaintext: GCM_PLAINTEXT,
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            tag: "b094dac5d93471bdec1a502270e3cc6c",
        },
        AeadCase {
            alg: AeadAlgorithm::Aes256Gcm16,
            keymat: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308 cafebabe",
            iv: "facedbaddecaf888",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            plaintext: &GCM_PLAINTEXT[..120],
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b",
        },
        AeadCase {
            alg: AeadAlgorithm::ChaCha20Poly1305,
            keymat: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f 07000000",
            iv: "4041424344454647",
            aad: "50515253c0c1c2c3c4c5c6c7",
            // "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for
            // the future, sunscreen would be it."
            plaintext: "4c616469657320616e642047656e746c656d656e206f662074686520636c6173\
                        73206f66202739393a204966204920636f756c64206f6666657220796f75206f\
                        6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73\
                        637265656e20776f756c642062652069742e",
            ciphertext: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6\
                         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36\
                         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
                         3ff4def08e4b7a9de576d26586cec64b6116",
            tag: "1ae10b594f09e26a7e902ecbd0600691",
        },
    ]
}

pub(crate) fn aead_gcm_and_chacha_vectors(harness: &Harness) {
    for case in aead_cases() {
        let aead = harness.provider.aead(case.alg).expect("AEAD supported");
        assert_eq!(aead.algorithm(), case.alg);
        let keymat = h(case.keymat);
        assert_eq!(aead.keymat_len(), keymat.len());
        let key = aead
            .new_key(&keymat)
            .expect("key material of the right length");
        let iv: [u8; AEAD_IV_LEN] = h(case.iv).try_into().expect("8-octet IV");
        let aad = h(case.aad);
        let mut data = h(case.plaintext);
        let tag = key.seal_in_place(&iv, &aad, &mut data).expect("seal");
        assert_eq!(data, h(case.ciphertext), "{:?} ciphertext", case.alg);
        assert_eq!(tag.to_vec(), h(case.tag), "{:?} tag", case.alg);
        key.open_in_place(&iv, &aad, &mut data, &tag).expect("open");
        assert_eq!(data, h(case.plaintext));
    }
}

/// Tampering with the tag, the ciphertext, the AAD or the IV fails authentication.
pub(crate) fn aead_tampering_fails(harness: &Harness) {
    for case in aead_cases() {
        let aead = harness.provider.aead(case.alg).expect("AEAD supported");
        let key = aead.new_key(&h(case.keymat)).expect("key");
        let iv: [u8; AEAD_IV_LEN] = h(case.iv).try_into().expect("8-octet IV");
        let aad = h(case.aad);
        let ciphertext = h(case.ciphertext);
        let tag: [u8; AEAD_TAG_LEN] = h(case.tag).try_into().expect("16-octet tag");

        let mut bad_tag = tag;
        bad_tag[15] ^= 0x01;
        let mut data = ciphertext.clone();
        assert_eq!(
            key.open_in_place(&iv, &aad, &mut data, &bad_tag),
            Err(crate::CryptoError::Authentication)
        );

        let mut data = ciphertext.clone();
        data[0] ^= 0x80;
        assert!(key.open_in_place(&iv, &aad, &mut data, &tag).is_err());

        let mut bad_aad = aad.clone();
        bad_aad.push(0);
        let mut data = ciphertext.clone();
        assert!(key.open_in_place(&iv, &bad_aad, &mut data, &tag).is_err());

        let mut bad_iv = iv;
        bad_iv[0] ^= 0x01;
        let mut data = ciphertext.clone();
        assert!(key.open_in_place(&bad_iv, &aad, &mut data, &tag).is_err());
    }
}

/// NIST SP 800-38A appendix F.2.1-F.2.6 (CBC-AES128 and CBC-AES256, encrypt and decrypt).
pub(crate) fn aes_cbc_sp800_38a(harness: &Harness) {
    let iv = h("000102030405060708090a0b0c0d0e0f");
    let plaintext = h(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                       30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    );
    let cases = [
        (
            CbcAlgorithm::Aes128Cbc,
            "2b7e151628aed2a6abf7158809cf4f3c",
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
             73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        (
            CbcAlgorithm::Aes256Cbc,
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
             39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
    ];
    for (alg, key, ciphertext) in cases {
        let cbc = harness.provider.cbc(alg).expect("CBC supported");
        assert_eq!(cbc.algorithm(), alg);
        assert_eq!(cbc.block_len(), 16);
        let key = h(key);
        assert_eq!(cbc.key_len(), key.len());
        let key = cbc.new_key(&key).expect("key of the right length");
        let mut data = plaintext.clone();
        key.encrypt_in_place(&iv, &mut data).expect("encrypt");
        assert_eq!(data, h(ciphertext), "{alg:?}");
        key.decrypt_in_place(&iv, &mut data).expect("decrypt");
        assert_eq!(data, plaintext);
        // CBC chains: decrypting the last two blocks with the previous ciphertext block as IV
        // gives the last two plaintext blocks.
        let ciphertext = h(ciphertext);
        let mut tail = ciphertext[32..].to_vec();
        key.decrypt_in_place(&ciphertext[16..32], &mut tail)
            .expect("decrypt tail");
        assert_eq!(tail, plaintext[32..]);
    }
}
