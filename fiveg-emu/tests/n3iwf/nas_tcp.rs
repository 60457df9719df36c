//! NAS over TCP: downlink NAS that arrives before the connection is queued (bounded) and
//! flushed in order; uplink NAS relayed in order however the stream is cut; broken envelopes,
//! strangers and reconnections.

use std::net::{IpAddr, Ipv4Addr};

use fiveg_emu::amf::AmfNodeEvent;
use fiveg_emu::nas::{NasTransport, PayloadContainerType};
use fiveg_emu::ue::{NwuUe, UeEvent};
use n3iwf::node::{Limits, Output};
use n3iwf::{IkeSaRef, NasConnId};

use crate::world::{Setup, World};

fn transport(tag: u8) -> NasTransport {
    NasTransport::new(PayloadContainerType(2), vec![tag; 3]) // SMS
}

/// Registers a UE that does not connect yet, then has the AMF send `extra` DL NAS TRANSPORTs.
fn registered_without_tcp(world: &mut World, extra: u8) -> IkeSaRef {
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().connects = false;
    world.start(sa);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered-wait-nas-tcp");
    let amf_ue = world.amf_ue_of(sa);
    for tag in 1..=extra {
        assert!(
            world
                .amf
                .send_downlink_transport(amf_ue, transport(tag), world.now)
        );
    }
    world.pump();
    sa
}

/// The DL NAS TRANSPORTs the UE received, by tag; 0 stands for REGISTRATION ACCEPT.
fn downlink_tags(events: &[UeEvent]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            UeEvent::DownlinkTransport(t) => Some(t.payload[0]),
            UeEvent::Registered(Some(_)) => Some(0),
            _ => None,
        })
        .collect()
}

#[test]
fn downlink_nas_before_the_connection_is_flushed_in_order_on_connect() {
    let mut world = World::new(Setup::default());
    let sa = registered_without_tcp(&mut world, 3);
    assert_eq!(
        world.n3iwf.stats().dl_nas_queued,
        4,
        "accept and three transports"
    );
    assert!(world.ues[&sa].tcp_received.is_empty());

    world.connect(sa);
    // The accept first: the later messages carry higher downlink NAS COUNTs.
    assert_eq!(downlink_tags(&world.ue_events(sa)), [0, 1, 2, 3]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::Registered { .. })),
        1
    );
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::NasDropped { .. })),
        0
    );
}

#[test]
fn the_downlink_queue_bound_answers_with_nas_non_delivery() {
    let mut world = World::new(Setup {
        limits: Limits {
            dl_nas_queue: 4,
            ..Limits::default()
        },
        ..Setup::default()
    });
    let sa = registered_without_tcp(&mut world, 4);
    let refused: Vec<_> = world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::NasNotDelivered { nas_pdu, .. } => Some(nas_pdu.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(world.n3iwf.stats().dl_nas_not_delivered, 1);

    world.connect(sa);
    let events = world.ue_events(sa);
    assert_eq!(
        downlink_tags(&events),
        [0, 1, 2, 3],
        "the fourth transport was refused"
    );
}

#[test]
fn uplink_nas_is_relayed_in_order_however_the_stream_is_cut() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    let conn = world.ues[&sa].conn.unwrap();
    let mut stream = Vec::new();
    for tag in 1..=3 {
        let pdu = world
            .ues
            .get_mut(&sa)
            .unwrap()
            .peer
            .nas()
            .uplink_transport(transport(tag))
            .unwrap();
        stream.extend(NwuUe::frame_uplink(&pdu));
    }
    for piece in [&stream[..1], &stream[1..7], &stream[7..]] {
        world.n3iwf.handle_nas_tcp_data(conn, piece, world.now);
        world.pump();
    }
    let tags: Vec<_> = world
        .amf_events
        .iter()
        .filter_map(|e| match e {
            AmfNodeEvent::NasTransport { payload, .. } => Some(payload[0]),
            _ => None,
        })
        .collect();
    assert_eq!(tags, [1, 2, 3]);
    assert_eq!(
        world.count_amf(|e| matches!(e, AmfNodeEvent::NasDropped { .. })),
        0
    );
}

#[test]
fn a_broken_envelope_closes_the_connection_and_the_ue_may_reconnect() {
    let mut world = World::new(Setup {
        limits: Limits {
            max_nas_message: 512,
            ..Limits::default()
        },
        ..Setup::default()
    });
    let sa = world.register(1);
    let conn = world.ues[&sa].conn.unwrap();
    // A length over the 512-octet bound, before any of the message arrives.
    world
        .n3iwf
        .handle_nas_tcp_data(conn, &[0x02, 0x01], world.now);
    world.pump();
    assert!(!world.ues[&sa].tcp_open);
    assert_eq!(world.n3iwf.stats().nas_tcp_framing_errors, 1);
    assert_eq!(world.n3iwf.ue(sa).unwrap().state, "registered-wait-nas-tcp");

    let amf_ue = world.amf_ue_of(sa);
    world
        .amf
        .send_downlink_transport(amf_ue, transport(9), world.now);
    world.pump();
    let _ = world.ue_events(sa);
    world.connect(sa);
    assert_eq!(downlink_tags(&world.ue_events(sa)), [9]);
}

#[test]
fn a_connection_from_an_address_no_registered_ue_holds_is_refused() {
    let mut world = World::new(Setup::default());
    let an = world.an_parameters();
    let sa = world.add_ue(1, an);
    world.ues.get_mut(&sa).unwrap().connects = false;
    world.start(sa);
    let stranger = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77));
    world
        .n3iwf
        .handle_nas_tcp_connected(NasConnId(77), stranger, world.now);
    assert!(matches!(
        world.n3iwf.poll_output(),
        Some(Output::NasTcpClose {
            conn: NasConnId(77)
        })
    ));
    assert_eq!(world.n3iwf.stats().nas_tcp_refused, 1);
    // Data on a connection the core never took is ignored.
    world
        .n3iwf
        .handle_nas_tcp_data(NasConnId(77), &[0, 1, 0x7e], world.now);
    assert!(world.n3iwf.poll_output().is_none());
}

#[test]
fn a_new_connection_replaces_the_old_one() {
    let mut world = World::new(Setup::default());
    let sa = world.register(1);
    let old = world.ues[&sa].conn.unwrap();
    let new = world.connect(sa);
    assert_ne!(old, new);
    let amf_ue = world.amf_ue_of(sa);
    world
        .amf
        .send_downlink_transport(amf_ue, transport(5), world.now);
    let _ = world.ue_events(sa);
    world.pump();
    assert_eq!(downlink_tags(&world.ue_events(sa)), [5]);
    // Data on the replaced connection goes nowhere.
    let before = world.amf.uplinks_received;
    world
        .n3iwf
        .handle_nas_tcp_data(old, &[0, 1, 0x7e], world.now);
    world.pump();
    assert_eq!(world.amf.uplinks_received, before);
}
