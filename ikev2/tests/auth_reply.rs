//! What a responder adds to its final IKE_AUTH response after EAP ([`FinalAuthReply`]): the
//! CP(CFG_REPLY) when the initiator asked, private-use status notifies, and the narrowing of
//! the first Child SA's remote selectors; and what the initiator makes of them
//! ([`Event::AuthReply`]). In memory, on the virtual clock.

mod sim;

use std::net::{IpAddr, Ipv4Addr};

use ikev2::{
    ConfigReply, Event, FinalAuthReply, MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, StatusNotify,
};
use sim::eap::{EapMethod, PSK};
use sim::{Pair, Scenario};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
/// Inside the initiator's TSi of the sim's connections (10.1.0.0/16).
const INNER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 7);
const NETMASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);

fn nas_notifies() -> Vec<StatusNotify> {
    vec![
        StatusNotify {
            notify_type: 55_502,
            data: vec![10, 2, 0, 1],
        },
        StatusNotify {
            notify_type: 55_506,
            data: 20_000u16.to_be_bytes().to_vec(),
        },
    ]
}

fn full_reply(narrow: Ipv4Addr) -> FinalAuthReply {
    FinalAuthReply {
        config: Some(ConfigReply {
            internal_ip4: Some(INNER),
            internal_netmask: Some(NETMASK),
        }),
        notifies: nas_notifies(),
        narrow_remote_ts: Some(narrow),
    }
}

/// An EAP registration whose server answers with `reply`; the initiator asks for an address
/// when `request` is set.
fn register(request: bool, reply: FinalAuthReply) -> Pair {
    let mut pair = Scenario::eap(IKE)
        .initiator(|c| c.request_internal_ip4 = request)
        .start();
    let mut method = EapMethod::password(b"secret");
    method.server.reply = reply;
    method.run(&mut pair);
    pair
}

/// The initiator's [`Event::AuthReply`]s and the index of the first one.
fn auth_replies(pair: &Pair) -> Vec<(usize, Option<ConfigReply>, &[StatusNotify])> {
    let replies = pair.a_events.iter().enumerate();
    replies
        .filter_map(|(i, e)| match e {
            Event::AuthReply {
                config, notifies, ..
            } => Some((i, *config, notifies.as_slice())),
            _ => None,
        })
        .collect()
}

fn position(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(f).expect("event present")
}

fn host(a: Ipv4Addr) -> (IpAddr, IpAddr) {
    (IpAddr::V4(a), IpAddr::V4(a))
}

#[test]
fn cfg_reply_and_status_notifies_reach_the_initiator_before_it_is_up() {
    let pair = register(true, full_reply(INNER));
    pair.assert_up();
    let replies = auth_replies(&pair);
    let [(at, config, notifies)] = replies.as_slice() else {
        panic!("one AuthReply expected: {:?}", pair.a_events);
    };
    assert_eq!(
        *config,
        Some(ConfigReply {
            internal_ip4: Some(INNER),
            internal_netmask: Some(NETMASK),
        })
    );
    assert_eq!(*notifies, nas_notifies().as_slice());
    let up = position(&pair.a_events, |e| {
        matches!(e, Event::IkeSaEstablished { .. })
    });
    assert!(*at < up, "AuthReply comes before IkeSaEstablished");
    assert_eq!(pair.a.stats().auth_reply_malformed_cp, 0);
    assert_eq!(pair.a.stats().auth_reply_notifies_dropped, 0);
}

#[test]
fn the_first_child_is_narrowed_to_the_inner_address() {
    let pair = register(true, full_reply(INNER));
    pair.assert_up();
    let (a, b) = (pair.a_children(), pair.b_children());
    let ([a], [b]) = (a.as_slice(), b.as_slice()) else {
        panic!("one Child SA on each side");
    };
    for ts in [&a.local_ts, &b.remote_ts] {
        let [sel] = ts.as_slice() else {
            panic!("one selector: {ts:?}");
        };
        assert_eq!((sel.start_addr, sel.end_addr), host(INNER));
        assert_eq!(
            (sel.ip_protocol, sel.start_port, sel.end_port),
            (0, 0, 65535)
        );
    }
    // The other side is not narrowed.
    assert_eq!(b.local_ts, a.remote_ts);
    assert_eq!(
        b.local_ts[0].end_addr,
        "10.2.255.255".parse::<IpAddr>().expect("addr")
    );
}

#[test]
fn narrowing_outside_the_initiators_tsi_refuses_the_child_but_keeps_the_ike_sa() {
    let pair = register(true, full_reply(Ipv4Addr::new(10, 9, 0, 7)));
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    assert!(pair.a_established().is_some() && pair.b_established().is_some());
    assert!(pair.a_children().is_empty(), "{:?}", pair.a_events);
    assert!(pair.b_children().is_empty());
    // The CFG_REPLY and notifies still arrive with the IKE SA.
    assert_eq!(auth_replies(&pair).len(), 1);
    assert_eq!(pair.a.sas().len(), 1);
    assert_eq!(pair.b.sas().len(), 1);
}

#[test]
fn without_a_cfg_request_there_is_no_cfg_reply() {
    let pair = register(false, full_reply(INNER));
    pair.assert_up();
    let replies = auth_replies(&pair);
    let [(_, config, notifies)] = replies.as_slice() else {
        panic!("one AuthReply expected");
    };
    assert_eq!(*config, None, "no CFG_REQUEST, so no CFG_REPLY");
    assert_eq!(*notifies, nas_notifies().as_slice());
    // Narrowing is the responder's policy, with or without a request.
    let [child] = pair.a_children()[..] else {
        panic!("one Child SA");
    };
    assert_eq!(
        (child.local_ts[0].start_addr, child.local_ts[0].end_addr),
        host(INNER)
    );
}

#[test]
fn nothing_to_report_means_no_auth_reply_event() {
    let pair = register(true, FinalAuthReply::default());
    pair.assert_up();
    assert!(auth_replies(&pair).is_empty());
    assert_eq!(
        pair.a_children()[0].local_ts[0].end_addr.to_string(),
        "10.1.255.255"
    );
}

#[test]
fn status_notifies_are_capped_in_number_and_size() {
    let oversized = StatusNotify {
        notify_type: 55_555,
        data: vec![0; MAX_STATUS_NOTIFY_DATA + 1],
    };
    let at_limit = StatusNotify {
        notify_type: 55_556,
        data: vec![7; MAX_STATUS_NOTIFY_DATA],
    };
    let mut notifies = vec![oversized, at_limit.clone()];
    notifies.extend((0..MAX_STATUS_NOTIFIES + 1).map(|i| StatusNotify {
        notify_type: 60_000 + u16::try_from(i).expect("small"),
        data: vec![u8::try_from(i).expect("small")],
    }));
    let reply = FinalAuthReply {
        notifies,
        ..FinalAuthReply::default()
    };
    let pair = register(true, reply);
    pair.assert_up();
    let replies = auth_replies(&pair);
    let [(_, _, kept)] = replies.as_slice() else {
        panic!("one AuthReply expected");
    };
    assert_eq!(kept.len(), MAX_STATUS_NOTIFIES);
    assert_eq!(
        kept[0], at_limit,
        "the largest allowed one is kept, in order"
    );
    assert_eq!(kept[1].notify_type, 60_000);
    // The oversized one, and the two beyond the count.
    assert_eq!(pair.a.stats().auth_reply_notifies_dropped, 3);
}

#[test]
fn psk_responders_ignore_a_cfg_request() {
    let mut pair = Scenario::psk(PSK, IKE, "aes256gcm16")
        .initiator(|c| c.request_internal_ip4 = true)
        .start();
    pair.drive(1000);
    pair.assert_up();
    assert!(auth_replies(&pair).is_empty());
}
