//! PDUs that Open5GS and free5GC AMFs sent (tests/vectors/ngap/captured.tsv) decode, without a
//! report, into what they carry.

use n3iwf::ids::{AmfRegionId, Plmn};
use n3iwf::ngap::{
    Cause, NasCause, NgapMessage, RadioNetworkCause, UeContextReleaseCommand, UeNgapIdentity,
};

fn captured() -> Vec<(String, Vec<u8>)> {
    let path = format!(
        "{}/tests/vectors/ngap/captured.tsv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let rows = text.lines().filter(|l| !l.starts_with('#'));
    rows.map(|row| {
        let columns: Vec<&str> = row.split('\t').collect();
        (columns[0].to_string(), hex::decode(columns[2]).unwrap())
    })
    .collect()
}

fn decode(name: &str) -> NgapMessage {
    let (_, octets) = captured().into_iter().find(|(n, _)| n == name).unwrap();
    let decoded = NgapMessage::decode(&octets).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(decoded.report, None, "{name}");
    decoded.message
}

#[test]
fn every_captured_pdu_decodes_without_report() {
    let all = captured();
    assert_eq!(all.len(), 10);
    for (name, _) in all {
        decode(&name);
    }
}

#[test]
fn free5gc_ng_setup_response() {
    let NgapMessage::NgSetupResponse(response) = decode("NGSetupResponse-0") else {
        panic!("not an NG SETUP RESPONSE");
    };
    assert_eq!(response.amf_name, "AMF");
    let guami = response.served_guamis[0].guami;
    assert_eq!(guami.plmn, Plmn::new("208", "93").unwrap());
    assert_eq!(
        (guami.region, guami.set.value()),
        (AmfRegionId(0xca), 0x3f8)
    );
    assert_eq!(response.plmn_support[0].slices.len(), 2);
}

#[test]
fn initial_context_setup_requests_carry_the_key_and_a_nas_pdu() {
    for name in [
        "InitialContextSetupRequest-3",
        "InitialContextSetupRequest-82",
    ] {
        let NgapMessage::InitialContextSetupRequest(request) = decode(name) else {
            panic!("{name}: not an INITIAL CONTEXT SETUP REQUEST");
        };
        assert_eq!(request.security_key.dangerous_as_bytes().len(), 32);
        assert_eq!(request.nas_pdu.as_ref().map(|n| n[0]), Some(0x7e), "{name}");
        assert_eq!(
            request.security_capabilities.nr_integrity, 0x4000,
            "{name}: NIA2"
        );
    }
}

#[test]
fn release_commands() {
    let release = |name| match decode(name) {
        NgapMessage::UeContextReleaseCommand(UeContextReleaseCommand { ue, cause }) => (ue, cause),
        other => panic!("{name}: {other:?}"),
    };
    let (ue, cause) = release("UEContextReleaseCommand-10");
    assert!(matches!(ue, UeNgapIdentity::Pair(_)));
    assert_eq!(
        cause,
        Cause::RadioNetwork(RadioNetworkCause::USER_INACTIVITY)
    );
    let (_, cause) = release("UEContextReleaseCommand-97");
    assert_eq!(cause, Cause::Nas(NasCause::DEREGISTER));
}

#[test]
fn open5gs_error_indication() {
    let NgapMessage::ErrorIndication(indication) = decode("ErrorIndication-121") else {
        panic!("not an ERROR INDICATION");
    };
    let cause = Cause::RadioNetwork(RadioNetworkCause::UNKNOWN_LOCAL_UE_NGAP_ID);
    assert_eq!(indication.cause, Some(cause));
}

/// free5GC's SMF asks for an IPv4 session of one QoS flow (5QI 9, ARP 8) towards its UPF.
#[test]
fn free5gc_setup_request_transfer_decodes() {
    use std::net::Ipv4Addr;

    use n3iwf::ids::{FiveQi, Teid};
    use n3iwf::ngap::{
        PduSessionResourceSetupRequestTransfer, PduSessionType, QosCharacteristics, SessionAmbr,
        TransportAddress,
    };

    let NgapMessage::PduSessionResourceSetupRequest(request) =
        decode("PDUSessionResourceSetupRequest-7")
    else {
        panic!("not a PDU SESSION RESOURCE SETUP REQUEST");
    };
    let transfer =
        PduSessionResourceSetupRequestTransfer::decode(&request.sessions[0].transfer).unwrap();
    assert_eq!(
        transfer.ul_tunnel.address,
        TransportAddress::V4(Ipv4Addr::new(127, 0, 0, 8))
    );
    assert_eq!(transfer.ul_tunnel.teid, Teid(10));
    assert_eq!(transfer.session_type, PduSessionType::Ipv4);
    assert_eq!(transfer.qos_flows.len(), 1);
    assert_eq!(transfer.qos_flows[0].qfi.value(), 1);
    assert_eq!(
        transfer.qos_flows[0].characteristics,
        QosCharacteristics::NonDynamic { five_qi: FiveQi(9) }
    );
    assert_eq!(transfer.qos_flows[0].arp.priority_level, 8);
    assert_eq!(
        transfer.session_ambr,
        Some(SessionAmbr {
            downlink: 1_000_000_000,
            uplink: 1_000_000_000
        })
    );
    // free5GC also sends Additional UL NG-U UP TNL Information (a second tunnel, for dual
    // connectivity), which an N3IWF has no use for: the re-encoding is the rest, as it was.
    let again = transfer.encode().unwrap();
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&again),
        Ok(transfer)
    );
    assert_eq!(again.len() + 14, request.sessions[0].transfer.len());
}
