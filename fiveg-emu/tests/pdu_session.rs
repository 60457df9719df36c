//! The emulated UE and AMF with its SMF against each other in memory, after registration:
//! PDU session establishment (address, UL TEID, QoS rules and flows), the refusals, the bounds
//! (address pool, sessions), and release from either side.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::session_world::{UE, World};
use fiveg_emu::amf::smf::{
    FlowConfig, SecondFlow, SessionKey, SmfConfig, SmfOutcome, Teid, TunnelEnd,
};
use fiveg_emu::nas::SNssai;
use fiveg_emu::nas::sm::{Dnn, SmCause, SmMessage, SmPdu};
use fiveg_emu::ue::{PduSessionRequest, UeError, UeEvent};
use n3iwf::ids::{PduSessionId, Qfi};

fn qfi(value: u8) -> Qfi {
    Qfi::new(value).unwrap()
}

fn key(id: u8) -> SessionKey {
    SessionKey {
        ue: UE,
        id: PduSessionId(id),
    }
}

#[test]
fn establishment_gives_the_ue_its_address_and_qfis_and_the_n2_side_its_tunnel() {
    let config = SmfConfig {
        second_flow: Some(SecondFlow {
            flow: FlowConfig {
                qfi: qfi(5),
                five_qi: 7,
            },
            remote_port: 5004,
        }),
        ..SmfConfig::default()
    };
    let mut world = World::registered(config);
    let (setup, events) = world.establish(1);
    assert_eq!(setup.ue_address, Ipv4Addr::new(10, 60, 0, 1));
    assert_eq!(setup.uplink.teid, Teid(1));
    assert_eq!(setup.uplink.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(setup.ambr_bps, (1_000_000_000, 500_000_000));
    let [UeEvent::PduSessionEstablished(session)] = events.as_slice() else {
        panic!("no establishment at the UE");
    };
    assert_eq!(session.address, Some(Ipv4Addr::new(10, 60, 0, 1)));
    assert_eq!(session.qfis, [qfi(1), qfi(5)]);
    assert_eq!(session.dnn.as_ref().unwrap().as_str(), "internet");
    assert_eq!(world.ue.pdu_session(PduSessionId(1)), Some(session));
    assert!(world.smf.is_active(key(1)));

    // The ACCEPT names the 5QIs of both flows.
    let accept = SmPdu::decode(&setup.accept).unwrap();
    let SmMessage::PduSessionEstablishmentAccept(accept) = accept.message else {
        panic!("not an ACCEPT");
    };
    let five_qis: Vec<_> = accept
        .qos_flow_descriptions
        .iter()
        .map(|d| d.five_qi())
        .collect();
    assert_eq!(five_qis, [Some(9), Some(7)]);
}

#[test]
fn a_second_session_gets_another_address_and_teid() {
    let mut world = World::registered(SmfConfig::default());
    let (first, _) = world.establish(1);
    let (second, _) = world.establish(2);
    assert_ne!(first.ue_address, second.ue_address);
    assert_ne!(first.uplink.teid, second.uplink.teid);
    assert_ne!(second.uplink.teid, Teid(0));
    assert_eq!(world.smf.session_count(), 2);
}

#[test]
fn an_exhausted_pool_refuses_with_insufficient_resources_and_a_release_frees_it() {
    let config = SmfConfig {
        pool: "10.9.0.0/30".parse().unwrap(),
        ..SmfConfig::default()
    };
    let mut world = World::registered(config);
    world.establish(1);
    world.establish(2);
    let SmfOutcome::Reply { id, n1 } = world.request(3) else {
        panic!("the third session was not refused");
    };
    let events = world.via_dl_transport(id, n1);
    assert!(matches!(
        events.as_slice(),
        [UeEvent::PduSessionRejected { id: PduSessionId(3), cause }]
            if *cause == SmCause::INSUFFICIENT_RESOURCES
    ));
    assert_eq!(world.smf.addresses_in_use(), 2);

    // UE-requested release of session 1 gives its address back.
    let pdu = world.ue.release_pdu_session(PduSessionId(1)).unwrap();
    let SmfOutcome::Release { key: released, n1 } = world.via_amf(&pdu) else {
        panic!("no RELEASE COMMAND");
    };
    assert_eq!(released, key(1));
    let events = world.via_dl_transport(PduSessionId(1), n1);
    let [
        UeEvent::Uplink(complete),
        UeEvent::PduSessionReleased { cause, .. },
    ] = events.as_slice()
    else {
        panic!("the UE did not complete the release");
    };
    assert_eq!(*cause, SmCause::REGULAR_DEACTIVATION);
    assert_eq!(world.via_amf(complete), SmfOutcome::Released(key(1)));
    assert_eq!(world.smf.addresses_in_use(), 1);
    assert!(world.ue.pdu_session(PduSessionId(1)).is_none());
    let (again, _) = world.establish(3);
    assert_eq!(again.ue_address, Ipv4Addr::new(10, 9, 0, 1));
}

#[test]
fn the_session_bound_refuses_before_the_pool_runs_out() {
    let config = SmfConfig {
        max_sessions: 1,
        ..SmfConfig::default()
    };
    let mut world = World::registered(config);
    world.establish(1);
    assert!(matches!(world.request(2), SmfOutcome::Reply { .. }));
    assert_eq!(world.smf.session_count(), 1);
    assert_eq!(world.smf.addresses_in_use(), 1);
}

#[test]
fn a_refused_session_leaves_nothing_behind_at_either_end() {
    let config = SmfConfig {
        refuse_with: Some(SmCause::REQUEST_REJECTED),
        ..SmfConfig::default()
    };
    let mut world = World::registered(config);
    let SmfOutcome::Reply { id, n1 } = world.request(1) else {
        panic!("not refused");
    };
    let events = world.via_dl_transport(id, n1);
    assert!(matches!(
        events.as_slice(),
        [UeEvent::PduSessionRejected { cause, .. }] if *cause == SmCause::REQUEST_REJECTED
    ));
    assert_eq!(world.smf.session_count(), 0);
    assert_eq!(world.smf.addresses_in_use(), 0);
    // The ID is free again at the UE.
    assert!(matches!(world.request(1), SmfOutcome::Reply { .. }));
}

#[test]
fn an_unknown_dnn_is_refused_with_cause_27() {
    let mut world = World::registered(SmfConfig::default());
    let request = PduSessionRequest {
        id: PduSessionId(1),
        snssai: SNssai::new(1, None),
        dnn: Dnn::new("ims").unwrap(),
    };
    let pdu = world.ue.request_pdu_session(&request).unwrap();
    let SmfOutcome::Reply { n1, .. } = world.via_amf(&pdu) else {
        panic!("not refused");
    };
    let reply = SmPdu::decode(&n1).unwrap();
    assert!(matches!(
        reply.message,
        SmMessage::PduSessionEstablishmentReject(r) if r.cause == SmCause::UNKNOWN_DNN
    ));
}

#[test]
fn network_release_and_a_failed_setup_free_the_session() {
    let mut world = World::registered(SmfConfig::default());
    world.establish(1);
    let SmfOutcome::Release { n1, .. } = world.smf.release(key(1), SmCause::REGULAR_DEACTIVATION)
    else {
        panic!("no RELEASE COMMAND");
    };
    let events = world.via_dl_transport(PduSessionId(1), n1);
    let [
        UeEvent::Uplink(complete),
        UeEvent::PduSessionReleased { .. },
    ] = events.as_slice()
    else {
        panic!("the UE did not complete the release");
    };
    assert_eq!(world.via_amf(complete), SmfOutcome::Released(key(1)));

    let SmfOutcome::Setup(setup) = world.request(2) else {
        panic!("refused");
    };
    assert!(world.smf.on_setup_failed(setup.key));
    assert_eq!(world.smf.session_count(), 0);
    assert_eq!(world.smf.addresses_in_use(), 0);
    // A setup answer for a session that is gone changes nothing.
    let late = TunnelEnd {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        teid: Teid(9),
    };
    assert!(
        world
            .smf
            .on_setup_done(setup.key, late, vec![qfi(1)])
            .is_none()
    );
}

#[test]
fn the_ue_refuses_ids_in_use_or_out_of_range_and_unknown_releases() {
    let mut world = World::registered(SmfConfig::default());
    world.establish(1);
    let request = |id| PduSessionRequest {
        id: PduSessionId(id),
        snssai: SNssai::new(1, None),
        dnn: Dnn::new("internet").unwrap(),
    };
    for id in [0, 1, 16] {
        assert!(matches!(
            world.ue.request_pdu_session(&request(id)),
            Err(UeError::SessionInUse(_))
        ));
    }
    assert!(matches!(
        world.ue.release_pdu_session(PduSessionId(2)),
        Err(UeError::NoSuchSession(2))
    ));
    // An ACCEPT nobody asked for is not taken as a session.
    let (setup, _) = World::registered(SmfConfig::default()).establish(4);
    let events = world.via_dl_transport(PduSessionId(4), setup.accept.clone());
    assert!(matches!(events.as_slice(), [UeEvent::Dropped(_)]));
    assert!(world.ue.pdu_session(PduSessionId(4)).is_none());
}

#[test]
fn the_ue_context_going_frees_every_session() {
    let mut world = World::registered(SmfConfig::default());
    world.establish(1);
    world.establish(2);
    assert_eq!(world.smf.ue_gone(UE), [key(1), key(2)]);
    assert_eq!(world.smf.addresses_in_use(), 0);
}
