//! What the facade does with IEs and procedures it does not comprehend, by criticality
//! (TS 38.413 §10), and with octets that are no NGAP PDU. Faulty PDUs are made by editing the
//! IE list of a sample with the bindings.

use n3iwf::ngap::{
    Cause, Criticality, DecodeError, DiagnosedIe, ErrorReport, MAX_PDU_LEN, NgapMessage,
    ProtocolCause, TriggeringMessage, TypeOfError,
};
use oxirush_ngap::Octets;
use oxirush_ngap::ngap::{self as asn, NGAP_PDU, ProtocolIEField, ProtocolIEID};

use crate::samples;

fn sample(name: &str) -> NgapMessage {
    samples::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1
}

/// The sample's PDU with its IE list edited.
fn edited(name: &str, edit: impl FnOnce(&mut Vec<ProtocolIEField<'static>>)) -> Vec<u8> {
    let mut pdu = NGAP_PDU::decode(&sample(name).encode().unwrap()).unwrap();
    let mut ies = pdu.protocol_ies().unwrap().into_owned();
    edit(&mut ies.0);
    pdu.set_protocol_ies(ies).unwrap();
    pdu.encode().unwrap()
}

/// An IE no release of NGAP defines.
fn unknown_ie(criticality: asn::Criticality) -> ProtocolIEField<'static> {
    ProtocolIEField {
        id: ProtocolIEID(900),
        criticality,
        value: Octets::from(vec![0x2a]),
    }
}

fn rejected_report(octets: &[u8]) -> ErrorReport {
    match NgapMessage::decode(octets) {
        Err(DecodeError::Rejected { report, .. }) => report,
        other => panic!("not rejected: {other:?}"),
    }
}

#[test]
fn unknown_ie_of_criticality_ignore_is_dropped_silently() {
    let octets = edited("downlink_nas_transport", |ies| {
        ies.push(unknown_ie(asn::Criticality::ignore))
    });
    let decoded = NgapMessage::decode(&octets).unwrap();
    assert_eq!(decoded.message, sample("downlink_nas_transport"));
    assert_eq!(decoded.report, None);
}

#[test]
fn unknown_ie_of_criticality_notify_is_dropped_and_reported() {
    let octets = edited("downlink_nas_transport", |ies| {
        ies.push(unknown_ie(asn::Criticality::notify))
    });
    let decoded = NgapMessage::decode(&octets).unwrap();
    assert_eq!(decoded.message, sample("downlink_nas_transport"));
    let report = decoded.report.unwrap();
    assert_eq!(
        report.cause,
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY)
    );
    assert_eq!(
        (report.amf_ue_ngap_id, report.ran_ue_ngap_id),
        (Some(samples::ids().amf), Some(samples::ids().ran))
    );
    let diagnosed = DiagnosedIe {
        criticality: Criticality::Notify,
        id: 900,
        type_of_error: TypeOfError::NotUnderstood,
    };
    assert_eq!(report.diagnostics.unwrap().ies, [diagnosed]);
}

/// The report becomes the ERROR INDICATION of the `error_indication` sample, whose encoding
/// pycrate checks against its own description.
#[test]
fn unknown_ie_of_criticality_reject_rejects_with_error_indication_data() {
    let octets = edited("downlink_nas_transport", |ies| {
        ies.push(unknown_ie(asn::Criticality::reject))
    });
    let report = rejected_report(&octets);
    assert_eq!(
        NgapMessage::from(report.to_error_indication()),
        sample("error_indication")
    );
    let Err(DecodeError::Rejected {
        procedure_code,
        direction,
        ..
    }) = NgapMessage::decode(&octets)
    else {
        unreachable!()
    };
    assert_eq!(
        (procedure_code, direction),
        (4, TriggeringMessage::InitiatingMessage)
    );
}

#[test]
fn missing_mandatory_ie_of_criticality_reject_rejects() {
    let octets = edited("downlink_nas_transport", |ies| {
        ies.retain(|ie| ie.id.0 != 38)
    });
    let report = rejected_report(&octets);
    assert_eq!(
        report.cause,
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)
    );
    let missing = DiagnosedIe {
        criticality: Criticality::Reject,
        id: 38,
        type_of_error: TypeOfError::Missing,
    };
    assert_eq!(report.diagnostics.unwrap().ies, [missing]);
}

#[test]
fn repeated_ie_rejects_as_falsely_constructed() {
    let octets = edited("downlink_nas_transport", |ies| ies.push(ies[2].clone()));
    let report = rejected_report(&octets);
    let falsely = ProtocolCause::ABSTRACT_SYNTAX_ERROR_FALSELY_CONSTRUCTED_MESSAGE;
    assert_eq!(report.cause, Cause::Protocol(falsely));
}

#[test]
fn undecodable_optional_ie_of_criticality_ignore_is_dropped() {
    // Index to RFSP (IE 31, criticality ignore): INTEGER (1..256, ...) cannot be empty.
    let octets = edited("downlink_nas_transport", |ies| {
        ies.push(ProtocolIEField {
            id: ProtocolIEID(31),
            criticality: asn::Criticality::ignore,
            value: Octets::from(Vec::new()),
        });
    });
    let decoded = NgapMessage::decode(&octets).unwrap();
    assert_eq!(decoded.message, sample("downlink_nas_transport"));
    assert_eq!(decoded.report, None);
}

#[test]
fn wrong_ie_criticality_is_read_anyway() {
    let octets = edited("initial_context_setup_request", |ies| {
        ies.iter_mut()
            .for_each(|ie| ie.criticality = asn::Criticality::ignore);
    });
    let decoded = NgapMessage::decode(&octets).unwrap();
    assert_eq!(decoded.message, sample("initial_context_setup_request"));
}

#[test]
fn value_without_meaning_here_rejects_as_semantic_error() {
    // An NG SETUP RESPONSE whose PLMN has a non-decimal digit.
    let bad = edited("ng_setup_response", |ies| {
        let list = asn::PLMNSupportList(vec![asn::PLMNSupportItem::new(
            asn::PLMNIdentity([0x1a, 0x40, 0x01]),
            asn::SliceSupportList(vec![asn::SliceSupportItem::new(
                asn::SNSSAI::new(asn::SST([1]), None, None),
                None,
            )]),
            None,
        )]);
        ies[3].value = oxirush_ngap::ngap::encode_open_type(&list).unwrap();
    });
    let report = rejected_report(&bad);
    assert_eq!(report.cause, Cause::Protocol(ProtocolCause::SEMANTIC_ERROR));
}

#[test]
fn error_indication_is_never_answered() {
    let octets = edited("error_indication", |ies| {
        ies.push(unknown_ie(asn::Criticality::reject))
    });
    let decoded = NgapMessage::decode(&octets).unwrap();
    assert_eq!(decoded.message, sample("error_indication"));
    assert_eq!(decoded.report, None);
}

#[test]
fn unknown_procedure_is_reported_by_its_criticality() {
    // initiatingMessage, procedure code 200, then an empty protocol IE container.
    for (criticality, expected) in [
        (0x00, Some(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT)),
        (
            0x80,
            Some(ProtocolCause::ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY),
        ),
        (0x40, None),
    ] {
        let octets = [0x00, 200, criticality, 0x03, 0x00, 0x00, 0x00];
        let Err(DecodeError::Unsupported {
            procedure_code,
            report,
            ..
        }) = NgapMessage::decode(&octets)
        else {
            panic!("criticality {criticality:#x}: not unsupported");
        };
        assert_eq!(procedure_code, 200);
        assert_eq!(report.map(|r| r.cause), expected.map(Cause::Protocol));
    }
}

#[test]
fn known_procedure_without_n3iwf_role_is_unsupported() {
    // PAGING (24, criticality ignore) is for gNBs; an N3IWF does not page.
    let octets = [0x00, 24, 0x40, 0x03, 0x00, 0x00, 0x00];
    let error = NgapMessage::decode(&octets).unwrap_err();
    assert!(
        matches!(
            error,
            DecodeError::Unsupported {
                procedure_code: 24,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.report(), None);
}

#[test]
fn octets_that_are_no_pdu_are_a_transfer_syntax_error() {
    let valid = sample("initial_ue_message").encode().unwrap();
    for octets in [&[][..], &[0xff, 0xff], &valid[..valid.len() - 1]] {
        let error = NgapMessage::decode(octets).unwrap_err();
        let report = error.report().unwrap_or_else(|| panic!("{error:?}"));
        assert_eq!(
            report.cause,
            Cause::Protocol(ProtocolCause::TRANSFER_SYNTAX_ERROR),
            "{octets:x?}"
        );
    }
}

#[test]
fn size_bound_is_enforced_before_decoding() {
    let octets = vec![0; MAX_PDU_LEN + 1];
    assert_eq!(
        NgapMessage::decode(&octets),
        Err(DecodeError::TooLong {
            len: MAX_PDU_LEN + 1
        })
    );
    assert!(!matches!(
        NgapMessage::decode(&octets[..MAX_PDU_LEN]),
        Err(DecodeError::TooLong { .. })
    ));
}

#[test]
fn octets_after_the_pdu_are_refused() {
    let mut octets = sample("uplink_nas_transport").encode().unwrap();
    octets.push(0);
    let error = NgapMessage::decode(&octets).unwrap_err();
    assert!(matches!(error, DecodeError::Malformed(_)), "{error:?}");
}
