//! Seal → open through the public API for every transform and provider, IPv4 and IPv6, with
//! and without ESN; tampering, truncation, buffer limits and lifetimes.

#![allow(clippy::unwrap_used)]

mod common;

use common::{CIPHERS, ipv4, ipv6, pair, providers, seal};
use esp::{
    Cipher, DropReason, InboundSa, Lifetime, NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, OutboundSa,
    SaEvent,
};

#[test]
fn every_transform_round_trips_ipv4_and_ipv6() {
    for provider in providers() {
        for cipher in CIPHERS {
            for esn in [false, true] {
                let (mut out, mut inb) = pair(provider, cipher, esn);
                let cases = [
                    ipv4(28, 1),
                    ipv4(29, 2),
                    ipv4(64, 3),
                    ipv4(1400, 4),
                    ipv6(48, 5),
                    ipv6(1399, 6),
                ];
                for (i, inner) in cases.iter().enumerate() {
                    let mut packet = seal(&mut out, inner);
                    assert_eq!(packet.len(), out.packet_len(inner.len()));
                    assert_eq!(packet[..4], 0xc0ff_ee01u32.to_be_bytes());
                    assert_eq!(packet[4..8], (i as u32 + 1).to_be_bytes());
                    let opened = inb.open(&mut packet).unwrap_or_else(|e| {
                        panic!("{cipher:?} {} esn={esn}: {e}", provider.name())
                    });
                    assert_eq!(&packet[opened.inner.clone()], &inner[..]);
                    let expected = if inner[0] >> 4 == 4 {
                        NEXT_HEADER_IPV4
                    } else {
                        NEXT_HEADER_IPV6
                    };
                    assert_eq!(opened.next_header, expected);
                    assert_eq!(opened.inner.start, out.headroom());
                }
                assert_eq!(out.counters().packets, 6);
                assert_eq!(inb.counters(), out.counters());
                assert_eq!(inb.drops().total(), 0);
            }
        }
    }
}

#[test]
fn providers_interoperate() {
    let [a, b] = providers();
    for cipher in CIPHERS {
        let (mut out, _) = pair(a, cipher, true);
        let (_, mut inb) = pair(b, cipher, true);
        let inner = ipv4(100, 9);
        let mut packet = seal(&mut out, &inner);
        let opened = inb.open(&mut packet).unwrap();
        assert_eq!(&packet[opened.inner], &inner[..]);
    }
}

#[test]
fn tampering_with_any_byte_fails_and_leaves_the_window_alone() {
    let provider = providers()[0];
    for cipher in CIPHERS {
        let (mut out, mut inb) = pair(provider, cipher, false);
        let packet = seal(&mut out, &ipv4(61, 7));
        for at in 0..packet.len() {
            for flip in [0x01, 0x80] {
                let mut p = packet.clone();
                p[at] ^= flip;
                let result = inb.open(&mut p);
                assert!(
                    result.is_err(),
                    "{cipher:?}: byte {at} ^ {flip:#x} accepted"
                );
            }
        }
        assert_eq!(
            inb.highest_sequence(),
            0,
            "{cipher:?}: a forgery moved the window"
        );
        assert_eq!(inb.counters().packets, 0);
        let mut p = packet.clone();
        assert!(inb.open(&mut p).is_ok(), "{cipher:?}");
    }
}

/// ESP `aes256-sha1` (free5GC's UE): a 12-octet ICV (RFC 2404 §3) after AES-CBC-256, both
/// providers either way; a changed ICV octet is an authentication drop, counted, and the
/// window and counters stay as they were.
#[test]
fn aes256_cbc_hmac_sha1_96_round_trips_and_a_tampered_icv_is_dropped() {
    let cipher = *CIPHERS.last().unwrap();
    let [a, b] = providers();
    for (sealer, opener) in [(a, b), (b, a)] {
        let (mut out, _) = pair(sealer, cipher, false);
        let (_, mut inb) = pair(opener, cipher, false);
        let inner = ipv4(61, 3);
        let packet = seal(&mut out, &inner);
        // Header 8, IV 16, 61 + 2 trailer octets padded to 64, ICV 12.
        assert_eq!(packet.len(), 8 + 16 + 64 + 12);
        let mut tampered = packet.clone();
        *tampered.last_mut().unwrap() ^= 0x01;
        assert_eq!(inb.open(&mut tampered), Err(DropReason::Authentication));
        assert_eq!(inb.drops().authentication, 1);
        assert_eq!(inb.drops().total(), 1);
        assert_eq!((inb.highest_sequence(), inb.counters().packets), (0, 0));
        let mut good = packet.clone();
        let opened = inb.open(&mut good).unwrap();
        assert_eq!(&good[opened.inner], &inner[..]);
        assert_eq!(inb.counters().packets, 1);
    }
}

#[test]
fn truncated_and_extended_packets_are_refused() {
    let provider = providers()[0];
    for cipher in CIPHERS {
        let (mut out, mut inb) = pair(provider, cipher, true);
        let packet = seal(&mut out, &ipv6(80, 1));
        for len in 0..packet.len() {
            assert!(
                inb.open(&mut packet[..len].to_vec()).is_err(),
                "{cipher:?} len {len}"
            );
        }
        let mut longer = packet.clone();
        longer.push(0);
        assert!(inb.open(&mut longer).is_err());
        assert!(inb.drops().truncated > 0);
        assert!(inb.open(&mut packet.clone()).is_ok());
    }
}

#[test]
fn a_packet_for_another_spi_is_refused_by_the_sa() {
    let provider = providers()[0];
    let (mut out, mut inb) = pair(provider, CIPHERS[1], false);
    let mut packet = seal(&mut out, &ipv4(40, 1));
    packet[3] ^= 1;
    assert_eq!(inb.open(&mut packet), Err(DropReason::UnknownSpi));
    assert_eq!(inb.drops().unknown_spi, 1);
}

#[test]
fn seal_checks_the_buffer_and_the_inner_packet() {
    let provider = providers()[0];
    let (mut out, _) = pair(provider, CIPHERS[4], false);
    assert!(out.headroom() <= OutboundSa::HEADROOM);
    assert!(out.tailroom(1) <= OutboundSa::TAILROOM);
    let inner = ipv4(100, 0);
    let mut buf = vec![0; 300];
    buf[10..110].copy_from_slice(&inner);
    assert_eq!(out.seal(&mut buf, 10, 100), Err(DropReason::BufferTooSmall));
    buf[200..300].copy_from_slice(&inner);
    assert_eq!(
        out.seal(&mut buf, 200, 100),
        Err(DropReason::BufferTooSmall)
    );
    assert_eq!(
        out.seal(&mut buf, 290, usize::MAX),
        Err(DropReason::BufferTooSmall)
    );
    buf[100] = 0x15;
    assert_eq!(
        out.seal(&mut buf, 100, 50),
        Err(DropReason::InvalidInnerPacket)
    );
    assert_eq!(
        out.seal(&mut buf, 100, 0),
        Err(DropReason::InvalidInnerPacket)
    );
    assert_eq!(out.drops().buffer_too_small, 3);
    assert_eq!(out.drops().invalid_inner_packet, 2);
    assert_eq!(
        out.next_sequence(),
        1,
        "refused packets use no sequence number"
    );
    // With the generic headroom and tailroom every transform fits.
    let mut buf = vec![0; OutboundSa::HEADROOM + 100 + OutboundSa::TAILROOM];
    buf[OutboundSa::HEADROOM..][..100].copy_from_slice(&inner);
    let range = out.seal(&mut buf, OutboundSa::HEADROOM, 100).unwrap();
    assert_eq!(range.start, OutboundSa::HEADROOM - out.headroom());
    assert_eq!(range.len(), out.packet_len(100));
}

fn lifetime_pair(cipher: Cipher, lifetime: Lifetime) -> (OutboundSa, InboundSa) {
    let provider = providers()[0];
    let mut cfg = common::config(provider, 77, cipher, false);
    cfg.lifetime = lifetime;
    let out = OutboundSa::new(provider, cfg).unwrap();
    let mut cfg = common::config(provider, 77, cipher, false);
    cfg.lifetime = lifetime;
    (out, InboundSa::new(provider, cfg).unwrap())
}

#[test]
fn packet_lifetimes_fire_once_each() {
    let lifetime = Lifetime {
        soft_packets: Some(3),
        hard_packets: Some(5),
        ..Lifetime::default()
    };
    let (mut out, mut inb) = lifetime_pair(CIPHERS[0], lifetime);
    let mut out_events = Vec::new();
    let mut in_events = Vec::new();
    for _ in 0..5 {
        let mut p = seal(&mut out, &ipv4(40, 0));
        inb.open(&mut p).unwrap();
        out_events.extend(std::iter::from_fn(|| out.poll_event()));
        in_events.extend(std::iter::from_fn(|| inb.poll_event()));
    }
    assert_eq!(out_events, [SaEvent::SoftLifetime, SaEvent::HardLifetime]);
    assert_eq!(in_events, [SaEvent::SoftLifetime, SaEvent::HardLifetime]);
    assert!(out.is_expired() && inb.is_expired());
    let mut buf = vec![0; 200];
    buf[OutboundSa::HEADROOM..][..40].copy_from_slice(&ipv4(40, 0));
    assert_eq!(
        out.seal(&mut buf, OutboundSa::HEADROOM, 40),
        Err(DropReason::HardLifetime)
    );
    assert_eq!(out.poll_event(), None);
    assert_eq!(out.drops().hard_lifetime, 1);
}

#[test]
fn byte_lifetimes_count_inner_bytes() {
    let lifetime = Lifetime {
        soft_bytes: Some(250),
        hard_bytes: Some(450),
        ..Lifetime::default()
    };
    let (mut out, mut inb) = lifetime_pair(CIPHERS[2], lifetime);
    let inner = ipv4(100, 0);
    for i in 0..4 {
        let mut p = seal(&mut out, &inner);
        inb.open(&mut p).unwrap();
        let expected = if i == 2 {
            Some(SaEvent::SoftLifetime)
        } else {
            None
        };
        assert_eq!(out.poll_event(), expected, "packet {i}");
        assert_eq!(inb.poll_event(), expected, "packet {i}");
    }
    // A fifth packet would take the SA to 500 bytes, past the hard limit: refused.
    let mut buf = vec![0; 200];
    buf[OutboundSa::HEADROOM..][..100].copy_from_slice(&inner);
    assert_eq!(
        out.seal(&mut buf, OutboundSa::HEADROOM, 100),
        Err(DropReason::HardLifetime)
    );
    assert_eq!(out.poll_event(), Some(SaEvent::HardLifetime));
    assert_eq!(out.poll_event(), None);
    assert_eq!(out.counters().bytes, 400);
}
