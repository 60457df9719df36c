//! Registrations that do not complete: a slow or silent AMF, a reject, 5G-Stop, a wrong AUTH,
//! a broken EAP exchange, and the bounds on UEs and inner addresses.

use std::time::Duration;

use fiveg_emu::amf::{AmfFaults, AmfNodeEvent, NodeFaults};
use fiveg_emu::nas::GmmCause;
use fiveg_emu::ue::UeEvent;
use n3iwf::ngap::{Cause, RadioNetworkCause};
use n3iwf::node::{Direction, EndCause, Limits};

use crate::world::{FinalAuth, Setup, World};

fn release_requested(world: &World) -> Vec<Cause> {
    world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::ReleaseRequested { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect()
}

/// The AMF takes 3 s for each answer; the UE retransmits its held IKE_AUTH requests. Nothing
/// reaches the AMF twice, each request is answered once, and the wait shows in the UE's AMF
/// time.
#[test]
fn a_slow_amf_with_ue_retransmissions() {
    let mut world = World::new(Setup {
        faults: NodeFaults {
            answer_delay: Duration::from_secs(3),
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    assert_eq!(world.ues[&sa].answers, ["request"], "5G-Start only");
    for _ in 0..2 {
        world.advance(Duration::from_secs(1));
        world.retransmit(sa);
    }
    assert_eq!(world.n3iwf.stats().eap_duplicates, 2);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::InitialUe { .. })),
        1
    );

    world.advance(Duration::from_secs(1));
    assert_eq!(world.ues[&sa].answers, ["request", "request"]);
    // The UE has answered the challenge; its retransmission of the first response is stale.
    world.advance(Duration::from_millis(500));
    world
        .n3iwf
        .handle_eap_message(sa, &first_response(&world, sa), world.now);
    world.pump();
    assert_eq!(world.n3iwf.stats().eap_duplicates, 3);

    world.advance(Duration::from_secs(7));
    assert_eq!(world.ues[&sa].answers.last(), Some(&"success"));
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
    // Three held requests (INITIAL UE MESSAGE, AUTHENTICATION RESPONSE, SECURITY MODE
    // COMPLETE), 3 s each.
    assert_eq!(
        world.n3iwf.ue(sa).unwrap().timings.amf_time,
        Duration::from_secs(9)
    );
    assert_eq!(
        world.amf.uplinks_received, 3,
        "two in EAP, REGISTRATION COMPLETE on TCP"
    );
}

/// The Identifier of the UE's first response (to 5G-Start): one below the challenge's request.
fn first_response(world: &World, sa: n3iwf::IkeSaRef) -> Vec<u8> {
    let mut response = world.ues[&sa].last_response.clone().unwrap();
    response[1] = response[1].wrapping_sub(1);
    response
}

#[test]
fn the_guard_timer_ends_a_request_the_amf_never_answers() {
    let mut world = World::new(Setup {
        faults: NodeFaults {
            answers_before_silence: Some(1),
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    assert_eq!(world.ues[&sa].answers, ["request", "request"]);
    world.advance(Duration::from_millis(5_900));
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "eap-wait-amf");

    world.advance(Duration::from_millis(200));
    assert_eq!(world.ues[&sa].answers.last(), Some(&"failure"));
    let ngran = Cause::RadioNetwork(RadioNetworkCause::RELEASE_DUE_TO_NGRAN_GENERATED_REASON);
    assert_eq!(release_requested(&world), [ngran]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(
        world.n3iwf.stats().failures_of(EndCause::AmfAnswerTimeout),
        1
    );
}

/// No answer at all to INITIAL UE MESSAGE: the AMF never named the UE, so there is nothing to
/// release on N2; a late answer then meets an unknown RAN UE NGAP ID.
#[test]
fn the_guard_timer_ends_a_first_request_without_a_release_request() {
    let mut world = World::new(Setup {
        faults: NodeFaults {
            answers_before_silence: Some(0),
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    world.advance(Duration::from_secs(6));
    assert_eq!(world.ues[&sa].answers, ["request", "failure"]);
    assert!(release_requested(&world).is_empty());
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(
        world.n3iwf.stats().failures_of(EndCause::AmfAnswerTimeout),
        1
    );
}

#[test]
fn a_registration_reject_is_relayed_and_ends_in_eap_failure() {
    let mut world = World::new(Setup {
        nas_faults: AmfFaults {
            registration_reject: Some(GmmCause::CONGESTION),
            ..AmfFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);

    let events = world.ue_events(sa);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UeEvent::RegistrationRejected(GmmCause::CONGESTION)))
    );
    assert_eq!(world.ues[&sa].answers, ["request", "request", "failure"]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(world.n3iwf.stats().registrations, 0);
    assert_eq!(
        world.n3iwf.stats().failures().map(|(_, n)| n).sum::<u64>(),
        1
    );
}

#[test]
fn five_g_stop_ends_the_registration_and_the_ue_context() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().peer.stop_at_next_request();
    world.start(sa);

    assert_eq!(world.ues[&sa].answers, ["request", "request", "failure"]);
    let ngran = Cause::RadioNetwork(RadioNetworkCause::RELEASE_DUE_TO_NGRAN_GENERATED_REASON);
    assert_eq!(release_requested(&world), [ngran]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    assert_eq!(world.n3iwf.stats().failures_of(EndCause::EapStop), 1);
    assert_eq!(world.n3iwf.ue_count(), 0);
    // The engine's report of the failed IKE SA is no news to the core.
    assert_eq!(world.n3iwf.stats().unknown_references, 0);
}

#[test]
fn a_wrong_ue_auth_fails_the_context_setup_and_releases() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().final_auth = FinalAuth::Fails;
    world.start(sa);

    let failed = world.amf_events.iter().find_map(|e| match e {
        AmfNodeEvent::ContextSetupFailed { cause, .. } => Some(*cause),
        _ => None,
    });
    let radio = RadioNetworkCause::FAILURE_IN_RADIO_INTERFACE_PROCEDURE;
    assert_eq!(failed, Some(Cause::RadioNetwork(radio)));
    let lost = Cause::RadioNetwork(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST);
    assert_eq!(release_requested(&world), [lost]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    let stats = world.n3iwf.stats();
    assert_eq!(stats.failures_of(EndCause::AuthenticationFailed), 1);
    assert_eq!(stats.registrations, 0);
    assert_eq!(world.n3iwf.inner_addresses_in_use(), 0);
}

#[test]
fn a_ue_that_never_completes_the_final_auth_times_out() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().final_auth = FinalAuth::Never;
    world.start(sa);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "wait-signalling-sa");

    world.advance(Duration::from_secs(10));
    assert!(world.ues[&sa].ike_closed.is_some());
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ContextSetupFailed { .. })),
        1
    );
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    assert_eq!(
        world.n3iwf.stats().failures_of(EndCause::SignallingTimeout),
        1
    );
}

#[test]
fn an_eap_response_that_is_not_eap_5g_ends_the_registration() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().answers_eap = false;
    world.start(sa);
    // The UE's first response went through; now a packet of another EAP method.
    let mut response = world.ues[&sa].last_response.clone().unwrap();
    world.n3iwf.handle_eap_message(sa, &response, world.now);
    world.pump();
    response = world.ues[&sa].last_response.clone().unwrap();
    response[4] = 1; // EAP Type Identity
    world.n3iwf.handle_eap_message(sa, &response, world.now);
    world.pump();

    assert_eq!(world.ues[&sa].answers.last(), Some(&"failure"));
    assert_eq!(world.n3iwf.stats().failures_of(EndCause::EapInvalid), 1);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
}

#[test]
fn the_ue_limit_refuses_one_more_ue() {
    let mut world = World::new(Setup {
        limits: Limits {
            max_ues: 2,
            ..Limits::default()
        },
        ..Setup::default()
    });
    let sas: Vec<_> = (1..=3)
        .map(|n| {
            let an = world.an_parameters();
            let sa = world.add_ue(n, an);
            world.ues.get_mut(&sa).unwrap().answers_eap = false;
            world.start(sa);
            sa
        })
        .collect();
    assert_eq!(world.ues[&sas[2]].answers, ["failure"]);
    assert_eq!(world.n3iwf.ue_count(), 2);
    assert_eq!(world.n3iwf.stats().failures_of(EndCause::UeLimit), 1);
}

/// A /30 with the NAS address in it leaves one inner address.
#[test]
fn an_exhausted_pool_fails_the_context_setup_and_its_address_comes_back() {
    let mut world = World::new(Setup {
        pool_prefix: 30,
        ..Setup::default()
    });
    let first = world.register(1);
    assert_eq!(world.n3iwf.ue(first).unwrap().state, "registered");
    let second = world.register(2);
    assert_eq!(world.ues[&second].answers.last(), Some(&"failure"));
    let failed = world.amf_events.iter().find_map(|e| match e {
        AmfNodeEvent::ContextSetupFailed { cause, .. } => Some(*cause),
        _ => None,
    });
    let cause = RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE;
    assert_eq!(failed, Some(Cause::RadioNetwork(cause)));
    assert_eq!(world.n3iwf.stats().failures_of(EndCause::PoolExhausted), 1);

    let amf_ue = world.amf_ue_of(first);
    world.amf.release(
        amf_ue,
        Cause::Nas(n3iwf::ngap::NasCause::NORMAL_RELEASE),
        world.now,
    );
    world.pump();
    assert_eq!(world.n3iwf.inner_addresses_in_use(), 0);
    let third = world.register(3);
    assert_eq!(world.n3iwf.ue(third).unwrap().state, "registered");
}

#[test]
fn no_ready_amf_refuses_eap_at_once() {
    let mut world = World::without_n2(Setup::default());
    let sa = world.register(1);
    assert_eq!(world.ues[&sa].answers, ["failure"]);
    assert_eq!(world.n3iwf.stats().failures_of(EndCause::NoAmf), 1);
    assert_eq!(world.n3iwf.stats().ngap_of(15, Direction::Sent), 0);
}
