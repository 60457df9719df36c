//! A UE driven with hand-built NGAP: downlink NAS queued while the UE has the EAP turn (in order,
//! bounded), PDU session requests whose transfers do not decode answered as not set up, and an
//! ERROR INDICATION from the AMF. Sessions that are set up are in `sessions.rs`.

use n3iwf::ids::{PduSessionId, Snssai};
use n3iwf::ngap::{
    AmfUeNgapId, Cause, DownlinkNasTransport, ErrorIndication, InitialContextSetupRequest,
    MiscCause, NgapMessage, PduSessionResourceReleaseCommand, PduSessionResourceSetupRequest,
    PduSessionSetupItem, PduSessionTransfer, SecurityKey, UeNgapIds, UeSecurityCapabilities,
};
use n3iwf::node::{EapAnswer, Event};
use n3iwf::wire::eap5g::Eap5g;
use n3iwf::{AmfRef, IkeSaRef, Output};

use crate::amf_selection::{Node, by_guami};

const AMF: AmfRef = AmfRef(0);
const SA: IkeSaRef = IkeSaRef(1);

fn amf_ue() -> AmfUeNgapId {
    AmfUeNgapId::new(0x42).unwrap()
}

impl Node {
    fn ids(&self) -> UeNgapIds {
        UeNgapIds {
            amf: amf_ue(),
            ran: self.n3iwf.ue(SA).unwrap().ran_ue_ngap_id.unwrap(),
        }
    }

    fn downlink(&mut self, tag: u8) -> Vec<Output> {
        let message = DownlinkNasTransport {
            ids: self.ids(),
            nas_pdu: vec![0x7e, 0x00, tag],
            allowed_nssai: None,
        };
        self.receive(AMF, message.into());
        self.drain()
    }

    /// The UE answers the EAP Request `outputs` carry; returns what that brings.
    fn answer(&mut self, outputs: &[Output]) -> Vec<Output> {
        let id = eap_requests(outputs).last().unwrap().id();
        let response = Eap5g::NasResponse {
            id,
            an_parameters: Default::default(),
            nas_pdu: vec![0x7e, 0x00, 0x57],
        };
        self.n3iwf
            .handle_eap_message(SA, &response.to_bytes().unwrap(), self.now);
        self.drain()
    }

    /// A UE through EAP, KN3IWF and the signalling SA, with `sessions` in the context setup.
    fn registered(sessions: Vec<PduSessionSetupItem>) -> (Self, Vec<Output>) {
        let mut node = Self::two_amfs();
        assert_eq!(node.register(SA.0, by_guami(1)), Some(AMF));
        let outputs = node.downlink(0x56);
        node.answer(&outputs);
        let request = InitialContextSetupRequest {
            ids: node.ids(),
            ue_ambr: None,
            guami: by_guami(1).guami.unwrap(),
            pdu_sessions: sessions,
            allowed_nssai: vec![Snssai::new(1)],
            security_capabilities: UeSecurityCapabilities {
                nr_encryption: 0x4000,
                nr_integrity: 0x4000,
                eutra_encryption: 0,
                eutra_integrity: 0,
            },
            security_key: SecurityKey::new([9; 32]),
            nas_pdu: None,
        };
        node.receive(AMF, request.into());
        let success = node.drain();
        node.n3iwf.handle_signalling_sa_up(SA, node.now);
        let mut outputs = success;
        outputs.extend(node.drain());
        (node, outputs)
    }
}

fn eap_requests(outputs: &[Output]) -> Vec<Eap5g> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::EapAnswer {
                answer: EapAnswer::Request(p),
                ..
            } => Some(Eap5g::parse(p).unwrap()),
            _ => None,
        })
        .collect()
}

fn ngap(outputs: &[Output]) -> Vec<NgapMessage> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Ngap { octets, .. } => Some(NgapMessage::decode(octets).unwrap().message),
            _ => None,
        })
        .collect()
}

fn nas_of(request: &Eap5g) -> u8 {
    match request {
        Eap5g::NasRequest { nas_pdu, .. } => nas_pdu[2],
        other => panic!("{other:?}"),
    }
}

/// The AMF sends one downlink NAS message more than the queue holds while the UE has the turn:
/// that one is refused, and each UE response is answered at once with the next queued, in
/// order.
#[test]
fn downlink_nas_during_the_ue_turn_waits_in_order_within_its_bound() {
    let mut node = Node::two_amfs();
    let bound = node.n3iwf.config().limits.dl_nas_queue;
    assert_eq!(node.register(SA.0, by_guami(1)), Some(AMF));
    let first = node.downlink(1);
    assert_eq!(eap_requests(&first).len(), 1);

    let mut refused = 0;
    for tag in 2..=bound as u8 + 2 {
        let outputs = node.downlink(tag);
        assert!(eap_requests(&outputs).is_empty(), "the UE has the turn");
        refused += ngap(&outputs)
            .iter()
            .filter(|m| matches!(m, NgapMessage::NasNonDeliveryIndication(_)))
            .count();
    }
    assert_eq!(refused, 1, "one over the bound");
    assert_eq!(node.n3iwf.stats().dl_nas_not_delivered, 1);

    let mut outputs = first;
    let mut order = Vec::new();
    for _ in 0..bound {
        outputs = node.answer(&outputs);
        let requests = eap_requests(&outputs);
        assert_eq!(requests.len(), 1);
        order.push(nas_of(&requests[0]));
    }
    let expected: Vec<u8> = (2..bound as u8 + 2).collect();
    assert_eq!(order, expected);
    // The queue is empty: the next response is held for the AMF.
    assert!(eap_requests(&node.answer(&outputs)).is_empty());
    assert_eq!(node.n3iwf.ue(SA).unwrap().state, "eap-wait-amf");
}

fn session(id: u8) -> PduSessionSetupItem {
    PduSessionSetupItem {
        pdu_session_id: PduSessionId(id),
        nas_pdu: None,
        snssai: Snssai::new(1),
        transfer: vec![0x00, 0x00, 0x00],
    }
}

/// Transfers of three zero octets hold no IE: each session fails, and its NAS PDU is still
/// relayed.
#[test]
fn sessions_asked_for_are_answered_as_not_set_up() {
    let (mut node, outputs) = Node::registered(vec![session(5)]);
    let response = ngap(&outputs)
        .into_iter()
        .find_map(|m| match m {
            NgapMessage::InitialContextSetupResponse(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert!(response.setup.is_empty());
    assert_eq!(response.failed.len(), 1);
    assert_eq!(response.failed[0].pdu_session_id, PduSessionId(5));

    let request = PduSessionResourceSetupRequest {
        ids: node.ids(),
        nas_pdu: Some(vec![0x7e, 0x00, 0x68]),
        sessions: vec![session(6), session(7)],
        ue_ambr: None,
    };
    node.receive(AMF, request.into());
    let outputs = node.drain();
    let NgapMessage::PduSessionResourceSetupResponse(answer) = &ngap(&outputs)[0] else {
        panic!("{outputs:?}");
    };
    let failed: Vec<_> = answer.failed.iter().map(|f| f.pdu_session_id.0).collect();
    assert_eq!(failed, [6, 7]);
    assert_eq!(
        node.n3iwf.stats().dl_nas_queued,
        1,
        "its NAS PDU waits for TCP"
    );

    let command = PduSessionResourceReleaseCommand {
        ids: node.ids(),
        nas_pdu: None,
        sessions: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(6),
            transfer: vec![0x00],
        }],
    };
    node.receive(AMF, command.into());
    let NgapMessage::PduSessionResourceReleaseResponse(released) = &ngap(&node.drain())[0] else {
        panic!("no release response");
    };
    assert_eq!(released.released[0].pdu_session_id, PduSessionId(6));
}

#[test]
fn an_error_indication_from_the_amf_is_reported_not_answered() {
    let (mut node, _) = Node::registered(Vec::new());
    let indication = ErrorIndication {
        amf_ue_ngap_id: Some(amf_ue()),
        ran_ue_ngap_id: None,
        cause: Some(Cause::Misc(MiscCause::UNSPECIFIED)),
        diagnostics: None,
    };
    node.receive(AMF, indication.into());
    let outputs = node.drain();
    assert!(ngap(&outputs).is_empty());
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::Event(Event::ErrorIndicationReceived { amf: AMF, .. })
    )));
    assert_eq!(node.n3iwf.ue(SA).unwrap().state, "registered-wait-nas-tcp");
}
