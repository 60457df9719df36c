//! What the `esp_inbound` fuzz target does, as a property test so that `cargo test` covers it:
//! arbitrary bytes, and mutations of valid packets, fed to `Sad::open` never panic and never
//! open unless the packet is an untouched valid one.

#![allow(clippy::unwrap_used)]

mod common;

use common::{CIPHERS, ipv4, pair, providers, seal};
use esp::{DropReason, Sad};
use proptest::prelude::*;

const SPI: [u8; 4] = 0xc0ff_ee01u32.to_be_bytes();

fn sad_with_every_transform() -> Sad {
    let mut sad = Sad::new();
    for (i, cipher) in CIPHERS.into_iter().enumerate() {
        let provider = providers()[0];
        let mut cfg = common::config(provider, 0xc0ff_ee01 + i as u32, cipher, i % 2 == 0);
        cfg.replay_window = 64;
        sad.insert(esp::InboundSa::new(provider, cfg).unwrap());
    }
    sad
}

/// Random bytes, often starting with a known SPI so that they reach an SA.
fn packet_bytes() -> impl Strategy<Value = Vec<u8>> {
    (0..8u8, prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(sa, mut bytes)| {
        if sa < 6 && bytes.len() >= 4 {
            bytes[..4].copy_from_slice(&(0xc0ff_ee01 + u32::from(sa)).to_be_bytes());
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_bytes_never_open(bytes in packet_bytes()) {
        let mut sad = sad_with_every_transform();
        let mut buf = bytes.clone();
        prop_assert!(sad.open(&mut buf).is_err());
        prop_assert_eq!(sad.drops().total(), 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_packets_never_open(
        cipher in 0..CIPHERS.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..4),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let provider = providers()[0];
        let (mut out, inb) = pair(provider, CIPHERS[cipher], false);
        let mut sad = Sad::new();
        sad.insert(inb);
        let packet = seal(&mut out, &ipv4(60, 3));
        let mut p = packet.clone();
        for (at, xor) in &edits {
            let at = at.index(p.len());
            p[at] ^= xor;
        }
        if let Some(cut) = cut {
            p.truncate(cut.index(p.len()));
        }
        prop_assume!(p != packet);
        prop_assert!(sad.open(&mut p).is_err());
        prop_assert!(sad.open(&mut packet.clone()).is_ok(), "the forgery moved the window");
    }
}

#[test]
fn unknown_spi_and_short_packets_are_counted_by_the_sad() {
    let mut sad = sad_with_every_transform();
    assert_eq!(sad.open(&mut [0, 0, 0]), Err(DropReason::Truncated));
    assert_eq!(
        sad.open(&mut [0, 0, 0, 9, 1, 2, 3, 4]),
        Err(DropReason::UnknownSpi)
    );
    let mut short = SPI.to_vec();
    short.extend_from_slice(&[0; 10]);
    assert_eq!(sad.open(&mut short), Err(DropReason::Truncated));
    let drops = sad.drops();
    assert_eq!(
        (drops.truncated, drops.unknown_spi, drops.total()),
        (2, 1, 3)
    );
}
