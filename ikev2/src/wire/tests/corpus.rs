//! The fuzz seed corpus (`fuzz/corpus/<target>/`), generated from the valid messages here.
//!
//! Inputs per target: `ike_message` takes a datagram; `payload_chain` takes the first payload
//! type in its first octet and the chain after it; `sa_proposals` and `traffic_selectors` take
//! an SA or TS payload body (without the generic header).
//!
//! Regenerate with `IKEV2_WRITE_FUZZ_CORPUS=1 cargo test --release -p ikev2 wire::tests::corpus`.

use std::fs;
use std::path::Path;

use super::init_request::{IKE_SA_INIT_REQUEST, ike_sa_init_request};
use super::*;
use crate::wire::types::CertPayload;
use crate::wire::{CertEncoding, GENERIC_HEADER_LEN};

/// The environment variable that makes the test write the corpus instead of checking it.
const WRITE_VAR: &str = "IKEV2_WRITE_FUZZ_CORPUS";

/// (target, file name, input).
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let plain_auth = Message {
        header: header(ExchangeType::IKE_AUTH, 1, false),
        payloads: ike_auth_inner(),
    };
    let misc = vec![
        Payload::Cert(CertPayload {
            encoding: CertEncoding::X509_SIGNATURE,
            data: vec![0x30; 16],
        }),
        Payload::CertReq(CertPayload {
            encoding: CertEncoding::X509_SIGNATURE,
            data: vec![0x14; 20],
        }),
        Payload::VendorId(b"vendor".to_vec()),
        Payload::Eap(vec![0x02, 0x07, 0x00, 0x06, 0x03, 0x2f]),
        Payload::Unknown {
            payload_type: PayloadType(0x31),
            critical: true,
            body: vec![0x01],
        },
        Payload::Sk(EncryptedPayload {
            first_inner: PayloadType::NOTIFY,
            body: vec![0x99; 32],
        }),
    ];
    let init = ike_sa_init_request();
    let inner = ike_auth_inner();
    let body = |payloads: &[Payload], index: usize| {
        let mut out = Vec::new();
        emit_payloads(payloads.get(index..=index).unwrap_or_default(), &mut out);
        out.split_off(GENERIC_HEADER_LEN.min(out.len()))
    };
    vec![
        (
            "ike_message",
            "ike_sa_init_request",
            IKE_SA_INIT_REQUEST.to_vec(),
        ),
        (
            "ike_message",
            "ike_auth_protected",
            protected_request().emit(),
        ),
        (
            "ike_message",
            "ike_auth_fragment",
            fragment_response().emit(),
        ),
        ("ike_message", "ike_auth_plain", plain_auth.emit()),
        ("payload_chain", "ike_auth_inner", chain_input(&inner)),
        ("payload_chain", "ike_sa_init", chain_input(&init.payloads)),
        ("payload_chain", "misc_then_sk", chain_input(&misc)),
        ("sa_proposals", "ike_pq", body(&init.payloads, 0)),
        ("sa_proposals", "esp", body(&inner, 3)),
        ("traffic_selectors", "v4_v6", body(&inner, 4)),
        ("traffic_selectors", "v4_any", body(&inner, 5)),
    ]
}

/// The `payload_chain` input format: first payload type, then the chain.
fn chain_input(payloads: &[Payload]) -> Vec<u8> {
    let mut out = vec![0];
    let first = emit_payloads(payloads, &mut out);
    if let Some(octet) = out.first_mut() {
        *octet = first.0;
    }
    out
}

#[test]
fn fuzz_seeds_are_valid_inputs() {
    for (target, name, input) in seeds() {
        let ok = match target {
            "ike_message" => Message::parse(&input).is_ok(),
            "payload_chain" => match input.split_first() {
                Some((first, chain)) => parse_payloads(PayloadType(*first), chain).is_ok(),
                None => false,
            },
            _ => {
                let first = if target == "sa_proposals" {
                    PayloadType::SA
                } else {
                    PayloadType::TSI
                };
                let mut payload = vec![0, 0];
                let length = u16::try_from(input.len() + GENERIC_HEADER_LEN).unwrap_or(u16::MAX);
                payload.extend_from_slice(&length.to_be_bytes());
                payload.extend_from_slice(&input);
                parse_payloads(first, &payload).is_ok()
            }
        };
        assert!(ok, "{target}/{name} does not parse");
    }
}

#[test]
fn fuzz_seed_corpus_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let write = std::env::var_os(WRITE_VAR).is_some();
    if !write && !root.is_dir() {
        return;
    }
    for (target, name, input) in seeds() {
        let dir = root.join(target);
        let path = dir.join(name);
        if write {
            fs::create_dir_all(&dir).expect("create corpus directory");
            fs::write(&path, &input).expect("write corpus file");
        } else {
            let stored = fs::read(&path).ok();
            assert_eq!(
                stored,
                Some(input),
                "{} is stale: rerun with {WRITE_VAR}=1",
                path.display()
            );
        }
    }
}
