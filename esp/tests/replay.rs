//! Anti-replay through real SAs: sealed packets delivered with loss, reordering and
//! duplication, compared with a model (the set of numbers seen plus the highest).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{CIPHERS, ipv4, pair, providers, seal};
use esp::{DropReason, InboundSa, SaConfig};
use proptest::prelude::*;

const PACKETS: usize = 300;

/// RFC 4303 §3.4.3 for a window of `size`.
fn verdict(seen: &HashSet<u64>, highest: u64, seq: u64, size: u64) -> Result<(), DropReason> {
    if seq > highest {
        Ok(())
    } else if highest - seq >= size {
        Err(DropReason::OutsideWindow)
    } else if seen.contains(&seq) {
        Err(DropReason::Replayed)
    } else {
        Ok(())
    }
}

fn inbound(window: u32, esn: bool) -> InboundSa {
    let provider = providers()[0];
    let mut cfg: SaConfig = common::config(provider, 0xc0ff_ee01, CIPHERS[0], esn);
    cfg.replay_window = window;
    InboundSa::new(provider, cfg).unwrap()
}

/// Delivery orders: runs of consecutive packets, jumps back and forth, repeats.
fn deliveries() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0..PACKETS, 1..8usize).prop_map(|(start, run)| (start..(start + run).min(PACKETS)).collect::<Vec<_>>()),
            1 => (0..PACKETS).prop_map(|i| vec![i, i]),
        ],
        1..120,
    )
    .prop_map(|runs| runs.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sealed_packets_follow_the_model(
        order in deliveries(),
        window in prop_oneof![Just(1u32), Just(32), Just(64), Just(1024)],
        esn in any::<bool>(),
    ) {
        let (mut out, _) = pair(providers()[0], CIPHERS[0], esn);
        let packets: Vec<Vec<u8>> = (0..PACKETS).map(|i| seal(&mut out, &ipv4(40, i as u8))).collect();
        let mut sa = inbound(window, esn);
        let mut seen = HashSet::new();
        let mut highest = 0;
        for i in order {
            let seq = i as u64 + 1;
            let expected = verdict(&seen, highest, seq, u64::from(window));
            let got = sa.open(&mut packets[i].clone()).map(|_| ());
            if esn && expected == Err(DropReason::OutsideWindow) {
                // With ESN a number left of the window reads as one of the next 2^32 block
                // (RFC 4303 Appendix A2.2); the ICV then fails.
                prop_assert!(got.is_err(), "packet {}", seq);
            } else {
                prop_assert_eq!(got, expected, "packet {}", seq);
            }
            if got.is_ok() {
                seen.insert(seq);
                highest = highest.max(seq);
            }
            prop_assert_eq!(sa.highest_sequence(), highest);
        }
        let drops = sa.drops();
        prop_assert_eq!(drops.total(), drops.replayed + drops.outside_window + drops.authentication);
    }
}

#[test]
fn disabled_window_accepts_replays() {
    let (mut out, _) = pair(providers()[0], CIPHERS[0], false);
    let packet = seal(&mut out, &ipv4(40, 0));
    let mut sa = inbound(0, false);
    for _ in 0..3 {
        assert!(sa.open(&mut packet.clone()).is_ok());
    }
    assert_eq!(sa.replay_window(), 0);
}

#[test]
fn oversized_window_is_refused() {
    let provider = providers()[0];
    let mut cfg = common::config(provider, 1, CIPHERS[0], false);
    cfg.replay_window = esp::MAX_REPLAY_WINDOW + 1;
    assert_eq!(
        InboundSa::new(provider, cfg).err(),
        Some(esp::EspError::InvalidReplayWindow)
    );
}
