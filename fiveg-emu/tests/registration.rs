//! The emulated UE and AMF against each other in memory: registration with 5G-AKA, security
//! mode and KN3IWF, then the failure paths.

#![allow(clippy::unwrap_used)]

use fiveg_emu::amf::{
    AmfConfig, AmfEvent, AmfFaults, AmfNas, DropReason, InitialContext, Subscriber, SubscriberDb,
};
use fiveg_emu::identity::{AmfId, Plmn, Supi};
use fiveg_emu::nas::SecurityHeaderType;
use fiveg_emu::nas::{
    GmmCause, GmmMessage, NasPdu, NasTransport, Nssai, PayloadContainerType, SNssai,
    UeSecurityCapability,
};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::security::{NasCount, SecurityError};
use fiveg_emu::ue::{UeConfig, UeEvent, UeNas};
use fiveg_emu::values::{AuthMgmtField, Sqn};
use oxirush_security as ox;

const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];

fn plmn() -> Plmn {
    Plmn::new("208", "93").unwrap()
}

fn supi() -> Supi {
    Supi::new(plmn(), "0000000001").unwrap()
}

struct Setup {
    amf: AmfNas,
    db: SubscriberDb,
    ue: UeNas,
}

fn setup(ue_key: [u8; 16], ue_sqn_ms: u64, faults: AmfFaults) -> Setup {
    let mut db = SubscriberDb::default();
    let sqn = Sqn::new(0x20).unwrap();
    db.insert(Subscriber::new(
        supi(),
        &SubscriberKey::from_bytes(K),
        Opc::from_bytes(OPC),
        sqn,
        AuthMgmtField::SEPARATION,
    ));
    let config = AmfConfig {
        plmn: plmn(),
        amf_id: AmfId::new(0xCA, 0x3FE, 0x01).unwrap(),
        allowed_nssai: Nssai(vec![SNssai::new(1, None)]),
        faults,
    };
    let ue = UeNas::new(UeConfig {
        supi: supi(),
        k: SubscriberKey::from_bytes(ue_key),
        opc: Opc::from_bytes(OPC),
        sqn_ms: Sqn::new(ue_sqn_ms).unwrap(),
        serving_plmn: plmn(),
        capability: UeSecurityCapability::new(0xA0, 0x20),
        requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
    });
    Setup {
        amf: AmfNas::new(config, 7),
        db,
        ue,
    }
}

/// What a run saw: every event of both ends and the downlink PDUs in order.
#[derive(Default)]
struct Trace {
    amf: Vec<AmfEvent>,
    ue: Vec<UeEvent>,
    downlink: Vec<Vec<u8>>,
    context: Option<Box<InitialContext>>,
}

/// Delivers messages both ways until neither end has anything to send (bounded).
fn run(s: &mut Setup, first_uplink: Vec<u8>) -> Trace {
    let mut trace = Trace::default();
    let mut uplink = vec![first_uplink];
    for _ in 0..20 {
        let Some(pdu) = uplink.pop() else {
            return trace;
        };
        let mut downlink = Vec::new();
        for event in s.amf.handle_uplink(&mut s.db, &pdu) {
            match event {
                AmfEvent::Downlink(pdu) => downlink.push(pdu),
                AmfEvent::ContextReady(context) => {
                    downlink.push(context.registration_accept.clone());
                    trace.context = Some(context);
                }
                other => trace.amf.push(other),
            }
        }
        for pdu in downlink {
            trace.downlink.push(pdu.clone());
            for event in s.ue.handle_downlink(&pdu) {
                match event {
                    UeEvent::Uplink(pdu) => uplink.push(pdu),
                    other => trace.ue.push(other),
                }
            }
        }
    }
    panic!("exchange did not settle in 20 steps");
}

fn register(s: &mut Setup) -> Trace {
    let request = s.ue.start_registration().unwrap();
    run(s, request)
}

#[test]
fn registration_gives_both_ends_the_same_kn3iwf_and_nas_keys() {
    let mut s = setup(K, 0, AmfFaults::default());
    let trace = register(&mut s);
    let context = trace
        .context
        .as_ref()
        .expect("the AMF reached the Initial Context Setup");
    assert!(s.amf.is_registered());
    assert!(matches!(
        trace.amf.last(),
        Some(AmfEvent::Registered { .. })
    ));
    assert!(
        trace
            .ue
            .iter()
            .any(|e| matches!(e, UeEvent::Registered(Some(_))))
    );
    assert_eq!(s.ue.guti(), Some(context.guti));
    assert_eq!(context.uplink_count, NasCount::ZERO);

    let ue_kn3iwf = s.ue.kn3iwf().expect("the UE derived KN3IWF");
    assert!(ue_kn3iwf.ct_eq(&context.kn3iwf));
    let (ue_ctx, amf_ctx) = (
        s.ue.security_context().unwrap(),
        s.amf.security_context().unwrap(),
    );
    assert!(
        ue_ctx
            .dangerous_knas_int()
            .ct_eq(amf_ctx.dangerous_knas_int())
    );
    assert!(
        ue_ctx
            .dangerous_knas_enc()
            .ct_eq(amf_ctx.dangerous_knas_enc())
    );

    // Outside check: the KN3IWF of the RAND and AUTN on the wire, derived with oxirush-security.
    let expected = oxirush_kn3iwf(&trace.downlink[0]);
    assert_eq!(ue_kn3iwf.dangerous_as_bytes(), expected.as_octets());
}

/// KN3IWF from the first AUTHENTICATION REQUEST, entirely with oxirush-security.
fn oxirush_kn3iwf(authentication_request: &[u8]) -> ox::nas_5gs::KN3iwf {
    let Ok(GmmMessage::AuthenticationRequest(request)) = GmmMessage::decode(authentication_request)
    else {
        panic!("first downlink is not AUTHENTICATION REQUEST");
    };
    let rand = ox::Rand::from_slice(&request.rand.unwrap().0).unwrap();
    let autn = ox::Autn::from_slice(&request.autn.unwrap().0).unwrap();
    let k = ox::milenage::K::from_slice(&K).unwrap();
    let opc = ox::milenage::Opc::from_slice(&OPC).unwrap();
    let usim = ox::milenage::Milenage::new(&k, &opc)
        .check_autn(&rand, &autn)
        .unwrap();
    let snn = b"5G:mnc093.mcc208.3gppnetwork.org";
    let kausf = ox::nas_5gs::derive_kausf(usim.ck(), usim.ik(), snn, &autn).unwrap();
    let kseaf = ox::nas_5gs::derive_kseaf(&kausf, snn).unwrap();
    let supi = ox::nas_5gs::Supi::imsi("208930000000001").unwrap();
    let kamf = ox::nas_5gs::derive_kamf(&kseaf, &supi, &[0, 0]).unwrap();
    ox::nas_5gs::derive_kn3iwf(&kamf, ox::NasCount::ZERO)
}

#[test]
fn wrong_subscriber_key_gives_authentication_failure_mac_failure() {
    let mut wrong = K;
    wrong[0] ^= 0x80;
    let mut s = setup(wrong, 0, AmfFaults::default());
    let trace = register(&mut s);
    assert!(
        trace
            .ue
            .iter()
            .any(|e| matches!(e, UeEvent::AuthenticationRefused(GmmCause::MAC_FAILURE)))
    );
    assert!(matches!(
        trace.amf.last(),
        Some(AmfEvent::Failed(GmmCause::MAC_FAILURE))
    ));
    assert!(s.ue.kn3iwf().is_none() && trace.context.is_none());
}

#[test]
fn configured_reject_cause_reaches_the_ue() {
    let faults = AmfFaults {
        registration_reject: Some(GmmCause::SERVICES_NOT_ALLOWED),
        ..AmfFaults::default()
    };
    let mut s = setup(K, 0, faults);
    let trace = register(&mut s);
    assert!(matches!(
        trace.ue.as_slice(),
        [UeEvent::RegistrationRejected(
            GmmCause::SERVICES_NOT_ALLOWED
        )]
    ));
    assert!(matches!(
        trace.amf.as_slice(),
        [AmfEvent::RegistrationRejected(
            GmmCause::SERVICES_NOT_ALLOWED
        )]
    ));
}

#[test]
fn corrupted_downlink_mac_makes_the_ue_reject_the_security_mode() {
    let faults = AmfFaults {
        corrupt_downlink_mac: true,
        ..AmfFaults::default()
    };
    let mut s = setup(K, 0, faults);
    let trace = register(&mut s);
    assert!(trace.ue.iter().any(|e| matches!(
        e,
        UeEvent::SecurityModeRefused(GmmCause::SECURITY_MODE_REJECTED)
    )));
    assert!(matches!(
        trace.amf.last(),
        Some(AmfEvent::Failed(GmmCause::SECURITY_MODE_REJECTED))
    ));
    assert!(s.ue.kn3iwf().is_none());
}

#[test]
fn usim_ahead_of_the_network_resynchronises_then_registers() {
    let mut s = setup(K, 0x1000, AmfFaults::default());
    let trace = register(&mut s);
    assert!(
        trace
            .ue
            .iter()
            .any(|e| matches!(e, UeEvent::AuthenticationRefused(GmmCause::SYNCH_FAILURE)))
    );
    assert!(s.amf.is_registered());
    assert!(s.db.get(&supi()).unwrap().sqn() > Sqn::new(0x1000).unwrap());
    assert!(s.ue.sqn_ms() > Sqn::new(0x1000).unwrap());
}

#[test]
fn replayed_uplink_and_downlink_counts_are_refused() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    let transport = NasTransport::new(PayloadContainerType::N1_SM, vec![0x2E, 0x01, 0x01, 0xC1]);
    let uplink = s.ue.uplink_transport(transport.clone()).unwrap();
    assert!(
        matches!(s.amf.handle_uplink(&mut s.db, &uplink).as_slice(), [AmfEvent::UplinkTransport(t)] if *t == transport)
    );
    let replay = s.amf.handle_uplink(&mut s.db, &uplink);
    assert!(matches!(
        replay.as_slice(),
        [AmfEvent::Dropped(DropReason::Security(
            SecurityError::Replayed
        ))]
    ));

    let downlink = s.amf.downlink_transport(transport.clone()).unwrap();
    assert!(matches!(
        s.ue.handle_downlink(&downlink).as_slice(),
        [UeEvent::DownlinkTransport(_)]
    ));
    assert!(matches!(
        s.ue.handle_downlink(&downlink).as_slice(),
        [UeEvent::Dropped("replayed NAS COUNT")]
    ));
}

#[test]
fn tampered_or_plain_uplink_after_security_is_dropped() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    let mut uplink =
        s.ue.uplink_transport(NasTransport::new(
            PayloadContainerType::N1_SM,
            vec![1, 2, 3],
        ))
        .unwrap();
    let last = uplink.len() - 1;
    uplink[last] ^= 0x01;
    let events = s.amf.handle_uplink(&mut s.db, &uplink);
    assert!(matches!(
        events.as_slice(),
        [AmfEvent::Dropped(DropReason::Security(
            SecurityError::IntegrityFailure
        ))]
    ));
    let plain = GmmMessage::UlNasTransport(NasTransport::new(PayloadContainerType::N1_SM, vec![1]))
        .encode()
        .unwrap();
    assert!(matches!(
        s.amf.handle_uplink(&mut s.db, &plain).as_slice(),
        [AmfEvent::Dropped(DropReason::NotProtected)]
    ));
    assert!(s.amf.is_registered(), "dropped messages change nothing");
}

#[test]
fn ue_originating_deregistration_is_accepted() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    let request = s.ue.deregister(false).unwrap();
    let trace = run(&mut s, request);
    assert!(matches!(
        trace.amf.as_slice(),
        [AmfEvent::Deregistered { switch_off: false }]
    ));
    assert!(matches!(trace.ue.as_slice(), [UeEvent::Deregistered]));
    assert!(!s.amf.is_registered());
}

#[test]
fn switch_off_deregistration_gets_no_accept() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    let request = s.ue.deregister(true).unwrap();
    let trace = run(&mut s, request);
    assert!(matches!(
        trace.amf.as_slice(),
        [AmfEvent::Deregistered { switch_off: true }]
    ));
    assert!(trace.downlink.is_empty());
}

#[test]
fn nas_count_refuses_to_wrap() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    let ue = s.ue.security_context_mut().unwrap();
    ue.set_next_send_count(NasCount::MAX);
    let header = SecurityHeaderType::IntegrityProtectedAndCiphered;
    assert!(ue.protect(&[0x7E, 0x00, 0x43], header).is_ok());
    assert_eq!(
        ue.protect(&[0x7E, 0x00, 0x43], header),
        Err(SecurityError::CountExhausted)
    );
}

#[test]
fn counts_estimate_across_sequence_number_wrap() {
    let mut s = setup(K, 0, AmfFaults::default());
    register(&mut s);
    // 300 uplink messages: the 8-bit sequence number wraps once and the AMF follows.
    for index in 0..300u32 {
        let payload = index.to_be_bytes().to_vec();
        let pdu =
            s.ue.uplink_transport(NasTransport::new(PayloadContainerType::N1_SM, payload))
                .unwrap();
        assert!(matches!(NasPdu::decode(&pdu), Ok(NasPdu::Protected(_))));
        let events = s.amf.handle_uplink(&mut s.db, &pdu);
        assert!(
            matches!(events.as_slice(), [AmfEvent::UplinkTransport(_)]),
            "message {index}"
        );
    }
    let last = s
        .amf
        .security_context()
        .unwrap()
        .last_received_count()
        .unwrap();
    assert_eq!(last.overflow(), 1);
}
