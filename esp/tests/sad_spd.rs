//! The SAD and SPD through the public API: SPI lookup, drop accounting, event polling,
//! selector matching on real inner packets, and the SPD → seal → SAD → open path.

#![allow(clippy::unwrap_used)]

mod common;

use common::{CIPHERS, ipv4, ipv6, pair, providers, seal};
use esp::{
    AddrRange, DropReason, InboundSa, Lifetime, OutboundSa, PacketFields, PortRange, SaEvent,
    SaHandle, Sad, Spd, SpdEntry, Spi, TrafficSelector,
};

fn prefix(s: &str) -> AddrRange {
    let (addr, len) = s.split_once('/').unwrap();
    AddrRange::from_prefix(addr.parse().unwrap(), len.parse().unwrap()).unwrap()
}

#[test]
fn sad_routes_by_spi_and_keeps_counters_of_removed_sas() {
    let provider = providers()[0];
    let mut sad = Sad::new();
    let mut outs = Vec::new();
    for (i, cipher) in CIPHERS.into_iter().enumerate() {
        let spi = 0x1000 + i as u32;
        let out = OutboundSa::new(provider, common::config(provider, spi, cipher, false)).unwrap();
        assert!(
            sad.insert(
                InboundSa::new(provider, common::config(provider, spi, cipher, false)).unwrap()
            )
            .is_none()
        );
        outs.push(out);
    }
    assert_eq!(sad.len(), CIPHERS.len());
    for (i, out) in outs.iter_mut().enumerate() {
        let inner = ipv6(200, i as u8);
        let mut p = seal(out, &inner);
        let opened = sad.open(&mut p).unwrap();
        assert_eq!(&p[opened.inner], &inner[..]);
        assert_eq!(
            sad.open(&mut seal(out, &inner)[..10].to_vec()),
            Err(DropReason::Truncated)
        );
    }
    assert_eq!(sad.get(Spi(0x1000)).unwrap().counters().packets, 1);
    let mut stray = seal(&mut outs[0], &ipv4(40, 0));
    stray[..4].copy_from_slice(&0xdead_beefu32.to_be_bytes());
    assert_eq!(sad.open(&mut stray), Err(DropReason::UnknownSpi));
    assert_eq!(sad.drops().truncated, CIPHERS.len() as u64);
    assert_eq!(sad.drops().unknown_spi, 1);

    let removed = sad.remove(Spi(0x1000)).unwrap();
    assert_eq!(removed.spi(), Spi(0x1000));
    assert_eq!(removed.drops().total(), 0, "counters moved to the SAD");
    assert_eq!(sad.drops().truncated, CIPHERS.len() as u64);
    assert!(!sad.contains(Spi(0x1000)));
    assert_eq!(
        sad.open(&mut seal(&mut outs[0], &ipv4(40, 0))),
        Err(DropReason::UnknownSpi)
    );
    assert!(sad.get_mut(Spi(0x1001)).is_some());
    let mut spis: Vec<u32> = sad.spis().map(|spi| spi.0).collect();
    spis.sort_unstable();
    assert_eq!(
        spis,
        (0x1001..0x1000 + CIPHERS.len() as u32).collect::<Vec<_>>()
    );
}

#[test]
fn sad_reports_each_sa_event_once_with_its_spi() {
    let provider = providers()[0];
    let mut sad = Sad::new();
    let mut outs = Vec::new();
    for spi in [7u32, 8] {
        let mut cfg = common::config(provider, spi, CIPHERS[0], false);
        cfg.lifetime = Lifetime {
            soft_packets: Some(2),
            hard_packets: Some(3),
            ..Lifetime::default()
        };
        sad.insert(InboundSa::new(provider, cfg).unwrap());
        outs.push(
            OutboundSa::new(provider, common::config(provider, spi, CIPHERS[0], false)).unwrap(),
        );
    }
    let mut events = Vec::new();
    for _ in 0..4 {
        for out in &mut outs {
            let _ = sad.open(&mut seal(out, &ipv4(40, 0)));
        }
        events.extend(std::iter::from_fn(|| sad.poll_event()));
    }
    assert_eq!(
        events,
        [
            (Spi(7), SaEvent::SoftLifetime),
            (Spi(8), SaEvent::SoftLifetime),
            (Spi(7), SaEvent::HardLifetime),
            (Spi(8), SaEvent::HardLifetime),
        ]
    );
    assert_eq!(sad.drops().hard_lifetime, 2);
}

#[test]
fn spd_selects_by_address_protocol_and_port() {
    let mut spd = Spd::new();
    let mut web = TrafficSelector::new(prefix("10.1.0.0/16"), prefix("10.2.0.0/16"));
    web.protocol = Some(17);
    web.remote_ports = PortRange::single(53);
    spd.insert(SpdEntry {
        selector: TrafficSelector::new(prefix("10.1.0.0/16"), prefix("0.0.0.0/0")),
        sa: SaHandle(1),
    });
    spd.insert(SpdEntry {
        selector: web,
        sa: SaHandle(2),
    });
    spd.insert(SpdEntry {
        selector: TrafficSelector::new(prefix("2001:db8:1::/48"), prefix("2001:db8::/32")),
        sa: SaHandle(3),
    });

    let dns = ipv4(60, 0);
    assert_eq!(spd.lookup(&dns), Some(SaHandle(2)));
    let mut other_port = dns.clone();
    other_port[23] = 54;
    assert_eq!(spd.lookup(&other_port), Some(SaHandle(1)));
    let mut fragment = dns.clone();
    fragment[7] = 0x10;
    assert_eq!(
        spd.lookup(&fragment),
        Some(SaHandle(1)),
        "a later fragment has no ports"
    );
    let mut foreign = dns.clone();
    foreign[12] = 11;
    assert_eq!(spd.lookup(&foreign), None);
    assert_eq!(spd.lookup(&ipv6(60, 0)), Some(SaHandle(3)));
    assert_eq!(spd.lookup(&[0x45, 0, 0]), None);
    assert_eq!(spd.entries()[0].sa, SaHandle(2));

    // The peer's reply passes the inbound check of the selector that sent the query.
    let mut reply = ipv4(60, 0);
    reply[12..16].copy_from_slice(&[10, 2, 0, 1]);
    reply[16..20].copy_from_slice(&[10, 1, 0, 1]);
    reply[20..24].copy_from_slice(&[0, 53, 0x0f, 0xa0]);
    let fields = PacketFields::parse(&reply).unwrap();
    assert!(web.matches_inbound(&fields));
    assert!(!web.matches_outbound(&fields));
}

#[test]
fn spd_seal_sad_open_path() {
    let provider = providers()[0];
    let (out_a, in_a) = pair(provider, CIPHERS[1], true);
    let mut outs = [out_a];
    let mut spd = Spd::new();
    spd.insert(SpdEntry {
        selector: TrafficSelector::new(AddrRange::ANY_V4, AddrRange::ANY_V4),
        sa: SaHandle(0),
    });
    let mut sad = Sad::new();
    sad.insert(in_a);
    for len in [28, 576, 1500] {
        let inner = ipv4(len, len as u8);
        let SaHandle(h) = spd.lookup(&inner).unwrap();
        let mut packet = seal(&mut outs[h as usize], &inner);
        let opened = sad.open(&mut packet).unwrap();
        assert_eq!(&packet[opened.inner], &inner[..]);
    }
}

#[test]
fn udp_4500_payloads_reach_the_sad() {
    let provider = providers()[0];
    let (mut out, inb) = pair(provider, CIPHERS[0], false);
    let mut sad = Sad::new();
    sad.insert(inb);
    let inner = ipv4(80, 1);
    let packet = seal(&mut out, &inner);
    let Some(esp::natt::NatTPayload::Esp(esp)) = esp::natt::classify(&packet) else {
        panic!("an ESP packet classified as something else");
    };
    let mut esp = esp.to_vec();
    let opened = sad.open(&mut esp).unwrap();
    assert_eq!(&esp[opened.inner], &inner[..]);
    let ike = esp::natt::with_non_esp_marker(&[0x11; 28]);
    assert_eq!(
        esp::natt::classify(&ike),
        Some(esp::natt::NatTPayload::Ike(&[0x11; 28]))
    );
    assert_eq!(
        esp::natt::classify(&[esp::natt::KEEPALIVE]),
        Some(esp::natt::NatTPayload::Keepalive)
    );
}

#[test]
fn sas_and_databases_can_move_to_worker_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<OutboundSa>();
    send_sync::<InboundSa>();
    send_sync::<Sad>();
    send_sync::<Spd>();
}
