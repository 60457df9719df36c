//! Sequence numbers at the edges: the 2^32 boundary with ESN, the last number with and without
//! ESN (RFC 4303 §2.2.1, §3.3.3, Appendix A), and the rekey asked for `SEQUENCE_REKEY_MARGIN`
//! numbers before the last.

use ipsec_crypto::AeadAlgorithm;

use super::{config, gcm_pair, ipv4_packet, providers, seal};
use crate::{Cipher, DropReason, OutboundSa, SEQUENCE_REKEY_MARGIN, SaEvent};

#[test]
fn esn_traffic_crosses_2_32_in_any_order() {
    for provider in providers() {
        let (mut out, mut inb) = gcm_pair(provider, true, 64);
        let first = (1u64 << 32) - 3;
        out.set_next_sequence(first);
        inb.replay_mut().set_top(first - 10);
        let inner = ipv4_packet(60, 0xab);
        let packets: Vec<Vec<u8>> = (0..6).map(|_| seal(&mut out, &inner)).collect();
        for (i, p) in packets.iter().enumerate() {
            let seq = first + i as u64;
            // Only the low half travels; the AEAD IV is the whole 64-bit number.
            assert_eq!(p[4..8], ((seq & 0xffff_ffff) as u32).to_be_bytes());
            assert_eq!(p[8..16], seq.to_be_bytes());
        }
        // Deliver the packets after the boundary first, then the late ones from before it.
        for i in [3, 5, 0, 4, 2, 1] {
            let mut p = packets[i].clone();
            let opened = inb
                .open(&mut p)
                .unwrap_or_else(|e| panic!("packet {i}: {e}"));
            assert_eq!(&p[opened.inner], &inner[..]);
        }
        assert_eq!(inb.highest_sequence(), first + 5);
        for p in &packets {
            assert_eq!(inb.open(&mut p.clone()), Err(DropReason::Replayed));
        }
    }
}

#[test]
fn esn_high_bits_are_authenticated() {
    let provider = providers()[0];
    let (mut out, mut inb) = gcm_pair(provider, true, 64);
    out.set_next_sequence((1 << 32) + 1);
    let mut p = seal(&mut out, &ipv4_packet(40, 1));
    // The receiver's window covers low number 1 of block 0, so it guesses high bits 0: the ICV
    // must fail.
    inb.replay_mut().set_top(20);
    assert_eq!(inb.open(&mut p), Err(DropReason::Authentication));
    assert_eq!(inb.highest_sequence(), 20);
    assert_eq!(inb.drops().authentication, 1);
}

#[test]
fn without_esn_the_last_sequence_number_is_2_32_minus_1() {
    let provider = providers()[0];
    let (mut out, mut inb) = gcm_pair(provider, false, 64);
    out.set_next_sequence(u64::from(u32::MAX) - 1);
    inb.replay_mut().set_top(u64::from(u32::MAX) - 5);
    let inner = ipv4_packet(40, 2);
    for _ in 0..2 {
        let mut p = seal(&mut out, &inner);
        inb.open(&mut p).unwrap();
    }
    // Inside the rekey margin, so a rekey was asked for before the numbers ran out.
    assert_eq!(out.poll_event(), Some(SaEvent::SoftLifetime));
    assert_eq!(out.poll_event(), Some(SaEvent::SequenceExhausted));
    assert!(out.is_expired());
    let mut buf = vec![0; 200];
    buf[OutboundSa::HEADROOM..][..40].copy_from_slice(&inner);
    assert_eq!(
        out.seal(&mut buf, OutboundSa::HEADROOM, 40),
        Err(DropReason::SequenceExhausted)
    );
    assert_eq!(out.poll_event(), None);
    assert_eq!(out.drops().sequence_exhausted, 1);
    assert_eq!(inb.highest_sequence(), u64::from(u32::MAX));
}

#[test]
fn with_esn_the_last_sequence_number_is_2_64_minus_1() {
    let provider = providers()[0];
    let (mut out, mut inb) = gcm_pair(provider, true, 64);
    out.set_next_sequence(u64::MAX);
    inb.replay_mut().set_top(u64::MAX - 1);
    let inner = ipv4_packet(40, 3);
    let mut p = seal(&mut out, &inner);
    inb.open(&mut p).unwrap();
    assert_eq!(inb.highest_sequence(), u64::MAX);
    assert_eq!(out.poll_event(), Some(SaEvent::SoftLifetime));
    assert_eq!(out.poll_event(), Some(SaEvent::SequenceExhausted));
    let mut buf = vec![0; 200];
    buf[OutboundSa::HEADROOM..][..40].copy_from_slice(&inner);
    assert_eq!(
        out.seal(&mut buf, OutboundSa::HEADROOM, 40),
        Err(DropReason::SequenceExhausted)
    );
}

#[test]
fn sequence_zero_is_never_accepted() {
    let provider = providers()[0];
    let (mut out, mut inb) = gcm_pair(provider, false, 64);
    out.set_next_sequence(0);
    let mut p = seal(&mut out, &ipv4_packet(40, 4));
    assert_eq!(inb.open(&mut p), Err(DropReason::OutsideWindow));
}

/// Seals one packet and returns the events it raised.
fn seal_events(out: &mut OutboundSa) -> Vec<SaEvent> {
    seal(out, &ipv4_packet(40, 5));
    std::iter::from_fn(|| out.poll_event()).collect()
}

#[test]
fn without_esn_a_rekey_is_asked_for_2_24_numbers_before_2_32() {
    let provider = providers()[0];
    let (mut out, _) = gcm_pair(provider, false, 64);
    let soft = (1u64 << 32) - SEQUENCE_REKEY_MARGIN;
    out.set_next_sequence(soft - 2);
    assert_eq!(seal_events(&mut out), []);
    assert_eq!(seal_events(&mut out), [], "2^32 - 2^24 - 1: not yet");
    assert_eq!(seal_events(&mut out), [SaEvent::SoftLifetime]);
    assert_eq!(seal_events(&mut out), [], "raised once");
    assert!(!out.is_expired(), "traffic goes on while the rekey runs");
    // The hard limit stays where the numbers end.
    out.set_next_sequence(u64::from(u32::MAX));
    assert_eq!(seal_events(&mut out), [SaEvent::SequenceExhausted]);
    assert!(out.is_expired());
}

#[test]
fn with_esn_a_rekey_is_asked_for_2_24_numbers_before_2_64() {
    let provider = providers()[0];
    let (mut out, mut inb) = gcm_pair(provider, true, 64);
    // Past 2^32, nothing: ESN has 2^64 numbers.
    out.set_next_sequence((1 << 32) + 7);
    assert_eq!(seal_events(&mut out), []);
    let soft = u64::MAX - SEQUENCE_REKEY_MARGIN + 1;
    out.set_next_sequence(soft - 1);
    inb.replay_mut().set_top(soft - 10);
    let inner = ipv4_packet(40, 6);
    let mut p = seal(&mut out, &inner);
    assert_eq!(out.poll_event(), None);
    inb.open(&mut p).unwrap();
    let mut p = seal(&mut out, &inner);
    assert_eq!(out.poll_event(), Some(SaEvent::SoftLifetime));
    inb.open(&mut p).unwrap();
    assert_eq!(inb.highest_sequence(), soft, "the peer still accepts it");
    out.set_next_sequence(u64::MAX);
    assert_eq!(seal_events(&mut out), [SaEvent::SequenceExhausted]);
}

#[test]
fn a_soft_packet_lifetime_and_the_sequence_margin_raise_one_event() {
    let cipher = Cipher::Aead(AeadAlgorithm::Aes256Gcm16);
    let mut cfg = config(7, cipher, &[0x5a; 36], false);
    cfg.lifetime.soft_packets = Some(1);
    let mut out = OutboundSa::new(providers()[0], cfg).unwrap();
    out.set_next_sequence((1 << 32) - SEQUENCE_REKEY_MARGIN);
    assert_eq!(seal_events(&mut out), [SaEvent::SoftLifetime]);
    assert_eq!(
        seal_events(&mut out),
        [],
        "one rekey asked for, whatever the reasons"
    );
}
