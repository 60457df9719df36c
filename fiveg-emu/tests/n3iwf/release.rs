//! UE context release from either side: AMF-initiated, the UE deleting its IKE SA, a UE lost
//! to liveness checks (DPD), an AMF that never sends the COMMAND.

use std::time::Duration;

use fiveg_emu::amf::{AmfNodeEvent, NodeFaults};
use n3iwf::ngap::{
    Cause, DownlinkNasTransport, NasCause, RadioNetworkCause, UeContextReleaseCommand,
    UeNgapIdentity,
};
use n3iwf::node::{EndCause, Event, IkeSaGone};

use crate::world::{AMF, Setup, World};

fn completed(world: &World) -> usize {
    world.count_amf(|e| matches!(e, AmfNodeEvent::ReleaseCompleted { .. }))
}

fn lost() -> Cause {
    Cause::RadioNetwork(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST)
}

#[test]
fn the_amf_releases_a_registered_ue() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    let amf_ue = world.amf_ue_of(sa);
    world
        .amf
        .release(amf_ue, Cause::Nas(NasCause::NORMAL_RELEASE), world.now);
    world.pump();

    let ue = &world.ues[&sa];
    assert_eq!(ue.ike_closed, Some(IkeSaGone::Local));
    assert!(!ue.tcp_open);
    assert_eq!(completed(&world), 1);
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(world.n3iwf.inner_addresses_in_use(), 0);
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::ReleasedByAmf), 1);
    assert!(world.amf.ue_ids().is_empty());
}

#[test]
fn a_release_command_naming_only_the_amf_ue_ngap_id_is_completed() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    let command = UeContextReleaseCommand {
        ue: UeNgapIdentity::AmfOnly(world.amf_ue_of(sa)),
        cause: Cause::Nas(NasCause::DEREGISTER),
    };
    world.amf.send_message(1, command, world.now);
    world.pump();
    assert_eq!(completed(&world), 1);
    assert_eq!(world.n3iwf.ue_count(), 0);
}

#[test]
fn the_ue_deleting_its_ike_sa_asks_the_amf_to_release() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    world
        .n3iwf
        .handle_ike_sa_closed(sa, IkeSaGone::DeletedByUe, world.now);
    world.pump();

    let requested: Vec<_> = world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::ReleaseRequested { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect();
    assert_eq!(requested, [lost()]);
    assert_eq!(completed(&world), 1);
    assert!(!world.ues[&sa].tcp_open);
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::IkeSaGone), 1);
}

/// DPD declares the UE dead while its REGISTRATION ACCEPT still waits for TCP: the AMF hears
/// that the NAS PDU was not delivered, then is asked to release.
#[test]
fn a_ue_lost_to_dpd_reports_undelivered_nas_and_is_released() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().connects = false;
    world.start(sa);
    world
        .n3iwf
        .handle_ike_sa_closed(sa, IkeSaGone::UeUnreachable, world.now);
    world.pump();

    let order: Vec<_> = world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::NasNotDelivered { .. } => Some("not-delivered"),
            AmfNodeEvent::ReleaseRequested { .. } => Some("release-requested"),
            AmfNodeEvent::ReleaseCompleted { .. } => Some("release-completed"),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        ["not-delivered", "release-requested", "release-completed"]
    );
    assert_eq!(world.n3iwf.stats().dl_nas_not_delivered, 1);
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::IkeSaGone), 1);
}

#[test]
fn without_a_command_the_context_is_released_locally_after_the_guard() {
    let mut world = World::new(Setup {
        faults: NodeFaults {
            ignore_release_requests: true,
            ..NodeFaults::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    let (ran, amf_ue) = {
        let view = world.n3iwf.ue(sa).unwrap();
        (view.ran_ue_ngap_id.unwrap(), view.amf_ue_ngap_id.unwrap())
    };
    world
        .n3iwf
        .handle_ike_sa_closed(sa, IkeSaGone::UeUnreachable, world.now);
    world.pump();
    assert_eq!(world.n3iwf.ue_count(), 1, "releasing");
    assert_eq!(world.n3iwf.ues().next().unwrap().state, "releasing");

    // Downlink NAS meanwhile cannot be delivered.
    let late = DownlinkNasTransport {
        ids: n3iwf::ngap::UeNgapIds { amf: amf_ue, ran },
        nas_pdu: vec![0x7e, 0x00, 0x68],
        allowed_nssai: None,
    };
    world.amf.send_message(1, late, world.now);
    world.pump();
    assert_eq!(world.n3iwf.stats().dl_nas_not_delivered, 1);

    world.advance(Duration::from_secs(10));
    assert_eq!(world.n3iwf.ue_count(), 0);
    assert_eq!(world.n3iwf.stats().release_command_timeouts, 1);
    assert_eq!(completed(&world), 0);
    assert!(world.events.iter().any(|e| matches!(
        e,
        Event::UeEnded {
            registered: true,
            cause: EndCause::IkeSaGone,
            ..
        }
    )));
    let _ = AMF;
}

#[test]
fn the_operator_closes_a_ue() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    world.n3iwf.close_ue(sa, world.now);
    world.pump();
    assert_eq!(world.ues[&sa].ike_closed, Some(IkeSaGone::Local));
    assert_eq!(completed(&world), 1);
    assert_eq!(world.n3iwf.stats().releases_of(EndCause::Local), 1);
}
