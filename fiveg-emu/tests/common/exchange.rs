//! Drives the two emulated ends through registration, de-registration and the failure paths and
//! collects the plain messages they send, for the codec oracles.

use fiveg_emu::amf::{AmfConfig, AmfEvent, AmfFaults, AmfNas, Subscriber, SubscriberDb};
use fiveg_emu::identity::{AmfId, Plmn, Supi};
use fiveg_emu::nas::{NasPdu, Nssai, SNssai, UeSecurityCapability};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::ue::{UeConfig, UeEvent, UeNas};
use fiveg_emu::values::{AuthMgmtField, Sqn};

fn supi() -> Supi {
    Supi::new(Plmn::new("208", "93").unwrap(), "0000000001").unwrap()
}

/// Every plain message both ends produce in registration, de-registration and the failure
/// paths (protected ones after deciphering), collected by driving the two emulators.
pub fn produced_messages() -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for (ue_key_flip, sqn_ms, reject) in [
        (0u8, 0u64, false),
        (0x80, 0, false),
        (0, 0x1000, false),
        (0, 0, true),
    ] {
        all.extend(one_run(ue_key_flip, sqn_ms, reject));
    }
    all
}

fn one_run(ue_key_flip: u8, sqn_ms: u64, reject: bool) -> Vec<Vec<u8>> {
    let k = [0x11u8; 16];
    let mut ue_k = k;
    ue_k[0] ^= ue_key_flip;
    let mut db = SubscriberDb::default();
    db.insert(Subscriber::new(
        supi(),
        &SubscriberKey::from_bytes(k),
        Opc::from_bytes([0x22; 16]),
        Sqn::new(5).unwrap(),
        AuthMgmtField::SEPARATION,
    ));
    let faults = AmfFaults {
        registration_reject: reject.then_some(fiveg_emu::nas::GmmCause::CONGESTION),
        ..AmfFaults::default()
    };
    let config = AmfConfig {
        plmn: supi().plmn(),
        amf_id: AmfId::new(1, 2, 3).unwrap(),
        allowed_nssai: Nssai(vec![SNssai::new(1, Some([0, 0, 1]))]),
        faults,
    };
    let mut amf = AmfNas::new(config, 1);
    let mut ue = UeNas::new(UeConfig {
        supi: supi(),
        k: SubscriberKey::from_bytes(ue_k),
        opc: Opc::from_bytes([0x22; 16]),
        sqn_ms: Sqn::new(sqn_ms).unwrap(),
        serving_plmn: supi().plmn(),
        capability: UeSecurityCapability::new(0xA0, 0x20),
        requested_nssai: None,
    });
    let mut seen = Vec::new();
    let mut uplink = vec![ue.start_registration().unwrap()];
    for step in 0..20 {
        if uplink.is_empty() && step > 0 && ue.guti().is_some() && amf.is_registered() {
            uplink.push(ue.deregister(false).unwrap());
        }
        let Some(pdu) = uplink.pop() else { break };
        seen.push(pdu.clone());
        for event in amf.handle_uplink(&mut db, &pdu) {
            let down = match event {
                AmfEvent::Downlink(pdu) => pdu,
                AmfEvent::ContextReady(context) => context.registration_accept.clone(),
                AmfEvent::Deregistered { .. } => return plain_only(seen),
                _ => continue,
            };
            seen.push(down.clone());
            for ev in ue.handle_downlink(&down) {
                if let UeEvent::Uplink(pdu) = ev {
                    uplink.push(pdu);
                }
            }
        }
    }
    plain_only(seen)
}

/// Keeps plain PDUs, and the payload of protected ones that are not ciphered (the SECURITY MODE
/// COMMAND); ciphered payloads are checked by the registration tests instead.
fn plain_only(pdus: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    pdus.into_iter()
        .filter_map(|pdu| match NasPdu::decode(&pdu).unwrap() {
            NasPdu::Plain(_) => Some(pdu),
            NasPdu::Protected(p) if !p.header_type.is_ciphered() => Some(p.payload),
            NasPdu::Protected(_) => None,
        })
        .collect()
}

/// Every 5GSM message both ends produce, and the UL NAS TRANSPORTs around the UE's, in
/// establishment (with a second flow), refusal and release from either side.
pub fn produced_sm_messages() -> Vec<Vec<u8>> {
    use fiveg_emu::amf::smf::{FlowConfig, SecondFlow, SessionKey, SmfConfig, SmfOutcome};
    use fiveg_emu::nas::sm::SmCause;
    use n3iwf::ids::{PduSessionId, Qfi};

    use super::session_world::{UE, World};

    let config = SmfConfig {
        pool: "10.9.0.0/30".parse().unwrap(),
        second_flow: Some(SecondFlow {
            flow: FlowConfig {
                qfi: Qfi::new(2).unwrap(),
                five_qi: 7,
            },
            remote_port: 5004,
        }),
        ..SmfConfig::default()
    };
    let mut world = World::registered(config);
    world.establish(1);
    world.establish(2);
    // The pool is exhausted: REJECT.
    let _ = world.request(3);
    // UE-requested release of 1, network-requested release of 2.
    let pdu = world.ue.release_pdu_session(PduSessionId(1)).unwrap();
    let mut commands = Vec::new();
    if let SmfOutcome::Release { n1, .. } = world.via_amf(&pdu) {
        commands.push((PduSessionId(1), n1));
    }
    let key = SessionKey {
        ue: UE,
        id: PduSessionId(2),
    };
    if let SmfOutcome::Release { n1, .. } = world.smf.release(key, SmCause::REGULAR_DEACTIVATION) {
        world.plain.push(n1.clone());
        commands.push((PduSessionId(2), n1));
    }
    for (id, n1) in commands {
        for event in world.via_dl_transport(id, n1) {
            if let UeEvent::Uplink(complete) = event {
                world.via_amf(&complete);
            }
        }
    }
    world.plain
}
