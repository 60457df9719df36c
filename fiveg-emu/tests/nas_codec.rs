//! The NAS codec: octets laid out by hand from TS 24.501, round trips, decoding of everything
//! the emulated ends send by an independent codec (oxirush-nas), and totality on bad input.

#![allow(clippy::unwrap_used)]

mod common;

use common::exchange::produced_messages;
use fiveg_emu::identity::{Plmn, RoutingIndicator, Suci, Supi};
use fiveg_emu::nas::{
    DecodeError, GmmMessage, MobileIdentity, NasPdu, Ngksi, Nssai, RegistrationRequest,
    RegistrationType, SNssai, UeSecurityCapability,
};
use oxirush_nas::nas_5gs::Nas5gsMessage;

fn supi() -> Supi {
    Supi::new(Plmn::new("208", "93").unwrap(), "0000000001").unwrap()
}

/// REGISTRATION REQUEST written octet by octet from TS 24.501 §8.2.6 and §9.11.3.4.
#[test]
fn registration_request_matches_the_hand_assembled_octets() {
    let request = GmmMessage::RegistrationRequest(RegistrationRequest {
        registration_type: RegistrationType {
            follow_on: false,
            value: RegistrationType::INITIAL,
        },
        ngksi: Ngksi::NO_KEY,
        identity: MobileIdentity::Suci(Suci::null_scheme(&supi(), RoutingIndicator::DEFAULT)),
        ue_security_capability: Some(UeSecurityCapability::new(0xA0, 0x20)),
        requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
        nas_message_container: None,
        other_ies: Vec::new(),
    });
    let expected = concat!(
        "7e0041",     // EPD 5GMM, plain, REGISTRATION REQUEST
        "71",         // ngKSI 7 (no key) | initial registration, no follow-on
        "000d01",     // mobile identity: 13 octets, SUCI with SUPI format IMSI
        "02f839",     // MCC 208, MNC 93
        "f0ff",       // routing indicator "0"
        "0000",       // null scheme, key identifier 0
        "0000000010", // MSIN 0000000001 in BCD
        "2e02a020",   // UE security capability: EA0 EA2 / IA2
        "2f020101",   // requested NSSAI: SST 1
    );
    let octets = request.encode().unwrap();
    assert_eq!(hex::encode(&octets), expected);
    assert_eq!(GmmMessage::decode(&octets).unwrap(), request);
}

#[test]
fn oxirush_nas_decodes_every_message_the_emulators_send_and_reencodes_it_identically() {
    let messages = produced_messages();
    assert!(messages.len() >= 10, "only {} messages", messages.len());
    let mut types = std::collections::BTreeSet::new();
    for octets in &messages {
        let theirs = Nas5gsMessage::decode(octets)
            .unwrap_or_else(|e| panic!("{}: {e}", hex::encode(octets)));
        assert_eq!(theirs.encode().unwrap(), *octets, "{theirs}");
        let ours = GmmMessage::decode(octets).unwrap();
        assert_eq!(ours.encode().unwrap(), *octets);
        types.insert(ours.message_type());
    }
    // REGISTRATION REQUEST/REJECT, AUTHENTICATION REQUEST/RESPONSE/FAILURE, SECURITY MODE COMMAND.
    for expected in [0x41, 0x44, 0x56, 0x57, 0x59, 0x5D] {
        assert!(
            types.contains(&expected),
            "no message of type {expected:#04x} in {types:x?}"
        );
    }
}

#[test]
fn every_truncation_of_every_message_is_an_error_not_a_panic() {
    for octets in produced_messages() {
        for len in 0..octets.len() {
            let _ = NasPdu::decode(&octets[..len]);
            let _ = GmmMessage::decode(&octets[..len]);
        }
    }
}

#[test]
fn length_fields_past_the_end_are_truncations() {
    // REGISTRATION REQUEST whose mobile identity claims 255 octets.
    let short = hex::decode("7e00417100ff01").unwrap();
    assert!(matches!(
        GmmMessage::decode(&short),
        Err(DecodeError::Truncated(_))
    ));
    // AUTHENTICATION REQUEST whose ABBA is one octet (the minimum is two).
    let abba = hex::decode("7e0056000100").unwrap();
    assert_eq!(
        GmmMessage::decode(&abba),
        Err(DecodeError::Invalid("ABBA length"))
    );
    assert_eq!(
        NasPdu::decode(&[0x2E, 0x01, 0x01, 0xC1]),
        Err(DecodeError::NotMobilityManagement(0x2E))
    );
    assert_eq!(
        NasPdu::decode(&[0x7E, 0x05, 0, 0, 0, 0, 0, 1]),
        Err(DecodeError::ReservedSecurityHeaderType(5))
    );
    assert_eq!(
        GmmMessage::decode(&[0x7E, 0x00, 0x54]),
        Err(DecodeError::UnsupportedMessageType(0x54))
    );
}

#[test]
fn unknown_optional_ies_survive_a_round_trip() {
    // REGISTRATION COMPLETE with an unknown TLV (0x33), a TLV-E (0x7F) and a type 1 (0xB5) IE.
    let octets = hex::decode("7e0043330201027f000103b5").unwrap();
    let message = GmmMessage::decode(&octets).unwrap();
    assert_eq!(message.encode().unwrap(), octets);
}

#[test]
fn random_octets_never_panic_and_round_trip_when_accepted() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(24_501);
    let seeds = produced_messages();
    for round in 0..20_000 {
        let mut octets = seeds[round % seeds.len()].clone();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..octets.len());
            octets[at] = rng.r#gen();
        }
        if let Ok(message) = GmmMessage::decode(&octets) {
            let again = message.encode().unwrap();
            assert_eq!(
                GmmMessage::decode(&again).unwrap(),
                message,
                "{}",
                hex::encode(&octets)
            );
        }
    }
}
