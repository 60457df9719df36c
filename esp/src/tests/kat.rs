//! Known-answer tests in ESP framing.
//!
//! Sources:
//! - AES-GCM: draft-mcgrew-gcm-test-01 §4 (the ESP packets of its pages 6, 7, 8, 12 and 13).
//!   Those packets carry Next Header 1, so they go through the decrypt step below the
//!   tunnel-mode checks; the IV is the one the vector gives, not our sequence-number IV.
//! - ChaCha20-Poly1305: RFC 7634 Appendix A, a complete tunnel-mode ESP packet.
//! - AES-CBC: RFC 3602 §4 Case #7, a tunnel-mode ESP packet without integrity. Our transform
//!   always has an HMAC, so the test computes the ICV with an independent HMAC implementation
//!   (the `hmac` crate) over the coverage RFC 4303 §2.2.1 and §3.3.4 define.
//! - HMAC-SHA1-96 (RFC 2404, legacy peers only): the same Case #7 packet; its ICVs were
//!   computed with Python's `hmac`/`hashlib` (no SHA-1 crate is a dependency of `esp`):
//!   `hmac.new(bytes(range(0x20, 0x34)), packet [+ ESN high bits], sha1).digest()[:12]`.

use hmac::{Hmac, Mac};
use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm};
use sha2::Sha256;

use super::{config, providers, unhex};
use crate::{Cipher, DropReason, InboundSa, Opened, OutboundSa};

/// One ESP packet of draft-mcgrew-gcm-test-01.
struct GcmVector {
    source: &'static str,
    alg: AeadAlgorithm,
    keymat: &'static str,
    spi: u32,
    seq: u64,
    esn: bool,
    iv: &'static str,
    /// Payload with padding, Pad Length and Next Header.
    plaintext: &'static str,
    ciphertext: &'static str,
    icv: &'static str,
}

const GCM_VECTORS: [GcmVector; 5] = [
    GcmVector {
        source: "draft-mcgrew-gcm-test-01 page 6 (ESN)",
        alg: AeadAlgorithm::Aes128Gcm16,
        keymat: "4c80cdef bb5d10da 906ac73c 3613a634 2e443b68",
        spi: 0x0000_4321,
        seq: 0x8765_4321_0000_0000,
        esn: true,
        iv: "4956ed7e 3b244cfe",
        plaintext: "45000048 699a0000 80114db7 c0a80102 c0a80101 0a9bf156 38d30100 00010000
                    00000000 045f7369 70045f75 64700373 69700963 79626572 63697479 02646b00
                    00210001 01020201",
        ciphertext: "fecf537e 729d5b07 dc30df52 8dd22b76 8d1b9873 6696a6fd 348509fa 13ceac34
                     cfa2436f 14a3f3cf 65925bf1 f4a13c5d 15b21e18 84f5ff62 47aeabb7 86b93bce
                     61bc17d7 68fd9732",
        icv: "45901814 8f6cbe72 2fd04796 562dfdb4",
    },
    GcmVector {
        source: "draft-mcgrew-gcm-test-01 page 7",
        alg: AeadAlgorithm::Aes128Gcm16,
        keymat: "feffe992 8665731c 6d6a8f94 67308308 cafebabe",
        spi: 0x0000_a5f8,
        seq: 0x0a,
        esn: false,
        iv: "facedbad decaf888",
        plaintext: "4500003e 698f0000 80114dcc c0a80102 c0a80101 0a980035 002a2343 b2d00100
                    00010000 00000000 03736970 09637962 65726369 74790264 6b000001 00010001",
        ciphertext: "deb22cd9 b07c72c1 6e3a65be eb8df304 a5a5897d 33ae530f 1ba76d5d 114d2a5c
                     3de81827 c10e9a4f 51330d0e ec416642 cfbb85a5 b47e48a4 ec3b9ba9 5d918bd1",
        icv: "83b70d3a a8bc6ee4 c309e9d8 5a41ad4a",
    },
    GcmVector {
        source: "draft-mcgrew-gcm-test-01 page 8",
        alg: AeadAlgorithm::Aes256Gcm16,
        keymat: "abbccdde f0011223 34455667 78899aab abbccdde f0011223 34455667 78899aab
                 11223344",
        spi: 0x4a2c_bfe3,
        seq: 2,
        esn: false,
        iv: "01020304 05060708",
        plaintext: "45000030 69a64000 80062690 c0a80102 9389155e 0a9e008b 2dc57ee0 00000000
                    70024000 20bf0000 020405b4 01010402 01020201",
        ciphertext: "ff425c9b 724599df 7a3bcd51 0194e00d 6a78107f 1b0b1cbf 06efae9d 65a5d763
                     748a6379 85771d34 7f054565 9f14e99d ef842d8e",
        icv: "b335f4ee cfdbf831 824b4c49 15956c96",
    },
    GcmVector {
        source: "draft-mcgrew-gcm-test-01 page 12 (ESN, high half zero)",
        alg: AeadAlgorithm::Aes128Gcm16,
        keymat: "abbccdde f0011223 34455667 78899aab decaf888",
        spi: 0x0000_0100,
        seq: 1,
        esn: true,
        iv: "cafedeba ceface74",
        plaintext: "45000049 33ba0000 7f119106 c3fb1d10 c2b1d326 c02831ce 0035dd7b 800302d5
                    00004e20 001e8c18 d75b81dc 91baa047 6b91b924 b280389d 92c963ba c046ec95
                    9b6266c0 4722b149 23010101",
        ciphertext: "18a6fd42 f72cbf4a b2a2ea90 1f73d814 e3e7f243 d95412e1 c349c1d2 fbec168f
                     9190feeb af2cb019 84e65863 965d7472 b79da345 e0e78019 1f0d2f0e 0f496c22
                     6f2127b2 7db35724 e7845d68",
        icv: "651f57e6 5f354f75 ff170157 69623436",
    },
    GcmVector {
        source: "draft-mcgrew-gcm-test-01 page 13 (ESN)",
        alg: AeadAlgorithm::Aes256Gcm16,
        keymat: "abbccdde f0011223 34455667 78899aab abbccdde f0011223 34455667 78899aab
                 73616c74",
        spi: 0x1740_5e67,
        seq: 0x156f_3126_dd0d_b99b,
        esn: true,
        iv: "616e6401 69766563",
        plaintext: "45080028 732c0000 4006e9f9 0a010612 0a01038f 06b88023 dd6bafbe cb712602
                    50101f64 6d540001",
        ciphertext: "f2d69ecd bd5a0d5b 8d5ef38b ad4da58d 1f278fde 98ef6754 9d524a30 18d9a57f
                     f4d3a31c e673119e",
        icv: "451626c2 415771e3 b7eebca6 14c89b35",
    },
];

/// The ESP packet a vector describes: SPI, low sequence bits, IV, ciphertext, ICV.
fn esp_packet(spi: u32, seq: u64, iv: &[u8], ciphertext: &[u8], icv: &[u8]) -> Vec<u8> {
    let mut p = spi.to_be_bytes().to_vec();
    p.extend_from_slice(&((seq & 0xffff_ffff) as u32).to_be_bytes());
    p.extend_from_slice(iv);
    p.extend_from_slice(ciphertext);
    p.extend_from_slice(icv);
    p
}

/// Seals `payload` (without trailer) with the vector's sequence number and IV, through the same
/// framing and transform [`OutboundSa::seal`] uses.
fn seal_with_iv(sa: &OutboundSa, payload: &[u8], next_header: u8, seq: u64, iv: &[u8]) -> Vec<u8> {
    let start = OutboundSa::HEADROOM;
    let mut buf = vec![0; start + payload.len() + OutboundSa::TAILROOM];
    buf[start..start + payload.len()].copy_from_slice(payload);
    let range = sa
        .frame(&mut buf, start, payload.len(), next_header, seq)
        .unwrap();
    let packet = &mut buf[range];
    packet[8..8 + iv.len()].copy_from_slice(iv);
    let high = sa.is_esn().then_some((seq >> 32) as u32);
    sa.transform().seal(packet, high).unwrap();
    packet.to_vec()
}

/// An inbound SA whose window's right edge sits just before `seq`.
fn inbound_before(sa: &mut InboundSa, seq: u64) {
    sa.replay_mut().set_top(seq - 1);
}

#[test]
fn draft_mcgrew_gcm_packets_open_and_seal() {
    for provider in providers() {
        for v in &GCM_VECTORS {
            let name = format!("{} with {}", v.source, provider.name());
            let keymat = unhex(v.keymat);
            let plaintext = unhex(v.plaintext);
            let expected = esp_packet(
                v.spi,
                v.seq,
                &unhex(v.iv),
                &unhex(v.ciphertext),
                &unhex(v.icv),
            );
            let pad_len = usize::from(plaintext[plaintext.len() - 2]);
            let inner_len = plaintext.len() - 2 - pad_len;
            let next_header = plaintext[plaintext.len() - 1];

            let mut inbound =
                InboundSa::new(provider, config(v.spi, Cipher::Aead(v.alg), &keymat, v.esn))
                    .unwrap();
            inbound_before(&mut inbound, v.seq);
            let mut packet = expected.clone();
            let (range, nh) = inbound
                .decrypt(&mut packet)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(range, 16..16 + inner_len, "{name}");
            assert_eq!(&packet[16..16 + plaintext.len()], &plaintext[..], "{name}");
            assert_eq!(nh, next_header, "{name}");
            assert_eq!(inbound.highest_sequence(), v.seq, "{name}");

            // Next Header 1 is not a tunnel-mode payload.
            let mut fresh =
                InboundSa::new(provider, config(v.spi, Cipher::Aead(v.alg), &keymat, v.esn))
                    .unwrap();
            inbound_before(&mut fresh, v.seq);
            assert_eq!(
                fresh.open(&mut expected.clone()),
                Err(DropReason::BadNextHeader),
                "{name}"
            );

            let outbound =
                OutboundSa::new(provider, config(v.spi, Cipher::Aead(v.alg), &keymat, v.esn))
                    .unwrap();
            let sealed = seal_with_iv(
                &outbound,
                &plaintext[..inner_len],
                next_header,
                v.seq,
                &unhex(v.iv),
            );
            assert_eq!(sealed, expected, "{name}");
        }
    }
}

#[test]
fn rfc7634_appendix_a_chacha20_poly1305_packet() {
    let keymat =
        unhex("80818283 84858687 88898a8b 8c8d8e8f 90919293 94959697 98999a9b 9c9d9e9f a0a1a2a3");
    let inner = unhex(
        "45000054 a6f20000 4001e778 c6336405 c0000205 08005b7a 3a080000 553bec10
         00073627 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f 20212223
         24252627 28292a2b 2c2d2e2f 30313233 34353637",
    );
    let ciphertext = unhex(
        "24039428 b97f417e 3c13753a 4f05087b 67c352e6 a7fab1b9 82d466ef 407ae5c6
         14ee8099 d52844eb 61aa95df ab4c02f7 2aa71e7c 4c4f64c9 befe2fac c638e8f3
         cbec163f ac469b50 2773f6fb 94e664da 9165b828 29f641e0",
    );
    let icv = unhex("76aaa826 6b7fb0f7 b11b3699 07e1ad43");
    let iv = unhex("10111213 14151617");
    let expected = esp_packet(0x0102_0304, 5, &iv, &ciphertext, &icv);
    let cipher = Cipher::Aead(AeadAlgorithm::ChaCha20Poly1305);
    for provider in providers() {
        let mut inbound =
            InboundSa::new(provider, config(0x0102_0304, cipher, &keymat, false)).unwrap();
        let mut packet = expected.clone();
        let opened = inbound.open(&mut packet).unwrap();
        assert_eq!(
            opened,
            Opened {
                inner: 16..16 + inner.len(),
                next_header: 4
            }
        );
        assert_eq!(&packet[opened.inner], &inner[..]);
        assert_eq!(
            inbound.open(&mut expected.clone()),
            Err(DropReason::Replayed)
        );

        let outbound =
            OutboundSa::new(provider, config(0x0102_0304, cipher, &keymat, false)).unwrap();
        assert_eq!(
            seal_with_iv(&outbound, &inner, 4, 5, &iv),
            expected,
            "{}",
            provider.name()
        );
    }
}

/// RFC 3602 §4 Case #7 (tunnel mode, AES-128-CBC), with an HMAC-SHA-256-128 ICV appended.
struct CbcCase {
    keymat: Vec<u8>,
    integ_key: Vec<u8>,
    inner: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn rfc3602_case7() -> CbcCase {
    let encr_key = unhex("01234567 89abcdef 01234567 89abcdef");
    let integ_key: Vec<u8> = (0x20..0x40).collect();
    CbcCase {
        keymat: [encr_key, integ_key.clone()].concat(),
        integ_key,
        inner: unhex(
            "45000054 09040000 4001f988 c0a87b03 c0a87bc8 08009f76 a90a0100 b49c083d
             02a20400 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f 20212223
             24252627 28292a2b 2c2d2e2f 30313233 34353637",
        ),
        iv: unhex("f4e76524 4f6407ad f13dc138 0f673f37"),
        ciphertext: unhex(
            "773b5241 a4c44922 5e4f3ce5 ed611b0c 237ca96c f74a9301 3c1b0ea1 a0cf70f8
             e4ecaec7 8ac53aad 7a0f022b 859243c6 47752e94 a859352b 8a4d4d2d ecd136e5
             c177f132 ad3fbfb2 201ac990 4c74ee0a 109e0ca1 e4dfe9d5 a100b842 f1c22f0d",
        ),
    }
}

/// HMAC-SHA-256-128 over the packet and, with ESN, the high sequence bits after it.
fn independent_icv(key: &[u8], packet: &[u8], seq_high: Option<u32>) -> Vec<u8> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap();
    mac.update(packet);
    if let Some(high) = seq_high {
        mac.update(&high.to_be_bytes());
    }
    mac.finalize().into_bytes()[..16].to_vec()
}

#[test]
fn rfc3602_case7_cbc_packet_with_independent_hmac() {
    let case = rfc3602_case7();
    let cipher = Cipher::Cbc {
        cipher: CbcAlgorithm::Aes128Cbc,
        integ: IntegAlgorithm::HmacSha256_128,
    };
    for provider in providers() {
        for seq in [2u64, 0x1_0000_0002] {
            let esn = seq > u64::from(u32::MAX);
            let mut unsigned = esp_packet(0x8765, seq, &case.iv, &case.ciphertext, &[]);
            let icv = independent_icv(
                &case.integ_key,
                &unsigned,
                esn.then_some((seq >> 32) as u32),
            );
            unsigned.extend_from_slice(&icv);
            let expected = unsigned;

            let mut inbound =
                InboundSa::new(provider, config(0x8765, cipher, &case.keymat, esn)).unwrap();
            inbound_before(&mut inbound, seq);
            let mut packet = expected.clone();
            let opened = inbound.open(&mut packet).unwrap();
            assert_eq!(
                opened,
                Opened {
                    inner: 24..24 + case.inner.len(),
                    next_header: 4
                }
            );
            assert_eq!(&packet[opened.inner], &case.inner[..]);

            let outbound =
                OutboundSa::new(provider, config(0x8765, cipher, &case.keymat, esn)).unwrap();
            let sealed = seal_with_iv(&outbound, &case.inner, 4, seq, &case.iv);
            assert_eq!(sealed, expected, "{} esn={esn}", provider.name());
        }
    }
}

#[test]
fn cbc_icv_covers_the_esn_high_bits() {
    let case = rfc3602_case7();
    let cipher = Cipher::Cbc {
        cipher: CbcAlgorithm::Aes128Cbc,
        integ: IntegAlgorithm::HmacSha256_128,
    };
    let provider = providers()[0];
    // ICV computed without the high bits, as a peer that forgot them would.
    let mut packet = esp_packet(0x8765, 0x1_0000_0002, &case.iv, &case.ciphertext, &[]);
    let icv = independent_icv(&case.integ_key, &packet, None);
    packet.extend_from_slice(&icv);
    let mut inbound = InboundSa::new(provider, config(0x8765, cipher, &case.keymat, true)).unwrap();
    inbound_before(&mut inbound, 0x1_0000_0002);
    assert_eq!(inbound.open(&mut packet), Err(DropReason::Authentication));
    assert_eq!(inbound.highest_sequence(), 0x1_0000_0001);
}

#[test]
fn rfc3602_case7_cbc_packet_with_hmac_sha1_96() {
    let case = rfc3602_case7();
    let integ_key: Vec<u8> = (0x20..0x34).collect();
    let keymat = [&case.keymat[..16], &integ_key].concat();
    let cipher = Cipher::Cbc {
        cipher: CbcAlgorithm::Aes128Cbc,
        integ: IntegAlgorithm::HmacSha1_96,
    };
    for provider in providers() {
        for (seq, icv) in [
            (2u64, "cff2bdc2 07ceb804 a67b5470"),
            (0x1_0000_0002, "41966fe4 af984cb9 c33094d4"),
        ] {
            let esn = seq > u64::from(u32::MAX);
            let expected = esp_packet(0x8765, seq, &case.iv, &case.ciphertext, &unhex(icv));
            let mut inbound =
                InboundSa::new(provider, config(0x8765, cipher, &keymat, esn)).unwrap();
            inbound_before(&mut inbound, seq);
            let mut packet = expected.clone();
            let opened = inbound.open(&mut packet).unwrap();
            assert_eq!(&packet[opened.inner], &case.inner[..]);

            let outbound = OutboundSa::new(provider, config(0x8765, cipher, &keymat, esn)).unwrap();
            let sealed = seal_with_iv(&outbound, &case.inner, 4, seq, &case.iv);
            assert_eq!(sealed, expected, "{} esn={esn}", provider.name());
        }
    }
}
