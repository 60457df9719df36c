//! strongSwan-style proposal strings from the configuration (`ike = "aes256gcm16-prfsha384-..."`,
//! `esp = "..."`): parsing never panics, and an accepted proposal, sent on the wire, is selected
//! by the same proposal on the other end.
#![no_main]

use ikev2::ProposalSpec;
use ikev2::wire::ProtocolId;
use libfuzzer_sys::fuzz_target;

fn check(spec: &ProposalSpec, protocol: ProtocolId, ike: bool) {
    let spi = if ike { Vec::new() } else { vec![1, 2, 3, 4] };
    let offered = spec.to_wire(1, protocol, spi);
    let chosen = spec
        .select(&offered, ike)
        .expect("a proposal selects its own wire form");
    let answer = chosen.to_wire(1, protocol, offered.spi.clone());
    assert!(
        ikev2::Negotiated::from_response(std::slice::from_ref(spec), &answer, ike).is_some(),
        "the answer to a proposal is accepted by its sender"
    );
    let _ = (
        spec.first_ke(),
        chosen.additional_kes(),
        chosen.prf_algorithm(),
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = ProposalSpec::parse_ike(text) {
        check(&spec, ProtocolId::IKE, true);
    }
    if let Ok(spec) = ProposalSpec::parse_esp(text) {
        check(&spec, ProtocolId::ESP, false);
    }
});
