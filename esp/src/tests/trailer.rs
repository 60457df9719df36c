//! Trailer and inner-packet checks on packets whose ICV is valid: padding (RFC 4303 §2.4),
//! Next Header, dummy packets (§2.6) and TFC padding (§2.7).

use ipsec_crypto::{CbcAlgorithm, IntegAlgorithm};

use super::{config, gcm_pair, ipv4_packet, providers};
use crate::{Cipher, DropReason, InboundSa, Opened, OutboundSa};

/// Frames `payload` with `next_header`, lets `edit` change the plaintext packet, then seals it.
fn sealed_with(
    out: &OutboundSa,
    payload: &[u8],
    next_header: u8,
    seq: u64,
    edit: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let start = OutboundSa::HEADROOM;
    let mut buf = vec![0; start + payload.len() + OutboundSa::TAILROOM];
    buf[start..start + payload.len()].copy_from_slice(payload);
    let range = out
        .frame(&mut buf, start, payload.len(), next_header, seq)
        .unwrap();
    let packet = &mut buf[range];
    edit(packet);
    out.transform().seal(packet, None).unwrap();
    packet.to_vec()
}

#[test]
fn padding_is_checked_after_the_icv() {
    for provider in providers() {
        let (out, mut inb) = gcm_pair(provider, false, 64);
        // 39 + 2 = 41: three pad bytes 1, 2, 3.
        let inner = ipv4_packet(39, 7);
        let good = sealed_with(&out, &inner, 4, 1, |_| {});
        let trailer = good.len() - 16 - 5;
        assert_eq!(good.len(), 16 + 39 + 3 + 2 + 16);

        let mut p = sealed_with(&out, &inner, 4, 2, |p| p[trailer + 1] = 9);
        assert_eq!(inb.open(&mut p), Err(DropReason::BadPadding));
        let mut p = sealed_with(&out, &inner, 4, 3, |p| p[trailer + 3] = 200);
        assert_eq!(inb.open(&mut p), Err(DropReason::BadPadding));
        // The packets were authentic: the window still recorded them.
        assert_eq!(inb.highest_sequence(), 3);
        assert_eq!(inb.drops().bad_padding, 2);
        let mut p = good;
        assert!(inb.open(&mut p).is_ok());
    }
}

#[test]
fn next_header_must_match_the_inner_version() {
    let (out, mut inb) = gcm_pair(providers()[0], false, 64);
    let inner = ipv4_packet(40, 1);
    let mut p = sealed_with(&out, &inner, 41, 1, |_| {});
    assert_eq!(inb.open(&mut p), Err(DropReason::BadNextHeader));
    let mut p = sealed_with(&out, &inner, 17, 2, |_| {});
    assert_eq!(inb.open(&mut p), Err(DropReason::BadNextHeader));
    let mut p = sealed_with(&out, &[0x45, 0, 0, 10], 4, 3, |_| {});
    assert_eq!(inb.open(&mut p), Err(DropReason::InvalidInnerPacket));
    assert_eq!(inb.drops().bad_next_header, 2);
    assert_eq!(inb.drops().invalid_inner_packet, 1);
}

#[test]
fn tfc_padding_after_the_inner_packet_is_cut_off() {
    let (out, mut inb) = gcm_pair(providers()[0], false, 64);
    let inner = ipv4_packet(40, 1);
    let mut payload = inner.clone();
    payload.extend_from_slice(&[0; 100]);
    let mut p = sealed_with(&out, &payload, 4, 1, |_| {});
    let opened = inb.open(&mut p).unwrap();
    assert_eq!(
        opened,
        Opened {
            inner: 16..56,
            next_header: 4
        }
    );
    assert_eq!(&p[opened.inner], &inner[..]);
}

#[test]
fn dummy_packets_are_authenticated_counted_and_dropped() {
    let (mut out, mut inb) = gcm_pair(providers()[0], false, 64);
    let mut buf = vec![0xee; 200];
    let range = out.seal_dummy(&mut buf, OutboundSa::HEADROOM, 30).unwrap();
    let mut p = buf[range].to_vec();
    assert_eq!(inb.open(&mut p.clone()), Err(DropReason::DummyPacket));
    assert_eq!(inb.open(&mut p), Err(DropReason::Replayed));
    assert_eq!(inb.drops().dummy_packet, 1);
    assert_eq!(inb.highest_sequence(), 1);
}

#[test]
fn cbc_pads_to_the_block_and_rejects_partial_blocks() {
    let cipher = Cipher::Cbc {
        cipher: CbcAlgorithm::Aes256Cbc,
        integ: IntegAlgorithm::HmacSha512_256,
    };
    let keymat = [7u8; 32 + 64];
    for provider in providers() {
        let mut out = OutboundSa::new(provider, config(9, cipher, &keymat, false)).unwrap();
        let mut inb = InboundSa::new(provider, config(9, cipher, &keymat, false)).unwrap();
        for len in [28usize, 29, 30, 44, 45, 1400] {
            let inner = ipv4_packet(len, 3);
            let p = super::seal(&mut out, &inner);
            let ciphertext = p.len() - 8 - 16 - 32;
            assert_eq!(ciphertext % 16, 0);
            assert!(ciphertext >= len + 2 && ciphertext < len + 2 + 16);
            assert_eq!(p.len(), out.packet_len(len));
            let opened = inb.open(&mut p.clone()).unwrap();
            assert_eq!(opened.inner.len(), len);
        }
        // A ciphertext that is not a whole number of blocks is refused before the ICV.
        let mut p = super::seal(&mut out, &ipv4_packet(40, 1));
        p.remove(30);
        assert_eq!(inb.open(&mut p), Err(DropReason::Malformed));
    }
}
