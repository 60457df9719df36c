//! Registration end to end, in both AMF behaviours, with an extra EAP round, several UEs, and a
//! PLMN with a 3-digit MNC.

use std::net::Ipv4Addr;

use fiveg_emu::amf::{AcceptMode, AmfNodeEvent};
use fiveg_emu::ue::UeEvent;
use n3iwf::ids::Plmn;
use n3iwf::ngap::{RrcEstablishmentCause, TransportAddress};
use n3iwf::node::{Direction, Event};
use n3iwf::wire::an_params::AnParameters;
use n3iwf::{IkeSaRef, StreamId};

use crate::world::{K, Setup, World};

fn registered(world: &mut World, sa: IkeSaRef) -> bool {
    world
        .ue_events(sa)
        .iter()
        .any(|e| matches!(e, UeEvent::Registered(Some(_))))
}

fn position(world: &World, f: impl Fn(&AmfNodeEvent) -> bool) -> usize {
    world.amf_events.iter().position(f).unwrap()
}

#[test]
fn registers_with_the_accept_after_the_context_setup_response() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);

    assert!(registered(&mut world, sa));
    let ue = &world.ues[&sa];
    assert_eq!(ue.answers, ["request", "request", "request", "success"]);
    assert_eq!(ue.msk_matches, Some(true), "MSK is the UE's KN3IWF");
    assert_eq!(ue.inner, Some(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(ue.nas_endpoint, Some((Ipv4Addr::new(10, 0, 0, 1), 20_000)));
    // free5GC's order: the response first, then REGISTRATION ACCEPT, then COMPLETE.
    let done = position(&world, |e| {
        matches!(e, AmfNodeEvent::ContextSetupDone { .. })
    });
    let complete = position(&world, |e| matches!(e, AmfNodeEvent::Registered { .. }));
    assert!(done < complete);
    assert_eq!(world.n3iwf.stats().registrations, 1);
    assert_eq!(world.n3iwf.stats().failures().count(), 0);

    let view = world.n3iwf.ue(sa).unwrap();
    assert_eq!(view.state, "registered");
    assert_eq!(view.inner_address, Some(Ipv4Addr::new(10, 0, 0, 2)));
    assert!(view.ran_ue_ngap_id.is_some() && view.amf_ue_ngap_id.is_some());
    assert!(view.timings.kn3iwf.is_some());
    assert!(view.timings.signalling_sa_up.is_some());
    assert!(view.timings.nas_tcp_ready.is_some());
    assert!(world.count_events(|e| matches!(e, Event::UeRegistered { .. })) == 1);
}

#[test]
fn registers_with_the_accept_inside_the_context_setup_request() {
    let mut world = World::new(Setup {
        accept_mode: AcceptMode::InContextSetup,
        ..Setup::default()
    });
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().connects = false;
    world.start(sa);

    // The accept came in the request and waits for the TCP connection.
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered-wait-nas-tcp");
    assert_eq!(world.n3iwf.stats().dl_nas_queued, 1);
    assert!(!registered(&mut world, sa));
    world.connect(sa);
    assert!(registered(&mut world, sa));
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::Registered { .. })),
        1
    );
    assert_eq!(world.ues[&sa].msk_matches, Some(true));
}

/// The UE's SQN is ahead of the network's: synch failure, resynchronisation and a second
/// challenge make one more EAP round trip (as EAP-AKA' would).
#[test]
fn an_extra_eap_round_is_relayed() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue_custom(1, an, K, 0x1000);
    world.start(sa);

    let ue = &world.ues[&sa];
    assert_eq!(
        ue.answers,
        ["request", "request", "request", "request", "success"]
    );
    assert_eq!(ue.msk_matches, Some(true));
    assert!(registered(&mut world, sa));
    let stats = world.n3iwf.stats();
    // REGISTRATION REQUEST, AUTHENTICATION FAILURE, AUTHENTICATION RESPONSE, SECURITY MODE
    // COMPLETE in EAP; REGISTRATION COMPLETE over TCP.
    assert_eq!(stats.ul_nas, 5);
    assert_eq!(
        stats.ngap_of(15, Direction::Sent),
        1,
        "one INITIAL UE MESSAGE"
    );
    assert_eq!(
        stats.ngap_of(46, Direction::Sent),
        4,
        "UPLINK NAS TRANSPORTs"
    );
}

/// 310-410 is written differently in AN parameters (NAS layout) and in NGAP: the AMF must see
/// the same network the UE selected.
#[test]
fn a_three_digit_mnc_reaches_ngap_as_the_same_plmn() {
    let mut world = World::new(Setup {
        mcc: "310",
        mnc: "410",
        ..Setup::default()
    });
    let an = world.an_parameters();
    assert_eq!(
        an.to_bytes().unwrap()[2..5],
        [0x13, 0x00, 0x14],
        "NAS layout"
    );
    let sa = world.add_ue(1, an);
    world.start(sa);

    let initial = world
        .amf_events
        .iter()
        .find_map(|e| match e {
            AmfNodeEvent::InitialUe { message, .. } => Some(message.clone()),
            _ => None,
        })
        .unwrap();
    let plmn = initial.selected_plmn.unwrap();
    assert_eq!(plmn, Plmn::new("310", "410").unwrap());
    assert_eq!(plmn.to_ngap(), [0x13, 0x40, 0x01]);
    assert_eq!(
        initial.location.address,
        TransportAddress::V4(Ipv4Addr::new(198, 51, 100, 1))
    );
    assert_eq!(initial.location.port, 4500);
    assert_eq!(
        initial.rrc_establishment_cause,
        RrcEstablishmentCause::MO_SIGNALLING
    );
    assert!(initial.ue_context_requested);
    assert!(registered(&mut world, sa));
}

#[test]
fn the_amf_is_found_by_plmn_without_a_guami_and_not_for_another_plmn() {
    let mut world = World::new(Setup::default());
    let an = AnParameters {
        guami: None,
        ..world.an_parameters()
    };
    let sa = world.add_ue(1, an);
    world.start(sa);
    assert!(registered(&mut world, sa));

    let other = AnParameters {
        guami: None,
        selected_plmn: Some(Plmn::new("001", "01").unwrap()),
        ..AnParameters::default()
    };
    let sa = world.add_ue(2, other);
    world.start(sa);
    assert_eq!(world.ues[&sa].answers, ["request", "failure"]);
    let stats = world.n3iwf.stats();
    assert_eq!(stats.failures_of(n3iwf::node::EndCause::NoAmf), 1);
    assert_eq!(stats.ngap_of(15, Direction::Sent), 1);
}

#[test]
fn several_ues_get_their_own_ids_addresses_and_streams() {
    let mut world = World::new(Setup::default());
    let sas: Vec<_> = (1..=3).map(|n| world.register(n)).collect();

    let views: Vec<_> = sas.iter().map(|sa| world.n3iwf.ue(*sa).unwrap()).collect();
    let mut rans: Vec<_> = views.iter().map(|v| v.ran_ue_ngap_id.unwrap()).collect();
    rans.dedup();
    assert_eq!(rans.len(), 3);
    let inner: Vec<_> = views.iter().map(|v| v.inner_address.unwrap()).collect();
    assert_eq!(
        inner,
        [2, 3, 4].map(|h| Ipv4Addr::new(10, 0, 0, h)).to_vec()
    );
    // Non-UE-associated signalling on stream 0, each UE on one other stream.
    assert!(
        world
            .ngap_sent
            .iter()
            .all(|(s, code)| (*code == 21) == (*s == StreamId(0)))
    );
    assert_eq!(world.n3iwf.stats().registrations, 3);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::Registered { .. })),
        3
    );
}
