//! The emulated AMF on N2 with PDU sessions: a registered UE asks for a session, the AMF sends
//! PDU SESSION RESOURCE SETUP REQUEST with the SMF's transfer and the ACCEPT inside; the
//! N3IWF's answer (played by the test) establishes the session or drops it; release from the UE
//! and from the network goes through PDU SESSION RESOURCE RELEASE COMMAND.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use fiveg_emu::amf::smf::{SmfConfig, Teid};
use fiveg_emu::amf::{AcceptMode, AmfNode, AmfNodeEvent, Subscriber, SubscriberDb};
use fiveg_emu::amf_sim::SimConfig;
use fiveg_emu::identity::Supi;
use fiveg_emu::nas::sm::Dnn;
use fiveg_emu::nas::{Nssai, SNssai, UeSecurityCapability};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::ue::{PduSessionRequest, UeConfig, UeEvent, UeNas};
use fiveg_emu::values::{AuthMgmtField, Sqn};
use n3iwf::ids::{FiveQi, PduSessionId, Qfi};
use n3iwf::ngap::{
    Cause, GtpTunnel, InitialContextSetupResponse, InitialUeMessage, N3iwfUserLocation,
    NgapMessage, PduSessionResourceReleaseResponse, PduSessionResourceSetupRequest,
    PduSessionResourceSetupRequestTransfer, PduSessionResourceSetupResponse,
    PduSessionResourceSetupResponseTransfer, PduSessionTransfer, RadioNetworkCause, RanUeNgapId,
    RrcEstablishmentCause, TransportAddress, UeNgapIds, UplinkNasTransport,
    release_response_transfer, setup_unsuccessful_transfer,
};

const N3IWF_N3: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);

/// The test plays the N3IWF between the emulated AMF and UE.
struct Ran {
    amf: AmfNode,
    ue: UeNas,
    supi: Supi,
    now: Instant,
    ids: Option<UeNgapIds>,
    ue_events: Vec<UeEvent>,
}

impl Ran {
    fn new(smf: SmfConfig) -> Self {
        let mut config = SimConfig::new("208-93").unwrap();
        config.node.accept_mode = AcceptMode::InContextSetup;
        config.node.smf = smf;
        let spec = config.subscribers[0].clone();
        let mut db = SubscriberDb::default();
        db.insert(Subscriber::new(
            spec.supi.clone(),
            &SubscriberKey::from_bytes(*spec.k),
            Opc::from_bytes(*spec.opc),
            Sqn::new(spec.sqn).unwrap(),
            AuthMgmtField::SEPARATION,
        ));
        let ue = UeNas::new(UeConfig {
            supi: spec.supi.clone(),
            k: SubscriberKey::from_bytes(*spec.k),
            opc: Opc::from_bytes(*spec.opc),
            sqn_ms: Sqn::new(0).unwrap(),
            serving_plmn: config.node.nas.plmn,
            capability: UeSecurityCapability::new(0xA0, 0x20),
            requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
        });
        Self {
            amf: AmfNode::new(config.node, db),
            ue,
            supi: spec.supi,
            now: Instant::now(),
            ids: None,
            ue_events: Vec::new(),
        }
    }

    fn location() -> N3iwfUserLocation {
        N3iwfUserLocation {
            address: TransportAddress::V4(Ipv4Addr::new(198, 51, 100, 1)),
            port: 4500,
        }
    }

    fn send(&mut self, message: impl Into<NgapMessage>) {
        let octets = message.into().encode().unwrap();
        self.amf.handle_ngap(1, &octets, self.now);
    }

    fn uplink(&mut self, nas_pdu: Vec<u8>) {
        let ids = self.ids.unwrap();
        let location = Self::location();
        self.send(UplinkNasTransport {
            ids,
            nas_pdu,
            location,
        });
    }

    /// NAS for the UE; its answers go up.
    fn deliver_to_ue(&mut self, nas: &[u8]) {
        for event in self.ue.handle_downlink(nas) {
            match event {
                UeEvent::Uplink(pdu) => self.uplink(pdu),
                other => self.ue_events.push(other),
            }
        }
    }

    /// Delivers what the AMF sends until it is quiet (bounded); returns the session messages,
    /// whose NAS-PDUs went to the UE.
    fn pump(&mut self) -> Vec<NgapMessage> {
        let mut kept = Vec::new();
        for _ in 0..50 {
            let Some((_, octets)) = self.amf.poll_transmit(self.now) else {
                return kept;
            };
            match NgapMessage::decode(&octets).unwrap().message {
                NgapMessage::DownlinkNasTransport(m) => {
                    self.ids = Some(m.ids);
                    self.deliver_to_ue(&m.nas_pdu);
                }
                NgapMessage::InitialContextSetupRequest(m) => {
                    self.ids = Some(m.ids);
                    self.send(InitialContextSetupResponse {
                        ids: m.ids,
                        setup: Vec::new(),
                        failed: Vec::new(),
                        diagnostics: None,
                    });
                    self.deliver_to_ue(&m.nas_pdu.unwrap());
                }
                NgapMessage::PduSessionResourceSetupRequest(m) => {
                    for item in &m.sessions {
                        self.deliver_to_ue(item.nas_pdu.as_ref().unwrap());
                    }
                    kept.push(NgapMessage::PduSessionResourceSetupRequest(m));
                }
                NgapMessage::PduSessionResourceReleaseCommand(m) => {
                    self.deliver_to_ue(m.nas_pdu.as_ref().unwrap());
                    kept.push(NgapMessage::PduSessionResourceReleaseCommand(m));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("the AMF did not go quiet");
    }

    fn register(&mut self) {
        let nas_pdu = self.ue.start_registration().unwrap();
        self.send(InitialUeMessage {
            ran_ue_ngap_id: RanUeNgapId(1),
            nas_pdu,
            location: Self::location(),
            rrc_establishment_cause: RrcEstablishmentCause::MO_SIGNALLING,
            five_g_s_tmsi: None,
            amf_set_id: None,
            ue_context_requested: true,
            allowed_nssai: None,
            selected_plmn: None,
        });
        assert!(self.pump().is_empty());
        assert!(self.amf.is_registered(self.ids.unwrap().amf));
        assert!(matches!(
            self.ue_events.pop(),
            Some(UeEvent::Registered(Some(_)))
        ));
        self.ue_events.clear();
    }

    /// The UE asks for session `id`; the PDU SESSION RESOURCE SETUP REQUEST that follows.
    fn request_session(&mut self, id: u8) -> PduSessionResourceSetupRequest {
        let request = PduSessionRequest {
            id: PduSessionId(id),
            snssai: SNssai::new(1, None),
            dnn: Dnn::new("internet").unwrap(),
        };
        let pdu = self.ue.request_pdu_session(&request).unwrap();
        self.uplink(pdu);
        match self.pump().pop() {
            Some(NgapMessage::PduSessionResourceSetupRequest(m)) => m,
            other => panic!("no setup request: {other:?}"),
        }
    }

    fn answer_setup(&mut self, id: u8, dl_teid: u32) {
        let transfer = PduSessionResourceSetupResponseTransfer {
            dl_tunnel: GtpTunnel {
                address: TransportAddress::V4(N3IWF_N3),
                teid: Teid(dl_teid),
            },
            qos_flows: vec![Qfi::new(1).unwrap()],
            security_result: None,
        };
        self.send(PduSessionResourceSetupResponse {
            ids: self.ids.unwrap(),
            setup: vec![PduSessionTransfer {
                pdu_session_id: PduSessionId(id),
                transfer: transfer.encode().unwrap(),
            }],
            failed: Vec::new(),
            diagnostics: None,
        });
    }

    fn events(&mut self) -> Vec<AmfNodeEvent> {
        std::iter::from_fn(|| self.amf.poll_event()).collect()
    }
}

#[test]
fn a_session_is_set_up_through_n2_and_reported_with_both_tunnel_ends() {
    let mut ran = Ran::new(SmfConfig {
        upf_n3: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        ..SmfConfig::default()
    });
    ran.register();
    ran.events();
    let request = ran.request_session(5);
    let [item] = request.sessions.as_slice() else {
        panic!("one session");
    };
    assert_eq!(item.pdu_session_id, PduSessionId(5));
    let transfer = PduSessionResourceSetupRequestTransfer::decode(&item.transfer).unwrap();
    assert_eq!(
        transfer.ul_tunnel.address,
        TransportAddress::V4(Ipv4Addr::new(203, 0, 113, 9))
    );
    assert_ne!(transfer.ul_tunnel.teid, Teid(0));
    assert_eq!(transfer.qos_flows.len(), 1);
    assert_eq!(transfer.qos_flows[0].qfi, Qfi::new(1).unwrap());
    assert_eq!(
        transfer.qos_flows[0].characteristics.five_qi(),
        Some(FiveQi(9))
    );
    assert_eq!(transfer.session_ambr.unwrap().downlink, 1_000_000_000);
    // The UE read the ACCEPT carried in the request.
    assert!(matches!(
        ran.ue_events.as_slice(),
        [UeEvent::PduSessionEstablished(s)] if s.address == Some(Ipv4Addr::new(10, 60, 0, 1))
    ));

    ran.answer_setup(5, 0xabcd);
    let amf_ue = ran.ids.unwrap().amf;
    let events = ran.events();
    let established = events.iter().find_map(|e| match e {
        AmfNodeEvent::PduSessionEstablished { supi, session, .. } => Some((supi, session)),
        _ => None,
    });
    let (supi, session) = established.expect("no PduSessionEstablished");
    assert_eq!(supi.as_ref(), Some(&ran.supi));
    assert_eq!(session.key.ue, amf_ue.value());
    assert_eq!(session.ue_address, Ipv4Addr::new(10, 60, 0, 1));
    assert_eq!(session.uplink.teid, transfer.ul_tunnel.teid);
    assert_eq!(session.downlink.teid, Teid(0xabcd));
    assert_eq!(session.downlink.address, IpAddr::V4(N3IWF_N3));
    assert_eq!(session.qfis, [Qfi::new(1).unwrap()]);
}

#[test]
fn the_ue_releases_through_a_release_command_and_the_address_is_free_again() {
    let mut ran = Ran::new(SmfConfig::default());
    ran.register();
    ran.request_session(1);
    ran.answer_setup(1, 7);
    ran.events();
    let pdu = ran.ue.release_pdu_session(PduSessionId(1)).unwrap();
    ran.uplink(pdu);
    let messages = ran.pump();
    let [NgapMessage::PduSessionResourceReleaseCommand(command)] = messages.as_slice() else {
        panic!("no release command: {messages:?}");
    };
    assert_eq!(command.sessions[0].pdu_session_id, PduSessionId(1));
    ran.send(PduSessionResourceReleaseResponse {
        ids: command.ids,
        released: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(1),
            transfer: release_response_transfer().unwrap(),
        }],
        location: None,
        diagnostics: None,
    });
    let events = ran.events();
    assert!(events.iter().any(
        |e| matches!(e, AmfNodeEvent::PduSessionReleased { id, .. } if *id == PduSessionId(1))
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AmfNodeEvent::PduSessionResourcesReleased { .. }))
    );
    assert_eq!(ran.amf.smf().addresses_in_use(), 0);
    assert!(ran.ue.pdu_session(PduSessionId(1)).is_none());
}

#[test]
fn a_failed_session_is_dropped_and_reported() {
    let mut ran = Ran::new(SmfConfig::default());
    ran.register();
    ran.request_session(2);
    let cause = Cause::RadioNetwork(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE);
    ran.send(PduSessionResourceSetupResponse {
        ids: ran.ids.unwrap(),
        setup: Vec::new(),
        failed: vec![PduSessionTransfer {
            pdu_session_id: PduSessionId(2),
            transfer: setup_unsuccessful_transfer(cause).unwrap(),
        }],
        diagnostics: None,
    });
    let events = ran.events();
    assert!(
        events.iter().any(
            |e| matches!(e, AmfNodeEvent::PduSessionFailed { id, .. } if *id == PduSessionId(2))
        )
    );
    assert_eq!(ran.amf.smf().session_count(), 0);
    // A setup answer naming a session that is gone establishes nothing.
    ran.answer_setup(2, 9);
    let events = ran.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AmfNodeEvent::PduSessionEstablished { .. }))
    );
}

#[test]
fn the_network_releases_a_session_and_a_refused_one_gets_a_reject() {
    let mut ran = Ran::new(SmfConfig {
        max_sessions: 1,
        ..SmfConfig::default()
    });
    ran.register();
    ran.request_session(1);
    ran.answer_setup(1, 7);
    // The bound: a second session is refused with a REJECT in DL NAS TRANSPORT.
    let request = PduSessionRequest {
        id: PduSessionId(2),
        snssai: SNssai::new(1, None),
        dnn: Dnn::new("internet").unwrap(),
    };
    let pdu = ran.ue.request_pdu_session(&request).unwrap();
    ran.uplink(pdu);
    assert!(ran.pump().is_empty());
    assert!(matches!(
        ran.ue_events.last(),
        Some(UeEvent::PduSessionRejected {
            id: PduSessionId(2),
            ..
        })
    ));
    ran.events();

    let amf_ue = ran.ids.unwrap().amf;
    assert!(
        ran.amf
            .release_pdu_session(amf_ue, PduSessionId(1), ran.now)
    );
    let messages = ran.pump();
    assert!(matches!(
        messages.as_slice(),
        [NgapMessage::PduSessionResourceReleaseCommand(_)]
    ));
    assert!(matches!(
        ran.ue_events.last(),
        Some(UeEvent::PduSessionReleased {
            id: PduSessionId(1),
            ..
        })
    ));
    let events = ran.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AmfNodeEvent::PduSessionReleased { .. }))
    );
    assert!(
        !ran.amf
            .release_pdu_session(amf_ue, PduSessionId(1), ran.now)
    );
}
