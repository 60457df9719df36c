//! N2: NG Setup and its retries, NG Reset both ways, ERROR INDICATION for unknown and
//! inconsistent UE NGAP IDs, unknown IEs of each criticality, AMF configuration changes, and a
//! lost association.

use std::time::Duration;

use fiveg_emu::amf::{AmfNodeEvent, NodeFaults, UnknownIe};
use n3iwf::ngap::{
    AmfConfigurationUpdate, AmfUeNgapId, Cause, Criticality, DownlinkNasTransport, ErrorIndication,
    MiscCause, PagingDrx, ProtocolCause, RadioNetworkCause, RanUeNgapId, ResetScope, TimeToWait,
    UeAssociatedConnection, UeNgapIds,
};
use n3iwf::node::{EndCause, Event};

use crate::world::{AMF, Setup, World};

fn error_indications(world: &World) -> Vec<ErrorIndication> {
    world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::ErrorIndication(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ng_setup_request_names_the_n3iwf_its_areas_and_the_paging_drx() {
    let world = World::new(Setup::default());
    let request = world
        .amf_events
        .iter()
        .find_map(|e| match e {
            AmfNodeEvent::SetupRequested(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(request.default_paging_drx, PagingDrx::V128);
    assert_eq!(request.global_n3iwf_id.n3iwf_id.0, 0x0135);
    assert_eq!(request.supported_tas.len(), 1);
    let amf = world.n3iwf.amfs().next().unwrap();
    assert_eq!(amf.state, "ready");
    assert_eq!(amf.name.as_deref(), Some("amf-emulator"));
    assert_eq!(amf.served_guamis, 1);
}

#[test]
fn a_refused_ng_setup_is_tried_again_after_the_time_to_wait() {
    let mut world = World::without_n2(Setup {
        faults: NodeFaults {
            ng_setup_refusals: 2,
            ng_setup_failure: Some((
                Cause::Misc(MiscCause::CONTROL_PROCESSING_OVERLOAD),
                Some(TimeToWait::V2S),
            )),
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    world.n2_up(2);
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "refused");
    world.advance(Duration::from_millis(1_999));
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::SetupRequested(_))),
        1
    );
    world.advance(Duration::from_millis(1));
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::SetupRequested(_))),
        2
    );
    world.advance(Duration::from_secs(2));
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "ready");
    assert_eq!(world.n3iwf.stats().ng_setup_retries, 2);
    assert_eq!(
        world.count_events(|e| matches!(e, Event::AmfRefused { .. })),
        2
    );
    let sa = world.register(1);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
}

#[test]
fn an_unanswered_ng_setup_is_sent_again() {
    let mut world = World::without_n2(Setup::default());
    world.n3iwf.handle_n2_up(AMF, 2, world.now);
    // The request is lost on the way.
    while world.n3iwf.poll_output().is_some() {}
    world.advance(Duration::from_secs(5));
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "ready");
    assert_eq!(world.n3iwf.stats().ng_setup_retries, 1);
}

#[test]
fn ng_reset_from_the_amf_releases_every_ue_locally_and_is_acknowledged() {
    let mut world = World::new(Setup::default());
    let sas = [world.register(1), world.register(2)];
    world.amf.reset(
        ResetScope::Interface,
        Cause::Misc(MiscCause::OM_INTERVENTION),
        world.now,
    );
    world.pump();

    assert_eq!(world.n3iwf.ue_count(), 0);
    assert!(sas.iter().all(|sa| world.ues[sa].ike_closed.is_some()));
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::NgReset), 2);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ResetAcknowledged)),
        1
    );
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        0
    );
    assert_eq!(world.n3iwf.inner_addresses_in_use(), 0);
    let sa = world.register(3);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
}

#[test]
fn a_partial_ng_reset_releases_only_the_named_ue() {
    let mut world = World::new(Setup::default());
    let kept = world.register(1);
    let reset = world.register(2);
    let connection = UeAssociatedConnection {
        amf_ue_ngap_id: Some(world.amf_ue_of(reset)),
        ran_ue_ngap_id: None,
    };
    world.amf.reset(
        ResetScope::Connections(vec![connection]),
        Cause::Misc(MiscCause::UNSPECIFIED),
        world.now,
    );
    world.pump();
    assert!(world.n3iwf.ue(reset).is_none());
    assert_eq!(world.n3iwf.ue(kept).unwrap().state, "registered");
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ResetAcknowledged)),
        1
    );
}

#[test]
fn the_n3iwf_resets_the_interface() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    world.n3iwf.reset_amf(AMF, world.now);
    world.pump();
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ResetByRan)),
        1
    );
    assert!(world.ues[&sa].ike_closed.is_some());
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert!(world.amf.ue_ids().is_empty());
}

#[test]
fn unknown_ue_ngap_ids_get_an_error_indication() {
    let mut world = World::new(Setup::default());
    let stray = DownlinkNasTransport {
        ids: UeNgapIds {
            amf: AmfUeNgapId::new(77).unwrap(),
            ran: RanUeNgapId(4_000_000),
        },
        nas_pdu: vec![0x7e, 0x00, 0x56],
        allowed_nssai: None,
    };
    world.amf.send_message(1, stray, world.now);
    world.pump();
    let indications = error_indications(&world);
    assert_eq!(indications.len(), 1);
    let cause = RadioNetworkCause::UNKNOWN_LOCAL_UE_NGAP_ID;
    assert_eq!(indications[0].cause, Some(Cause::RadioNetwork(cause)));
    assert_eq!(indications[0].ran_ue_ngap_id, Some(RanUeNgapId(4_000_000)));
    assert_eq!(indications[0].amf_ue_ngap_id, AmfUeNgapId::new(77));
}

#[test]
fn a_wrong_amf_ue_ngap_id_is_reported_and_the_ue_released_locally() {
    let mut world = World::new(Setup {
        faults: NodeFaults {
            wrong_amf_ue_ngap_id: true,
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    let indications = error_indications(&world);
    assert_eq!(indications.len(), 1);
    let cause = RadioNetworkCause::INCONSISTENT_REMOTE_UE_NGAP_ID;
    assert_eq!(indications[0].cause, Some(Cause::RadioNetwork(cause)));
    assert_eq!(world.ues[&sa].answers, ["request", "request", "failure"]);
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(
        world.n3iwf.stats().failures_of(EndCause::InconsistentIds),
        1
    );
}

fn with_unknown_ie(
    criticality: Criticality,
    in_downlink_nas: bool,
    in_context_setup: bool,
) -> World {
    World::new(Setup {
        faults: NodeFaults {
            unknown_ie: Some(UnknownIe {
                criticality,
                in_downlink_nas,
                in_context_setup,
            }),
            ..NodeFaults::default()
        },
        ..Setup::default()
    })
}

#[test]
fn an_unknown_ie_of_criticality_ignore_is_ignored() {
    let mut world = with_unknown_ie(Criticality::Ignore, true, true);
    let sa = world.register(1);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
    assert!(error_indications(&world).is_empty());
}

#[test]
fn an_unknown_ie_of_criticality_notify_is_ignored_and_reported() {
    let mut world = with_unknown_ie(Criticality::Notify, true, true);
    let sa = world.register(1);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
    let indications = error_indications(&world);
    // Two DOWNLINK NAS TRANSPORTs in EAP, the context setup, the accept after it.
    assert_eq!(indications.len(), 4);
    let notify = ProtocolCause::ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY;
    assert!(
        indications
            .iter()
            .all(|i| i.cause == Some(Cause::Protocol(notify)))
    );
    let ies = &indications[0].diagnostics.as_ref().unwrap().ies;
    assert_eq!(ies[0].id, fiveg_emu::amf::node::UNKNOWN_IE_ID);
}

/// A DOWNLINK NAS TRANSPORT with an unknown IE of criticality reject is refused: the held
/// request gets no answer until its guard timer ends the UE.
#[test]
fn an_unknown_ie_of_criticality_reject_refuses_the_procedure() {
    let mut world = with_unknown_ie(Criticality::Reject, true, false);
    let sa = world.register(1);
    let indications = error_indications(&world);
    assert_eq!(indications.len(), 1);
    let reject = ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT;
    assert_eq!(indications[0].cause, Some(Cause::Protocol(reject)));
    assert!(indications[0].ran_ue_ngap_id.is_some());
    assert_eq!(world.ues[&sa].answers, ["request"]);
    world.advance(Duration::from_secs(6));
    assert_eq!(world.ues[&sa].answers, ["request", "failure"]);
    assert_eq!(
        world.n3iwf.stats().failures_of(EndCause::AmfAnswerTimeout),
        1
    );
}

/// The same in INITIAL CONTEXT SETUP REQUEST: the procedure's own failure message carries the
/// report, and the registration ends.
#[test]
fn a_context_setup_refused_by_criticality_answers_with_its_failure_message() {
    let mut world = with_unknown_ie(Criticality::Reject, false, true);
    let sa = world.register(1);
    let failed = world.amf_events.iter().find_map(|e| match e {
        AmfNodeEvent::ContextSetupFailed { cause, .. } => Some(*cause),
        _ => None,
    });
    let reject = ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT;
    assert_eq!(failed, Some(Cause::Protocol(reject)));
    assert!(
        error_indications(&world).is_empty(),
        "the failure message carries the report"
    );
    assert_eq!(world.ues[&sa].answers.last(), Some(&"failure"));
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. })),
        1
    );
    assert_eq!(
        world
            .n3iwf
            .stats()
            .failures_of(EndCause::ContextSetupRefused),
        1
    );
    assert_eq!(world.n3iwf.inner_addresses_in_use(), 0);
}

#[test]
fn amf_configuration_update_changes_what_the_amf_serves() {
    let mut world = World::new(Setup::default());
    let mut guami = world.an_parameters().guami.unwrap();
    guami.region = n3iwf::ids::AmfRegionId(0x01);
    let update = AmfConfigurationUpdate {
        amf_name: Some(String::from("amf-renamed")),
        served_guamis: Some(vec![
            n3iwf::ngap::ServedGuami {
                guami: world.an_parameters().guami.unwrap(),
                backup_amf_name: None,
            },
            n3iwf::ngap::ServedGuami {
                guami,
                backup_amf_name: None,
            },
        ]),
        relative_amf_capacity: Some(10),
        plmn_support: None,
    };
    world.amf.configuration_update(update, world.now);
    world.pump();
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::ConfigurationUpdateAcknowledged)),
        1
    );
    let view = world.n3iwf.amfs().next().unwrap();
    assert_eq!(view.name.as_deref(), Some("amf-renamed"));
    assert_eq!(view.served_guamis, 2);
    assert_eq!(view.relative_capacity, Some(10));
}

#[test]
fn a_lost_association_releases_its_ues_and_setup_starts_again_when_it_is_back() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    world.n3iwf.handle_n2_down(AMF, world.now);
    world.pump();
    assert!(world.ues[&sa].ike_closed.is_some());
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::N2Lost), 1);
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "down");
    assert!(world.events.iter().any(|e| matches!(
        e,
        Event::AmfDown {
            released_ues: 1,
            ..
        }
    )));

    world.n2_up(2);
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "ready");
}

#[test]
fn ue_messages_before_ng_setup_are_not_taken() {
    let mut world = World::without_n2(Setup::default());
    world.n3iwf.handle_n2_up(AMF, 2, world.now);
    while world.n3iwf.poll_output().is_some() {}
    let early = DownlinkNasTransport {
        ids: UeNgapIds {
            amf: AmfUeNgapId::new(1).unwrap(),
            ran: RanUeNgapId(0),
        },
        nas_pdu: vec![0x7e],
        allowed_nssai: None,
    };
    world.amf.send_message(1, early, world.now);
    world.pump();
    let indications = error_indications(&world);
    let state = ProtocolCause::MESSAGE_NOT_COMPATIBLE_WITH_RECEIVER_STATE;
    assert_eq!(indications.len(), 1);
    assert_eq!(indications[0].cause, Some(Cause::Protocol(state)));
}

#[test]
fn a_restarted_association_releases_its_ues_and_sets_up_again() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    world.n3iwf.handle_n2_restarted(AMF, 3, world.now);
    world.pump();
    assert!(world.ues[&sa].ike_closed.is_some());
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::SetupRequested(_))),
        2
    );
    assert_eq!(world.n3iwf.amfs().next().unwrap().state, "ready");
    let sa = world.register(2);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered");
}
