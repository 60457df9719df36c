//! PDU sessions of registered UEs, driven with hand-built NGAP and the engine's reports: the
//! Child SA asked for each session one at a time, the response and the NAS-PDU only once they
//! are settled, failures with their causes, releases, rekeys, TEIDs and bounds.

use std::net::{IpAddr, Ipv4Addr};

use n3iwf::ids::{FiveQi, PduSessionId, Qfi, Snssai, Teid};
use n3iwf::ngap::{
    AmfUeNgapId, Arp, Cause, DownlinkNasTransport, GtpTunnel, InitialContextSetupRequest,
    NgapMessage, PduSessionResourceReleaseCommand, PduSessionResourceSetupRequest,
    PduSessionResourceSetupRequestTransfer, PduSessionResourceSetupResponseTransfer,
    PduSessionSetupItem, PduSessionTransfer, PduSessionType, ProtocolCause, QosCharacteristics,
    QosFlowRequest, RadioNetworkCause, SecurityKey, SessionAmbr, TransportAddress, TransportCause,
    UeContextReleaseCommand, UeNgapIdentity, UeNgapIds, UeSecurityCapabilities,
    setup_unsuccessful_transfer,
};
use n3iwf::node::{ChildRequestId, EapAnswer, Limits, UserPlaneChildRequest, UserPlaneSession};
use n3iwf::wire::eap5g::Eap5g;
use n3iwf::{AmfRef, IkeSaRef, NasConnId, Output};

use crate::amf_selection::{N3_ADDRESS, Node, by_guami, config};

const AMF: AmfRef = AmfRef(0);
const UPF: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn transfer(ul_teid: u32, qfis: &[u8]) -> Vec<u8> {
    let flow = |qfi: &u8| QosFlowRequest {
        qfi: Qfi::new(*qfi).unwrap(),
        characteristics: QosCharacteristics::NonDynamic { five_qi: FiveQi(9) },
        arp: Arp {
            priority_level: 8,
            may_trigger_pre_emption: false,
            pre_emptable: false,
        },
        gbr: None,
    };
    PduSessionResourceSetupRequestTransfer {
        ul_tunnel: GtpTunnel {
            address: TransportAddress::V4(UPF),
            teid: Teid(ul_teid),
        },
        session_type: PduSessionType::Ipv4,
        qos_flows: qfis.iter().map(flow).collect(),
        session_ambr: Some(SessionAmbr {
            downlink: 10_000_000,
            uplink: 5_000_000,
        }),
        security: None,
        network_instance: None,
    }
    .encode()
    .unwrap()
}

/// PDU session `id` of UE 1: UL TEID 1000 + id, QFI 1 and 2, and its ESTABLISHMENT ACCEPT
/// tagged `id`.
fn item(id: u8) -> PduSessionSetupItem {
    item_of(1, id)
}

/// The same for UE `n`, whose UL TEIDs are 1000 × `n` + id: the UPF gives every session its
/// own.
fn item_of(n: u64, id: u8) -> PduSessionSetupItem {
    PduSessionSetupItem {
        pdu_session_id: PduSessionId(id),
        nas_pdu: Some(accept(id)),
        snssai: Snssai::new(1),
        transfer: transfer(1000 * n as u32 + u32::from(id), &[1, 2]),
    }
}

fn accept(id: u8) -> Vec<u8> {
    vec![0x2e, id, 0xc2]
}

/// A UE of the node, registered, with its NAS TCP connection up.
struct Ue {
    sa: IkeSaRef,
    ids: UeNgapIds,
    inner: Ipv4Addr,
    conn: NasConnId,
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

fn child_requests(outputs: &[Output]) -> Vec<UserPlaneChildRequest> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::CreateChildSa { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn added(outputs: &[Output]) -> Vec<UserPlaneSession> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::UserPlaneAdd(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The NAS messages written to the UE's connection (each framed with its 2-octet length).
fn nas_sent(outputs: &[Output]) -> Vec<Vec<u8>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::NasTcpSend { octets, .. } => Some(octets[2..].to_vec()),
            _ => None,
        })
        .collect()
}

fn position(outputs: &[Output], f: impl Fn(&Output) -> bool) -> usize {
    outputs.iter().position(f).unwrap()
}

fn node_with(limits: Limits) -> Node {
    let mut config = config(2);
    config.limits = limits;
    Node::two_amfs_with(config)
}

impl Node {
    /// Registers UE `n` (IKE SA `n`, AMF UE NGAP ID 0x40 + `n`) with `sessions` in its context
    /// setup, and connects its NAS TCP; returns it and what the signalling SA brought.
    fn ue(&mut self, n: u64, sessions: Vec<PduSessionSetupItem>) -> (Ue, Vec<Output>) {
        let sa = IkeSaRef(n);
        assert_eq!(self.register(n, by_guami(1)), Some(AMF));
        let ran = self.n3iwf.ue(sa).unwrap().ran_ue_ngap_id.unwrap();
        let ids = UeNgapIds {
            amf: AmfUeNgapId::new(0x40 + n).unwrap(),
            ran,
        };
        let downlink = DownlinkNasTransport {
            ids,
            nas_pdu: vec![0x7e, 0x00, 0x56],
            allowed_nssai: None,
        };
        self.receive(AMF, downlink.into());
        let request = self
            .drain()
            .into_iter()
            .find_map(|o| match o {
                Output::EapAnswer {
                    answer: EapAnswer::Request(p),
                    ..
                } => Some(Eap5g::parse(&p).unwrap().id()),
                _ => None,
            })
            .unwrap();
        let response = Eap5g::NasResponse {
            id: request,
            an_parameters: Default::default(),
            nas_pdu: vec![0x7e, 0x00, 0x57],
        };
        self.n3iwf
            .handle_eap_message(sa, &response.to_bytes().unwrap(), self.now);
        self.drain();
        let setup = InitialContextSetupRequest {
            ids,
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
        self.receive(AMF, setup.into());
        self.drain();
        let inner = self.n3iwf.ue(sa).unwrap().inner_address.unwrap();
        let conn = NasConnId(n);
        self.n3iwf.handle_signalling_sa_up(sa, self.now);
        let mut outputs = self.drain();
        self.n3iwf
            .handle_nas_tcp_connected(conn, IpAddr::V4(inner), self.now);
        outputs.extend(self.drain());
        let ue = Ue {
            sa,
            ids,
            inner,
            conn,
        };
        (ue, outputs)
    }

    fn setup(&mut self, ue: &Ue, sessions: Vec<PduSessionSetupItem>) -> Vec<Output> {
        let request = PduSessionResourceSetupRequest {
            ids: ue.ids,
            nas_pdu: None,
            sessions,
            ue_ambr: None,
        };
        self.receive(AMF, request.into());
        self.drain()
    }

    /// The engine creates the Child SA of `request`: SPIs 0x1000 + its PDU session ID (ours)
    /// and 0x2000 + it (the UE's).
    fn created(&mut self, ue: &Ue, request: &UserPlaneChildRequest) -> Vec<Output> {
        let id = u32::from(request.pdu_session_id.0);
        self.n3iwf
            .handle_child_sa_created(ue.sa, request.id, 0x1000 + id, 0x2000 + id, self.now);
        self.drain()
    }

    /// Sets up sessions `ids` of `ue`, each Child SA created; returns the final outputs.
    fn set_up(&mut self, ue: &Ue, ids: &[u8]) -> Vec<Output> {
        let mut outputs = self.setup(ue, ids.iter().map(|i| item_of(ue.sa.0, *i)).collect());
        for _ in ids {
            let request = child_requests(&outputs).pop().unwrap();
            outputs = self.created(ue, &request);
        }
        outputs
    }
}

fn setup_response(outputs: &[Output]) -> n3iwf::ngap::PduSessionResourceSetupResponse {
    ngap(outputs)
        .into_iter()
        .find_map(|m| match m {
            NgapMessage::PduSessionResourceSetupResponse(r) => Some(r),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no setup response in {outputs:?}"))
}

fn failed_with(response: &[PduSessionTransfer], id: u8, cause: Cause) {
    let item = response
        .iter()
        .find(|f| f.pdu_session_id == PduSessionId(id))
        .unwrap_or_else(|| panic!("session {id} is not in the failed list"));
    assert_eq!(item.transfer, setup_unsuccessful_transfer(cause).unwrap());
}

#[test]
fn one_session_one_child_and_the_accept_only_after_it() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.setup(&ue, vec![item(5)]);
    let [request] = child_requests(&outputs).try_into().unwrap();
    assert_eq!(request.pdu_session_id, PduSessionId(5));
    assert_eq!(request.ue_inner_address, ue.inner);
    // No up_address configured: the NAS address.
    assert_eq!(request.up_address, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    let qfis: Vec<_> = request.qos_info.qfis.iter().map(|q| q.value()).collect();
    assert_eq!(qfis, [1, 2]);
    assert!(request.qos_info.default_child_sa);
    let notifies = request.notifies().unwrap();
    assert_eq!(
        notifies[1],
        n3iwf::wire::notify3gpp::N3gppNotify::UpIp4Address(Ipv4Addr::new(10, 0, 0, 1))
    );
    assert!(ngap(&outputs).is_empty(), "no response before the child");
    assert!(nas_sent(&outputs).is_empty(), "no accept before the child");

    let outputs = node.created(&ue, &request);
    let [session] = added(&outputs).try_into().unwrap();
    assert_eq!(session.sa, ue.sa);
    assert_eq!(session.pdu_session_id, PduSessionId(5));
    assert_ne!(session.dl_teid, Teid(0));
    assert_eq!(
        session.upf,
        GtpTunnel {
            address: TransportAddress::V4(UPF),
            teid: Teid(1005)
        }
    );
    assert_eq!(session.ue_inner_address, ue.inner);
    assert_eq!(session.children.len(), 1);
    let child = &session.children[0];
    assert_eq!((child.inbound_spi, child.outbound_spi), (0x1005, 0x2005));
    assert!(child.default);
    assert_eq!(
        session.child_of(Qfi::new(9).unwrap()).unwrap().inbound_spi,
        0x1005,
        "an unmapped QFI goes to the default child"
    );
    assert_eq!(nas_sent(&outputs), [accept(5)]);
    // The user plane is in before the accept reaches the UE, and the response goes last.
    let add = position(&outputs, |o| matches!(o, Output::UserPlaneAdd(_)));
    let nas = position(&outputs, |o| matches!(o, Output::NasTcpSend { .. }));
    let response_at = position(&outputs, |o| matches!(o, Output::Ngap { .. }));
    assert!(add < nas && nas < response_at);

    let response = setup_response(&outputs);
    assert!(response.failed.is_empty());
    let [setup] = response.setup.try_into().unwrap();
    let transfer = PduSessionResourceSetupResponseTransfer::decode(&setup.transfer).unwrap();
    assert_eq!(
        transfer.dl_tunnel,
        GtpTunnel {
            address: TransportAddress::V4(N3_ADDRESS),
            teid: session.dl_teid
        }
    );
    let qfis: Vec<_> = transfer.qos_flows.iter().map(|q| q.value()).collect();
    assert_eq!(qfis, [1, 2]);
    assert_eq!(node.n3iwf.stats().sessions_set_up, 1);
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 1);
}

#[test]
fn two_sessions_get_their_children_one_after_the_other() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.setup(&ue, vec![item(1), item(2)]);
    let [first] = child_requests(&outputs).try_into().unwrap();
    assert_eq!(first.pdu_session_id, PduSessionId(1));
    let outputs = node.created(&ue, &first);
    let [second] = child_requests(&outputs).try_into().unwrap();
    assert_eq!(second.pdu_session_id, PduSessionId(2));
    assert!(ngap(&outputs).is_empty() && added(&outputs).is_empty());
    let outputs = node.created(&ue, &second);
    let sessions = added(&outputs);
    assert_eq!(sessions.len(), 2);
    assert_ne!(sessions[0].dl_teid, sessions[1].dl_teid);
    let response = setup_response(&outputs);
    let ids: Vec<_> = response.setup.iter().map(|s| s.pdu_session_id.0).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(nas_sent(&outputs), [accept(1), accept(2)]);
}

#[test]
fn the_ue_refusing_the_child_fails_the_session_and_frees_its_teid() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.setup(&ue, vec![item(1), item(2)]);
    let [first] = child_requests(&outputs).try_into().unwrap();
    node.n3iwf.handle_child_sa_failed(ue.sa, first.id, node.now);
    let outputs = node.drain();
    let [second] = child_requests(&outputs).try_into().unwrap();
    let outputs = node.created(&ue, &second);
    let response = setup_response(&outputs);
    let ids: Vec<_> = response.setup.iter().map(|s| s.pdu_session_id.0).collect();
    assert_eq!(ids, [2]);
    let cause = Cause::RadioNetwork(RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE);
    failed_with(&response.failed, 1, cause);
    assert_eq!(
        nas_sent(&outputs),
        [accept(2)],
        "no accept for the refused one"
    );
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 1);
    assert_eq!(node.n3iwf.stats().child_sa_failures, 1);
    // A late or unknown report changes nothing.
    node.n3iwf.handle_child_sa_failed(ue.sa, first.id, node.now);
    node.n3iwf
        .handle_child_sa_created(ue.sa, ChildRequestId(999), 1, 2, node.now);
    assert!(node.drain().is_empty());
}

#[test]
fn a_bad_transfer_and_a_non_ip_session_fail_without_a_child() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    // A transfer without any IE: every mandatory one is missing.
    let mut bad = item(3);
    bad.transfer = vec![0x00, 0x00, 0x00];
    let mut ethernet = item(4);
    let mut decoded = PduSessionResourceSetupRequestTransfer::decode(&ethernet.transfer).unwrap();
    decoded.session_type = PduSessionType::Ethernet;
    ethernet.transfer = decoded.encode().unwrap();
    let outputs = node.setup(&ue, vec![bad, ethernet]);
    assert!(child_requests(&outputs).is_empty());
    let response = setup_response(&outputs);
    assert!(response.setup.is_empty());
    failed_with(
        &response.failed,
        3,
        Cause::Protocol(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT),
    );
    failed_with(
        &response.failed,
        4,
        Cause::RadioNetwork(RadioNetworkCause::UNSPECIFIED),
    );
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 0);
}

#[test]
fn a_duplicate_pdu_session_id_fails() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    node.set_up(&ue, &[1]);
    let cause = Cause::RadioNetwork(RadioNetworkCause::MULTIPLE_PDU_SESSION_ID_INSTANCES);
    // One in use already, and one twice in the request.
    let outputs = node.setup(&ue, vec![item(1), item(2), item(2)]);
    assert!(child_requests(&outputs).is_empty());
    let response = setup_response(&outputs);
    assert!(response.setup.is_empty());
    assert_eq!(response.failed.len(), 3);
    failed_with(&response.failed, 1, cause);
    failed_with(&response.failed, 2, cause);
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 1);
    // Another ID on session 1's UL tunnel: the UPF's errors could not tell them apart.
    let mut same_tunnel = item(4);
    same_tunnel.transfer = transfer(1001, &[1]);
    let response = setup_response(&node.setup(&ue, vec![same_tunnel]));
    failed_with(
        &response.failed,
        4,
        Cause::RadioNetwork(RadioNetworkCause::UNSPECIFIED),
    );
}

#[test]
fn release_deletes_the_child_and_the_user_plane() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.set_up(&ue, &[1]);
    let dl_teid = added(&outputs)[0].dl_teid;
    let command = PduSessionResourceReleaseCommand {
        ids: ue.ids,
        nas_pdu: Some(vec![0x2e, 1, 0xd3]),
        sessions: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(1),
            transfer: vec![0x10],
        }],
    };
    node.receive(AMF, command.into());
    let outputs = node.drain();
    assert!(outputs.iter().any(|o| matches!(o,
        Output::DeleteChildSa { sa, inbound_spi: 0x1001 } if *sa == ue.sa)));
    assert!(outputs.iter().any(|o| matches!(o,
        Output::UserPlaneRemove { dl_teid: t } if *t == dl_teid)));
    let NgapMessage::PduSessionResourceReleaseResponse(released) = &ngap(&outputs)[0] else {
        panic!("{outputs:?}");
    };
    assert_eq!(released.released[0].pdu_session_id, PduSessionId(1));
    assert_eq!(nas_sent(&outputs), [vec![0x2e, 1, 0xd3]]);
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 0);
    assert_eq!(node.n3iwf.stats().sessions_released, 1);
}

#[test]
fn ue_context_release_removes_every_session() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.set_up(&ue, &[1, 2]);
    let teids: Vec<_> = added(&outputs).iter().map(|s| s.dl_teid).collect();
    let command = UeContextReleaseCommand {
        ue: UeNgapIdentity::Pair(ue.ids),
        cause: Cause::Nas(n3iwf::ngap::NasCause::DEREGISTER),
    };
    node.receive(AMF, command.into());
    let outputs = node.drain();
    let removed: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::UserPlaneRemove { dl_teid } => Some(*dl_teid),
            _ => None,
        })
        .collect();
    assert_eq!(removed, teids);
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::CloseIkeSa { .. }))
    );
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 0);
}

#[test]
fn the_ike_sa_gone_removes_every_session() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    node.set_up(&ue, &[1]);
    // One more being set up: its TEID goes too.
    node.setup(&ue, vec![item(2)]);
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 2);
    node.n3iwf
        .handle_ike_sa_closed(ue.sa, n3iwf::IkeSaGone::DeletedByUe, node.now);
    let outputs = node.drain();
    let removed = outputs
        .iter()
        .filter(|o| matches!(o, Output::UserPlaneRemove { .. }))
        .count();
    assert_eq!(removed, 1, "only the session in the datapath leaves it");
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 0);
}

#[test]
fn teids_are_never_zero_and_unique_across_ues() {
    let mut node = Node::two_amfs();
    let mut teids = Vec::new();
    for n in 1..=3 {
        let (ue, _) = node.ue(n, Vec::new());
        let outputs = node.set_up(&ue, &[1, 2]);
        teids.extend(added(&outputs).iter().map(|s| s.dl_teid));
    }
    assert_eq!(teids.len(), 6);
    assert!(teids.iter().all(|t| t.0 != 0));
    let mut unique = teids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), teids.len());
}

#[test]
fn the_per_ue_and_node_bounds_fail_sessions_beyond_them() {
    let cause = Cause::RadioNetwork(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE);
    let mut node = node_with(Limits {
        max_sessions_per_ue: 2,
        max_pdu_sessions: 3,
        ..Limits::default()
    });
    let (first, _) = node.ue(1, Vec::new());
    // Per UE: the third of three fails.
    let mut outputs = node.setup(&first, vec![item(1), item(2), item(3)]);
    for _ in 0..2 {
        let request = child_requests(&outputs).pop().unwrap();
        outputs = node.created(&first, &request);
    }
    let response = setup_response(&outputs);
    assert_eq!(response.setup.len(), 2);
    failed_with(&response.failed, 3, cause);
    // The node: 3 TEIDs, two held; the second UE gets one, then none.
    let (second, _) = node.ue(2, Vec::new());
    let outputs = node.setup(&second, vec![item_of(2, 1), item_of(2, 2)]);
    let request = child_requests(&outputs).pop().unwrap();
    let response = setup_response(&node.created(&second, &request));
    assert_eq!(response.setup.len(), 1);
    failed_with(&response.failed, 2, cause);
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 3);
}

#[test]
fn a_rekeyed_child_moves_the_user_plane_to_the_new_spis() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    let outputs = node.set_up(&ue, &[1]);
    let before = added(&outputs).pop().unwrap();
    node.n3iwf
        .handle_child_sa_rekeyed(ue.sa, 0x1001, 0x3001, 0x4001, node.now);
    let outputs = node.drain();
    let [Output::UserPlaneUpdate(after)] = outputs.as_slice() else {
        panic!("{outputs:?}");
    };
    assert_eq!(after.dl_teid, before.dl_teid);
    let child = &after.children[0];
    assert_eq!((child.inbound_spi, child.outbound_spi), (0x3001, 0x4001));
    // The old SPI names nothing now.
    node.n3iwf
        .handle_child_sa_rekeyed(ue.sa, 0x1001, 0x5001, 0x6001, node.now);
    assert!(node.drain().is_empty());
    assert_eq!(node.n3iwf.stats().child_sa_rekeys, 1);
}

#[test]
fn a_gtpu_error_indication_releases_the_session_with_a_notify() {
    let mut node = Node::two_amfs();
    let (ue, _) = node.ue(1, Vec::new());
    node.set_up(&ue, &[1, 2]);
    node.n3iwf
        .handle_gtpu_error_indication(IpAddr::V4(UPF), Teid(1002), node.now);
    let outputs = node.drain();
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::DeleteChildSa {
            inbound_spi: 0x1002,
            ..
        }
    )));
    assert_eq!(
        outputs
            .iter()
            .filter(|o| matches!(o, Output::UserPlaneRemove { .. }))
            .count(),
        1
    );
    let NgapMessage::PduSessionResourceNotify(notify) = &ngap(&outputs)[0] else {
        panic!("{outputs:?}");
    };
    assert_eq!(notify.released[0].pdu_session_id, PduSessionId(2));
    assert_eq!(
        notify.released[0].transfer,
        n3iwf::ngap::notify_released_transfer(Cause::Transport(
            TransportCause::TRANSPORT_RESOURCE_UNAVAILABLE
        ))
        .unwrap()
    );
    assert_eq!(node.n3iwf.pdu_sessions_in_use(), 1);
    // Another UPF's, or the same again: nothing.
    node.n3iwf
        .handle_gtpu_error_indication(IpAddr::V4(UPF), Teid(1002), node.now);
    assert!(node.drain().is_empty());
}

#[test]
fn context_setup_sessions_answer_the_context_setup_once_their_children_are_up() {
    let mut node = Node::two_amfs();
    let (ue, outputs) = node.ue(1, vec![item(5)]);
    assert!(
        !ngap(&outputs)
            .iter()
            .any(|m| matches!(m, NgapMessage::InitialContextSetupResponse(_))),
        "the response waits for the Child SA"
    );
    let [request] = child_requests(&outputs).try_into().unwrap();
    let outputs = node.created(&ue, &request);
    assert_eq!(added(&outputs).len(), 1);
    let response = ngap(&outputs)
        .into_iter()
        .find_map(|m| match m {
            NgapMessage::InitialContextSetupResponse(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(response.setup[0].pdu_session_id, PduSessionId(5));
    assert_eq!(nas_sent(&outputs), [accept(5)]);
    let _ = ue.conn;
}

/// After an IKE SA rekey the UE goes by the successor: Child SAs are asked of it, and the UE
/// context release closes it, not the SA that no longer exists.
#[test]
fn after_an_ike_rekey_the_successor_carries_the_sessions() {
    let mut node = Node::two_amfs();
    let (mut ue, _) = node.ue(1, Vec::new());
    let new = IkeSaRef(0x77);
    node.n3iwf.handle_ike_sa_rekeyed(ue.sa, new, node.now);
    ue.sa = new;
    let outputs = node.setup(&ue, vec![item(1)]);
    assert!(matches!(&outputs[0], Output::CreateChildSa { sa, .. } if *sa == new));
    let request = child_requests(&outputs).pop().unwrap();
    assert_eq!(added(&node.created(&ue, &request))[0].sa, new);
    let command = UeContextReleaseCommand {
        ue: UeNgapIdentity::Pair(ue.ids),
        cause: Cause::Nas(n3iwf::ngap::NasCause::DEREGISTER),
    };
    node.receive(AMF, command.into());
    let outputs = node.drain();
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::CloseIkeSa { sa } if *sa == new)),
        "{outputs:?}"
    );
}
