//! A registered emulated UE and the AMF with its SMF, in memory, for the PDU session tests
//! and the codec oracles.

use std::net::{IpAddr, Ipv4Addr};

use fiveg_emu::amf::smf::{SessionSetup, Smf, SmfConfig, SmfOutcome, Teid, TunnelEnd};
use fiveg_emu::amf::{AmfConfig, AmfEvent, AmfFaults, AmfNas, Subscriber, SubscriberDb};
use fiveg_emu::identity::{AmfId, Plmn, Supi};
use fiveg_emu::nas::sm::Dnn;
use fiveg_emu::nas::{GmmMessage, NasTransport, Nssai, SNssai, UeSecurityCapability};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::ue::{PduSessionRequest, UeConfig, UeEvent, UeNas};
use fiveg_emu::values::{AuthMgmtField, Sqn};
use n3iwf::ids::PduSessionId;

pub const UE: u64 = 0x10_0000;

fn supi() -> Supi {
    Supi::new(Plmn::new("208", "93").unwrap(), "0000000001").unwrap()
}

pub struct World {
    pub amf: AmfNas,
    pub db: SubscriberDb,
    pub ue: UeNas,
    pub smf: Smf,
    /// Every plain message seen: 5GMM UL NAS TRANSPORTs re-encoded after the AMF read them,
    /// and the 5GSM messages both ways.
    pub plain: Vec<Vec<u8>>,
}

impl World {
    /// A registered UE and an SMF with `config`.
    pub fn registered(config: SmfConfig) -> Self {
        let mut db = SubscriberDb::default();
        let k = [0x11u8; 16];
        db.insert(Subscriber::new(
            supi(),
            &SubscriberKey::from_bytes(k),
            Opc::from_bytes([0x22; 16]),
            Sqn::new(5).unwrap(),
            AuthMgmtField::SEPARATION,
        ));
        let amf = AmfNas::new(
            AmfConfig {
                plmn: supi().plmn(),
                amf_id: AmfId::new(1, 2, 3).unwrap(),
                allowed_nssai: Nssai(vec![SNssai::new(1, None)]),
                faults: AmfFaults::default(),
            },
            1,
        );
        let ue = UeNas::new(UeConfig {
            supi: supi(),
            k: SubscriberKey::from_bytes(k),
            opc: Opc::from_bytes([0x22; 16]),
            sqn_ms: Sqn::new(0).unwrap(),
            serving_plmn: supi().plmn(),
            capability: UeSecurityCapability::new(0xA0, 0x20),
            requested_nssai: None,
        });
        let mut world = Self {
            amf,
            db,
            ue,
            smf: Smf::new(config),
            plain: Vec::new(),
        };
        world.register();
        world
    }

    fn register(&mut self) {
        let mut uplink = vec![self.ue.start_registration().unwrap()];
        for _ in 0..10 {
            let Some(pdu) = uplink.pop() else { break };
            for event in self.amf.handle_uplink(&mut self.db, &pdu) {
                let down = match event {
                    AmfEvent::Downlink(pdu) => pdu,
                    AmfEvent::ContextReady(context) => context.registration_accept.clone(),
                    _ => continue,
                };
                for event in self.ue.handle_downlink(&down) {
                    if let UeEvent::Uplink(pdu) = event {
                        uplink.push(pdu);
                    }
                }
            }
        }
        assert!(self.amf.is_registered() && self.ue.guti().is_some());
    }

    /// An uplink NAS PDU through the AMF to the SMF.
    pub fn via_amf(&mut self, pdu: &[u8]) -> SmfOutcome {
        let events = self.amf.handle_uplink(&mut self.db, pdu);
        let [AmfEvent::UplinkTransport(transport)] = events.as_slice() else {
            panic!("the AMF did not pass the transport on");
        };
        let plain = GmmMessage::UlNasTransport(transport.clone())
            .encode()
            .unwrap();
        self.plain.extend([plain, transport.payload.clone()]);
        let outcome = self.smf.handle_uplink(UE, transport);
        if let SmfOutcome::Reply { n1, .. } | SmfOutcome::Release { n1, .. } = &outcome {
            self.plain.push(n1.clone());
        }
        if let SmfOutcome::Setup(setup) = &outcome {
            self.plain.push(setup.accept.clone());
        }
        outcome
    }

    /// A 5GSM message from the SMF to the UE in a protected DL NAS TRANSPORT.
    pub fn via_dl_transport(&mut self, id: PduSessionId, n1: Vec<u8>) -> Vec<UeEvent> {
        let pdu = self
            .amf
            .downlink_transport(NasTransport::n1_sm(id, n1))
            .unwrap();
        self.ue.handle_downlink(&pdu)
    }

    pub fn request(&mut self, id: u8) -> SmfOutcome {
        let request = PduSessionRequest {
            id: PduSessionId(id),
            snssai: SNssai::new(1, None),
            dnn: Dnn::new("internet").unwrap(),
        };
        let pdu = self.ue.request_pdu_session(&request).unwrap();
        self.via_amf(&pdu)
    }

    /// Establishes session `id`: the SMF's setup, then the N3IWF's tunnel end.
    pub fn establish(&mut self, id: u8) -> (Box<SessionSetup>, Vec<UeEvent>) {
        let SmfOutcome::Setup(setup) = self.request(id) else {
            panic!("the SMF refused session {id}");
        };
        let events = self.via_dl_transport(PduSessionId(id), setup.accept.clone());
        let n3iwf = TunnelEnd {
            address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            teid: Teid(0x4000 + u32::from(id)),
        };
        let qfis = setup.flows.iter().map(|f| f.qfi).collect();
        assert!(self.smf.on_setup_done(setup.key, n3iwf, qfis).is_some());
        (setup, events)
    }
}
