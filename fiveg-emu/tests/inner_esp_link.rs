//! `EspLink` over Child SAs negotiated by two IKEv2 engines, and over crafted keys: inner
//! packets both ways, NAT-T framing, and every way a datagram is dropped and counted.

#![allow(clippy::unwrap_used)]

mod inner_sim;

use esp::DropReason;
use fiveg_emu::inner::{EspLink, LinkDrop, LinkError, Received};
use inner_sim::ike::negotiate;
use inner_sim::{NAS_IP, UE_INNER, crafted_links, ipv4_udp};

fn links(esp: &str, force_encap: bool) -> (EspLink, EspLink) {
    let (ue, n3iwf) = negotiate(esp, force_encap);
    let p = ipsec_crypto::default_provider();
    (
        EspLink::from_child_sa(p, ue).unwrap(),
        EspLink::from_child_sa(p, n3iwf).unwrap(),
    )
}

/// Seals `inner` on `from` and opens it on `to`.
fn carry(from: &mut EspLink, to: &mut EspLink, inner: &[u8]) -> Result<Vec<u8>, LinkDrop> {
    let mut datagram = Vec::new();
    from.send(inner, &mut datagram)?;
    match to.receive(&mut datagram)? {
        Received::Inner(packet) => Ok(packet.to_vec()),
        other => panic!("expected an inner packet, got {other:?}"),
    }
}

#[test]
fn negotiated_child_sa_carries_inner_packets_both_ways_in_udp() {
    let (mut ue, mut n3iwf) = links("aes256gcm16", true);
    assert!(ue.is_udp_encapsulated() && n3iwf.is_udp_encapsulated());
    assert_eq!(ue.remote().port(), 4500);
    assert_eq!(ue.outbound_spi(), n3iwf.inbound_spi());
    assert_eq!(ue.inbound_spi(), n3iwf.outbound_spi());
    let up = ipv4_udp(UE_INNER, NAS_IP, (40000, 20000), b"uplink");
    assert_eq!(carry(&mut ue, &mut n3iwf, &up).unwrap(), up);
    let down = ipv4_udp(NAS_IP, UE_INNER, (20000, 40000), b"downlink");
    assert_eq!(carry(&mut n3iwf, &mut ue, &down).unwrap(), down);
    assert_eq!(ue.counters().sent, 1);
    assert_eq!(ue.counters().received, 1);
    assert_eq!(n3iwf.sa_counters().0.packets, 1);
}

#[test]
fn negotiated_child_sa_works_as_raw_esp_and_with_cbc() {
    for esp in ["aes128gcm16", "chacha20poly1305", "aes128-sha256"] {
        let (mut ue, mut n3iwf) = links(esp, false);
        assert!(!ue.is_udp_encapsulated(), "{esp}");
        let up = ipv4_udp(UE_INNER, NAS_IP, (1, 2), &[7; 300]);
        assert_eq!(carry(&mut ue, &mut n3iwf, &up).unwrap(), up, "{esp}");
    }
}

#[test]
fn udp_encapsulation_sorts_out_ike_and_keepalives() {
    let (_, mut n3iwf) = crafted_links(true);
    let mut ike = vec![0, 0, 0, 0, 0xaa, 0xbb];
    assert_eq!(
        n3iwf.receive(&mut ike),
        Ok(Received::Ike(&[0xaa, 0xbb][..]))
    );
    assert_eq!(n3iwf.receive(&mut [0xff]), Ok(Received::Keepalive));
    assert_eq!(n3iwf.receive(&mut [1, 2, 3]), Err(LinkDrop::NotEsp));
    let c = n3iwf.counters();
    assert_eq!((c.ike, c.keepalives, c.not_esp), (1, 1, 1));
    // Raw ESP has no marker: four zero octets are an SPI of 0, which no SA has.
    let (_, mut raw) = crafted_links(false);
    let mut zero_spi = vec![0; 40];
    assert_eq!(
        raw.receive(&mut zero_spi),
        Err(LinkDrop::Esp(DropReason::UnknownSpi))
    );
}

/// RFC 4301 §5.2: an authenticated packet outside the Child SA's selectors is dropped.
#[test]
fn packet_outside_the_selectors_is_dropped_and_counted() {
    let (mut ue, mut n3iwf) = links("aes256gcm16", true);
    let spoofed = ipv4_udp("10.0.0.9", NAS_IP, (1, 2), b"not the UE's address");
    let mut datagram = Vec::new();
    ue.send_outside_selectors(&spoofed, &mut datagram).unwrap();
    assert_eq!(
        n3iwf.receive(&mut datagram),
        Err(LinkDrop::SelectorMismatch)
    );
    assert_eq!(n3iwf.counters().inbound_selector_mismatch, 1);
    assert_eq!(n3iwf.counters().received, 0);
    // The sending side refuses it too unless told to misbehave.
    assert_eq!(
        ue.send(&spoofed, &mut datagram),
        Err(LinkDrop::SelectorMismatch)
    );
    assert_eq!(ue.send(&[0x10; 20], &mut datagram), Err(LinkDrop::NotIp));
    assert_eq!(ue.counters().outbound_selector_mismatch, 2);
    // A good packet still passes.
    let good = ipv4_udp(UE_INNER, NAS_IP, (1, 2), b"ok");
    assert_eq!(carry(&mut ue, &mut n3iwf, &good).unwrap(), good);
}

#[test]
fn decrypted_payload_that_is_not_ip_is_dropped() {
    let (mut ue, mut n3iwf) = crafted_links(false);
    // Version nibble 4 with a header length below 20: the ESP layer accepts the length field,
    // the selector parser does not.
    let mut bogus = ipv4_udp(UE_INNER, NAS_IP, (1, 2), b"x");
    bogus[0] = 0x44;
    let mut datagram = Vec::new();
    ue.send_outside_selectors(&bogus, &mut datagram).unwrap();
    assert_eq!(n3iwf.receive(&mut datagram), Err(LinkDrop::NotIp));
    assert_eq!(n3iwf.counters().inbound_not_ip, 1);
}

#[test]
fn tampered_and_replayed_datagrams_are_dropped_by_esp() {
    let (mut ue, mut n3iwf) = crafted_links(true);
    let inner = ipv4_udp(UE_INNER, NAS_IP, (1, 2), b"once");
    let mut datagram = Vec::new();
    ue.send(&inner, &mut datagram).unwrap();
    let mut tampered = datagram.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        n3iwf.receive(&mut tampered),
        Err(LinkDrop::Esp(DropReason::Authentication))
    );
    let mut replay = datagram.clone();
    assert!(matches!(
        n3iwf.receive(&mut datagram),
        Ok(Received::Inner(_))
    ));
    assert_eq!(
        n3iwf.receive(&mut replay),
        Err(LinkDrop::Esp(DropReason::Replayed))
    );
    let drops = n3iwf.inbound_drops();
    assert_eq!((drops.authentication, drops.replayed), (1, 1));
}

#[test]
fn child_sa_without_usable_selectors_is_refused() {
    let (ue, _) = negotiate("aes256gcm16", true);
    let mut config = fiveg_emu::inner::LinkConfig::from_child_sa(ue).unwrap();
    config.selectors.clear();
    let error = EspLink::new(ipsec_crypto::default_provider(), config).err();
    assert!(
        matches!(error, Some(LinkError::NoSelectorPair)),
        "{error:?}"
    );
}
