//! Truncated and corrupted inputs: parsing returns an error or a valid message, never panics,
//! and whatever it accepts emits and parses back to the same value.

use super::init_request::{IKE_SA_INIT_REQUEST, ike_sa_init_request};
use super::*;
use crate::wire::{HEADER_LEN, ParseError};

/// Valid datagrams to mutate.
fn datagrams() -> Vec<Vec<u8>> {
    vec![
        IKE_SA_INIT_REQUEST.to_vec(),
        protected_request().emit(),
        fragment_response().emit(),
    ]
}

/// Valid plaintext chains (first payload type, bytes) to mutate.
fn chains() -> Vec<(PayloadType, Vec<u8>)> {
    let mut inner = Vec::new();
    let first = emit_payloads(&ike_auth_inner(), &mut inner);
    let init = IKE_SA_INIT_REQUEST
        .get(HEADER_LEN..)
        .unwrap_or_default()
        .to_vec();
    vec![(first, inner), (PayloadType::SA, init)]
}

/// Whatever parses must survive emit → parse unchanged.
#[track_caller]
fn assert_stable(msg: &Message) {
    let again = Message::parse(&msg.emit());
    assert_eq!(again.as_ref().map(|m| &m.payloads), Ok(&msg.payloads));
}

#[track_caller]
fn assert_chain_stable(first: PayloadType, payloads: &[Payload]) {
    let mut out = Vec::new();
    assert_eq!(
        emit_payloads(payloads, &mut out),
        if payloads.is_empty() {
            PayloadType::NONE
        } else {
            first
        }
    );
    assert_eq!(parse_payloads(first, &out).as_deref(), Ok(payloads));
}

/// Sets the header's Length field to the datagram's length, so that the chain gets parsed.
fn with_fixed_length(mut datagram: Vec<u8>) -> Vec<u8> {
    let length = u32::try_from(datagram.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes();
    if let Some(field) = datagram.get_mut(24..28) {
        field.copy_from_slice(&length);
    }
    datagram
}

#[test]
fn every_datagram_prefix_is_rejected_without_panic() {
    for datagram in datagrams() {
        for end in 0..datagram.len() {
            let prefix = datagram.get(..end).unwrap_or_default();
            assert!(Message::parse(prefix).is_err(), "prefix of {end} octets");
            let fixed = with_fixed_length(prefix.to_vec());
            if let Ok(msg) = Message::parse(&fixed) {
                assert_stable(&msg);
            }
        }
        assert!(Message::parse(&datagram).is_ok());
    }
    assert_eq!(
        Message::parse(&[]),
        Err(ParseError::HeaderTruncated { length: 0 })
    );
}

#[test]
fn every_chain_prefix_is_an_error_or_stable() {
    for (first, chain) in chains() {
        for end in 0..chain.len() {
            let prefix = chain.get(..end).unwrap_or_default();
            if let Ok(payloads) = parse_payloads(first, prefix) {
                assert_chain_stable(first, &payloads);
            }
        }
    }
}

/// Every octet of every datagram (length fields included) set to every value.
#[test]
fn every_single_octet_corruption_is_an_error_or_stable() {
    for datagram in datagrams() {
        for at in 0..datagram.len() {
            for value in 0..=u8::MAX {
                let mut bad = datagram.clone();
                if let Some(octet) = bad.get_mut(at) {
                    *octet = value;
                }
                if let Ok(msg) = Message::parse(&bad) {
                    assert_stable(&msg);
                }
            }
        }
    }
}

#[test]
fn every_single_octet_chain_corruption_is_an_error_or_stable() {
    for (first, chain) in chains() {
        for at in 0..chain.len() {
            for value in 0..=u8::MAX {
                let mut bad = chain.clone();
                if let Some(octet) = bad.get_mut(at) {
                    *octet = value;
                }
                if let Ok(payloads) = parse_payloads(first, &bad) {
                    assert_chain_stable(first, &payloads);
                }
            }
        }
    }
}

/// Length fields moved by ±1 (generic headers, proposals, transforms, selectors) are caught.
#[test]
fn length_fields_off_by_one_are_rejected() {
    let good = ike_sa_init_request();
    // Generic payload lengths of SA, KE and Nonce; proposal and first transform lengths.
    for at in [31, 79, 119, 35, 43] {
        for delta in [1u8, 0xff] {
            let mut bad = IKE_SA_INIT_REQUEST.to_vec();
            if let Some(octet) = bad.get_mut(at) {
                *octet = octet.wrapping_add(delta);
            }
            let parsed = Message::parse(&bad);
            assert!(
                parsed.is_err(),
                "length at {at} moved by {delta:#x}: {parsed:?}"
            );
            assert_ne!(parsed.ok(), Some(good.clone()));
        }
    }
}
