//! 128-NIA2 and 128-NEA2 against the 128-EIA2/EEA2 test sets of TS 33.401 Annex C.

#![allow(clippy::unwrap_used)]

mod common;

use fiveg_emu::crypto::nas_algorithms::{
    AlgorithmInput, Bearer, Direction, nea2_apply_bits, nia2_mac, nia2_mac_bits,
};

fn input(set: &common::Section) -> AlgorithmInput {
    AlgorithmInput {
        count: u32::try_from(set.hex_number("count")).unwrap(),
        bearer: Bearer::new(u8::try_from(set.hex_number("bearer")).unwrap()).unwrap(),
        direction: if set.number("direction") == 1 {
            Direction::Downlink
        } else {
            Direction::Uplink
        },
    }
}

#[test]
fn nia2_matches_every_eia2_test_set() {
    let sets = common::sections("ts33401_eia2.txt");
    assert_eq!(sets.len(), 8);
    for set in &sets {
        let bits = usize::try_from(set.number("bits")).unwrap();
        let mac = nia2_mac_bits(&set.array("key"), &input(set), &set.hex("message"), bits);
        assert_eq!(mac, Some(set.array("mac")), "{}", set.name);
    }
}

#[test]
fn nea2_matches_every_eea2_test_set_both_ways() {
    let sets = common::sections("ts33401_eea2.txt");
    assert_eq!(sets.len(), 6);
    for set in &sets {
        let bits = usize::try_from(set.number("bits")).unwrap();
        let (key, input) = (set.array("key"), input(set));
        let mut data = set.hex("plaintext");
        assert!(nea2_apply_bits(&key, &input, &mut data, bits));
        assert_eq!(data, set.hex("ciphertext"), "{}: cipher", set.name);
        assert!(nea2_apply_bits(&key, &input, &mut data, bits));
        let mut expected = set.hex("plaintext");
        let last = bits.div_ceil(8) - 1;
        expected[last] &= 0xFFu8 << ((8 - bits % 8) % 8);
        assert_eq!(data, expected, "{}: decipher", set.name);
    }
}

#[test]
fn byte_aligned_entry_point_equals_bit_entry_point() {
    let set = &common::sections("ts33401_eia2.txt")[1];
    let message = set.hex("message");
    assert_eq!(
        nia2_mac(&set.array("key"), &input(set), &message),
        set.array::<4>("mac")
    );
}

#[test]
fn bit_lengths_past_the_buffer_are_refused() {
    let key = [0u8; 16];
    let input = AlgorithmInput {
        count: 0,
        bearer: Bearer::NAS_NON_3GPP,
        direction: Direction::Uplink,
    };
    assert_eq!(nia2_mac_bits(&key, &input, &[0u8; 2], 17), None);
    assert!(!nea2_apply_bits(&key, &input, &mut [0u8; 2], 17));
}

#[test]
fn every_input_changes_the_mac() {
    let key = [7u8; 16];
    let base = AlgorithmInput {
        count: 5,
        bearer: Bearer::NAS_NON_3GPP,
        direction: Direction::Uplink,
    };
    let mac = nia2_mac(&key, &base, b"nas");
    let variants = [
        AlgorithmInput { count: 6, ..base },
        AlgorithmInput {
            bearer: Bearer::NAS_3GPP,
            ..base
        },
        AlgorithmInput {
            direction: Direction::Downlink,
            ..base
        },
    ];
    for variant in variants {
        assert_ne!(nia2_mac(&key, &variant, b"nas"), mac, "{variant:?}");
    }
    assert_ne!(nia2_mac(&key, &base, b"naz"), mac);
}

/// Random keys, COUNTs, directions and lengths (0 to 300 octets, around the block boundaries),
/// checked against the oxirush-security crate with the non-3GPP NAS connection identifier.
#[test]
fn nia2_and_nea2_agree_with_oxirush_security() {
    use oxirush_security as ox;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(0x5EED);
    for round in 0..400 {
        let key: [u8; 16] = rng.r#gen();
        let (overflow, sqn): (u16, u8) = (rng.r#gen(), rng.r#gen());
        let downlink = rng.r#gen::<bool>();
        let len = if round < 300 {
            round
        } else {
            rng.gen_range(0..2000)
        };
        let message: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        let count = ox::NasCount::from_parts(overflow, sqn);
        let (direction, ox_direction) = if downlink {
            (Direction::Downlink, ox::Direction::Downlink)
        } else {
            (Direction::Uplink, ox::Direction::Uplink)
        };
        let input = AlgorithmInput {
            count: count.get(),
            bearer: Bearer::NAS_NON_3GPP,
            direction,
        };
        let connection = ox::nas_5gs::NasConnection::Non3Gpp;

        let ox_mac = ox::nas_5gs::nas_mac(
            &ox::nas_5gs::KNasInt::new(&key),
            count,
            connection,
            ox_direction,
            &message,
            ox::IntegrityAlgorithm::Aes,
        );
        assert_eq!(
            u32::from_be_bytes(nia2_mac(&key, &input, &message)),
            ox_mac,
            "round {round}"
        );

        let mut ours = message.clone();
        fiveg_emu::crypto::nas_algorithms::nea2_apply(&key, &input, &mut ours);
        let mut theirs = message.clone();
        ox::nas_5gs::nas_cipher(
            &ox::nas_5gs::KNasEnc::new(&key),
            count,
            connection,
            ox_direction,
            &mut theirs,
            ox::CipheringAlgorithm::Aes,
        );
        assert_eq!(ours, theirs, "round {round}");
    }
}
