//! New Child SAs with run-time selectors and private-use status notifies, started by the
//! original responder of the IKE SA (an N3IWF towards a UE, TS 24.502 §7.5) or by either side:
//! the request on the wire, the notifies delivered to the peer, keys that pair, the outcome
//! events with their tag, rekeys that keep the tag, refusals, bounds and collisions.
//!
//! A is the UE (it starts the IKE SA), B the N3IWF.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{EncrId, EsnId, ExchangeType, Header, IpSelector, MessageId, NotifyType};
use ikev2::{
    ChildConfig, ChildFailure, ChildRequest, ChildSa, ChildTag, CloseReason, CommandError,
    ConnectionConfig, EndpointConfig, Event, Lifetime, MAX_PENDING_CHILD_REQUESTS,
    MAX_REQUEST_SELECTORS, MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, ProposalSpec, SaId,
    StatusNotify,
};
use sim::{Fate, Pair, Seeded, conn, current_sa, live_children, responder, subnet};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const IKE: &str = "aes256gcm16-prfsha384-x25519";
const UE_INNER: &str = "10.8.0.2";
const N3IWF_UP: &str = "10.9.0.1";
const QOS_INFO: u16 = 55501;
const UP_IP4_ADDRESS: u16 = 55504;
const TAG: ChildTag = ChildTag(0x0105);

fn host(a: &str) -> IpSelector {
    subnet(a, a)
}

fn any() -> IpSelector {
    subnet("0.0.0.0", "255.255.255.255")
}

/// A connection with the "net" child of the harness and a user-plane template "up" with
/// `esp`, selectors `any` both ways and no lifetimes.
fn with_up(side: &str, esp: Vec<ProposalSpec>) -> ConnectionConfig {
    let mut c = conn(side, PSK, IKE, "aes256gcm16");
    c.ike_lifetime = Lifetime::NONE;
    for ch in &mut c.children {
        ch.lifetime = Lifetime::NONE;
    }
    let mut up = ChildConfig::new("up", esp, vec![any()], vec![any()]);
    up.lifetime = Lifetime::NONE;
    c.children.push(up);
    c
}

fn esp(s: &str) -> Vec<ProposalSpec> {
    vec![ProposalSpec::parse_esp(s).expect("esp")]
}

/// An established pair: A (UE) with `ue`, B (N3IWF) with `n3iwf`.
fn pair_with(ue: ConnectionConfig, n3iwf: ConnectionConfig, seed: Option<u64>) -> Pair {
    let (pa, pb) = match seed {
        Some(s) => (Seeded::provider(s), Seeded::provider(s ^ 0xffff)),
        None => (sim::default_provider(), sim::default_provider()),
    };
    let mut pair = Pair::new(EndpointConfig::default(), pa, responder(n3iwf), pb);
    pair.connect(Arc::new(ue));
    pair.drive(1000);
    pair.assert_up();
    pair
}

fn pair() -> Pair {
    let up = || esp("aes256gcm16");
    pair_with(with_up("initiator", up()), with_up("responder", up()), None)
}

fn notifies() -> Vec<StatusNotify> {
    vec![
        StatusNotify {
            notify_type: QOS_INFO,
            data: vec![0x04, 0x05, 0x01, 0x09, 0x02],
        },
        StatusNotify {
            notify_type: UP_IP4_ADDRESS,
            data: vec![10, 9, 0, 1],
        },
    ]
}

fn up_request(tag: ChildTag) -> ChildRequest {
    ChildRequest {
        template: "up".into(),
        local_ts: vec![host(N3IWF_UP)],
        remote_ts: vec![host(UE_INNER)],
        notifies: notifies(),
        tag,
    }
}

fn b_sa(pair: &Pair) -> SaId {
    current_sa(&pair.b_events).expect("B's IKE SA")
}

fn a_sa(pair: &Pair) -> SaId {
    current_sa(&pair.a_events).expect("A's IKE SA")
}

/// The Child SAs established with `tag`, in order.
fn tagged(events: &[Event], tag: ChildTag) -> Vec<&ChildSa> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaEstablished { child, .. } if child.tag == Some(tag) => Some(child),
            _ => None,
        })
        .collect()
}

/// The ChildSaFailed events: (tag, template, reason).
fn failures(events: &[Event]) -> Vec<(Option<ChildTag>, String, ChildFailure)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaFailed {
                tag, name, reason, ..
            } => Some((*tag, name.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

/// The headers of CREATE_CHILD_SA messages on the wire, with who sent them.
fn create_child_headers(pair: &Pair) -> Vec<(bool, Header)> {
    pair.wire
        .iter()
        .filter_map(|s| Some((s.from_a, Header::parse(&s.data).ok()?)))
        .filter(|(_, h)| h.exchange == ExchangeType::CREATE_CHILD_SA)
        .collect()
}

#[test]
fn the_original_responder_creates_a_child_with_notifies_the_peer_sees_and_keys_that_pair() {
    let mut pair = pair();
    let (a_next, now) = (pair.a.sa(a_sa(&pair)).expect("A").message_ids, pair.now);
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("B takes the command");
    pair.drive(1000);

    let ours = tagged(&pair.b_events, TAG);
    assert_eq!(ours.len(), 1, "{:?}", pair.b_events);
    let ours = ours[0];
    assert!(ours.we_initiated, "B initiated this exchange");
    assert_eq!(ours.name, "up");
    assert_eq!(ours.local_ts, vec![host(N3IWF_UP)]);
    assert_eq!(ours.remote_ts, vec![host(UE_INNER)]);
    assert!(ours.peer_notifies.is_empty());

    let theirs: Vec<&ChildSa> = live_children(&pair.a_events)
        .into_iter()
        .filter(|c| c.name == "up")
        .collect();
    assert_eq!(theirs.len(), 1);
    let theirs = theirs[0];
    assert!(!theirs.we_initiated);
    assert_eq!(theirs.tag, None, "the tag is B's own");
    assert_eq!(theirs.peer_notifies, notifies(), "delivered in order");
    // The UE's template is any-to-any: it narrows to what the N3IWF asked for.
    assert_eq!(theirs.local_ts, vec![host(UE_INNER)]);
    assert_eq!(theirs.remote_ts, vec![host(N3IWF_UP)]);
    // Our inbound is the peer's outbound, and each direction has its own keys.
    assert_eq!(pair.assert_live_children_match(), 2);
    assert!(!ours.inbound_keys.ct_eq(ours.outbound_keys.expose()));

    // RFC 7296 §2.2: B's own request counter, from 0, I=0; A answers with R=1, I=1.
    let headers = create_child_headers(&pair);
    assert_eq!(headers.len(), 2, "one request, one response");
    let (from_a, request) = &headers[0];
    assert!(!*from_a && !request.flags.is_initiator() && !request.flags.is_response());
    assert_eq!(request.message_id, MessageId(0));
    let (from_a, response) = &headers[1];
    assert!(*from_a && response.flags.is_initiator() && response.flags.is_response());
    assert_eq!(response.message_id, MessageId(0));
    let b_ids = pair.b.sa(b_sa(&pair)).expect("B").message_ids;
    assert_eq!(b_ids.next_request, MessageId(1));
    let a_ids = pair.a.sa(a_sa(&pair)).expect("A").message_ids;
    assert_eq!(a_ids.next_request, a_next.next_request, "A sent nothing");
    assert_eq!(a_ids.expected_request, MessageId(1));
    assert!(failures(&pair.b_events).is_empty());
}

#[test]
fn keys_pair_when_the_peer_rekeys_the_ike_sa_first_and_with_pfs() {
    let pfs = || esp("aes256gcm16-x25519");
    let mut pair = pair_with(
        with_up("initiator", pfs()),
        with_up("responder", pfs()),
        None,
    );
    let now = pair.now;
    pair.a.rekey_ike(now, a_sa(&pair)).expect("rekey");
    pair.drive(1000);
    let now = pair.now;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("B takes the command");
    pair.drive(1000);
    assert_eq!(tagged(&pair.b_events, TAG).len(), 1);
    assert_eq!(pair.assert_live_children_match(), 2);
}

#[test]
fn a_refusal_reports_child_sa_failed_with_the_notify_and_creates_nothing() {
    // The UE allows only its own address: the N3IWF asks for another.
    let mut ue = with_up("initiator", esp("aes256gcm16"));
    ue.children[1].local_ts = vec![host(UE_INNER)];
    let mut pair = pair_with(ue, with_up("responder", esp("aes256gcm16")), None);
    let now = pair.now;
    let mut wrong = up_request(TAG);
    wrong.remote_ts = vec![host("10.8.0.3")];
    pair.b
        .create_child_with(now, b_sa(&pair), wrong)
        .expect("B takes the command");
    pair.drive(1000);
    let failed = failures(&pair.b_events);
    assert_eq!(
        failed,
        vec![(
            Some(TAG),
            "up".to_string(),
            ChildFailure::Refused(NotifyType::TS_UNACCEPTABLE)
        )]
    );
    assert!(tagged(&pair.b_events, TAG).is_empty());
    assert_eq!(
        pair.assert_live_children_match(),
        1,
        "only the first Child SA"
    );
    assert!(pair.b.sa(b_sa(&pair)).is_some(), "the IKE SA stays");
}

#[test]
fn no_proposal_chosen_fails_a_template_child_the_same_way_without_a_tag() {
    let ue = with_up("initiator", esp("aes256gcm16"));
    let n3iwf = with_up("responder", esp("chacha20poly1305"));
    let mut pair = pair_with(ue, n3iwf, None);
    let now = pair.now;
    pair.b
        .create_child(now, b_sa(&pair), "up")
        .expect("command");
    pair.drive(1000);
    pair.b
        .create_child_with(pair.now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.drive(1000);
    let refused = ChildFailure::Refused(NotifyType::NO_PROPOSAL_CHOSEN);
    assert_eq!(
        failures(&pair.b_events),
        vec![
            (None, "up".to_string(), refused.clone()),
            (Some(TAG), "up".to_string(), refused)
        ]
    );
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn esp_without_integrity_is_refused_in_configuration_and_by_both_ends() {
    for s in ["aes256", "aes128-esn", "aes256cbc-x25519"] {
        assert!(ProposalSpec::parse_esp(s).is_err(), "{s} has no integrity");
    }
    // A template built past the parser, as a library user could, still never agrees on it.
    let bare = ProposalSpec {
        encr: vec![(EncrId::AES_CBC, Some(256))],
        esn: vec![EsnId::NO_ESN],
        ..ProposalSpec::default()
    };
    let cbc = || esp("aes256-sha256");
    // B offers it (refused by A), then A offers CBC with integrity to a B that has none.
    let mut pair = pair_with(
        with_up("initiator", cbc()),
        with_up("responder", vec![bare.clone()]),
        None,
    );
    let now = pair.now;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.a
        .create_child(now, a_sa(&pair), "up")
        .expect("command");
    pair.drive(1000);
    let refused = ChildFailure::Refused(NotifyType::NO_PROPOSAL_CHOSEN);
    assert_eq!(
        failures(&pair.b_events),
        vec![(Some(TAG), "up".to_string(), refused.clone())]
    );
    assert_eq!(
        failures(&pair.a_events),
        vec![(None, "up".to_string(), refused)]
    );
    assert_eq!(pair.assert_live_children_match(), 1);
}

#[test]
fn the_tag_survives_rekeys_of_the_child_by_either_side() {
    let mut pair = pair();
    let now = pair.now;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.drive(1000);
    for by_n3iwf in [true, false, true] {
        let now = pair.now;
        if by_n3iwf {
            let live = tagged_in(&live_children(&pair.b_events), TAG);
            let spi = live.first().expect("B's tagged child").inbound_spi;
            pair.b.rekey_child(now, b_sa(&pair), spi).expect("rekey");
        } else {
            let up = live_children(&pair.a_events);
            let spi = (up.iter().find(|c| c.name == "up"))
                .expect("A's up child")
                .inbound_spi;
            pair.a.rekey_child(now, a_sa(&pair), spi).expect("rekey");
        }
        pair.drive(1000);
        assert_eq!(pair.assert_live_children_match(), 2, "by_n3iwf={by_n3iwf}");
        let live = tagged_in(&live_children(&pair.b_events), TAG);
        assert_eq!(live.len(), 1, "by_n3iwf={by_n3iwf}");
        assert!(live[0].replaces.is_some(), "the successor carries the tag");
        // A rekey offers the old SA's selectors, not the template's any-to-any.
        assert_eq!(live[0].local_ts, vec![host(N3IWF_UP)]);
        assert_eq!(live[0].remote_ts, vec![host(UE_INNER)]);
    }
    assert_eq!(
        tagged(&pair.b_events, TAG).len(),
        4,
        "created, then three rekeys"
    );
    let snapshot = pair.b.sa(b_sa(&pair)).expect("B");
    assert_eq!(
        snapshot
            .children
            .iter()
            .filter(|c| c.tag == Some(TAG))
            .count(),
        1
    );
}

/// `tagged` over a list of children.
fn tagged_in<'a>(children: &[&'a ChildSa], tag: ChildTag) -> Vec<&'a ChildSa> {
    children
        .iter()
        .copied()
        .filter(|c| c.tag == Some(tag))
        .collect()
}

#[test]
fn command_bounds_are_checked_before_anything_is_queued() {
    let mut pair = pair();
    let (now, sa) = (pair.now, b_sa(&pair));
    let big = |t: u16, len: usize| StatusNotify {
        notify_type: t,
        data: vec![0xab; len],
    };
    let mut at_bound = up_request(ChildTag(1));
    at_bound.notifies = (0..MAX_STATUS_NOTIFIES as u16)
        .map(|i| big(40960 + i, MAX_STATUS_NOTIFY_DATA))
        .collect();
    let mut too_many = at_bound.clone();
    too_many.notifies.push(big(65535, 1));
    let mut too_large = up_request(ChildTag(2));
    too_large.notifies[1] = big(UP_IP4_ADDRESS, MAX_STATUS_NOTIFY_DATA + 1);
    let mut not_private = up_request(ChildTag(3));
    not_private.notifies[0] = big(40959, 4);
    let mut no_ts = up_request(ChildTag(4));
    no_ts.local_ts.clear();
    let mut many_ts = up_request(ChildTag(5));
    many_ts.remote_ts = vec![host(UE_INNER); MAX_REQUEST_SELECTORS + 1];
    let mut unknown = up_request(ChildTag(6));
    unknown.template = "nope".into();
    let cases = [
        (
            too_many,
            CommandError::TooManyNotifies(MAX_STATUS_NOTIFIES + 1),
        ),
        (
            too_large,
            CommandError::NotifyTooLarge {
                notify_type: UP_IP4_ADDRESS,
                len: MAX_STATUS_NOTIFY_DATA + 1,
            },
        ),
        (not_private, CommandError::NotifyNotPrivate(40959)),
    ];
    for (request, want) in cases {
        assert_eq!(pair.b.create_child_with(now, sa, request), Err(want));
    }
    for request in [no_ts, many_ts] {
        assert!(matches!(
            pair.b.create_child_with(now, sa, request),
            Err(CommandError::BadSelectors(_))
        ));
    }
    assert!(matches!(
        pair.b.create_child_with(now, sa, unknown),
        Err(CommandError::UnknownChildTemplate { .. })
    ));
    let gone = SaId(ikev2::IkeSpi(1));
    assert_eq!(
        pair.b.create_child_with(now, gone, up_request(TAG)),
        Err(CommandError::UnknownSa(gone))
    );
    assert_eq!(
        pair.b.sa(sa).expect("B").message_ids.next_request,
        MessageId(0)
    );

    // Exactly at the bounds: sent (fragmented) and delivered whole.
    pair.b
        .create_child_with(now, sa, at_bound.clone())
        .expect("at the bound");
    pair.drive(1000);
    let theirs = live_children(&pair.a_events);
    let up = theirs.iter().find(|c| c.name == "up").expect("A's child");
    assert_eq!(up.peer_notifies, at_bound.notifies);
    assert_eq!(pair.a.stats().child_notifies_dropped, 0);
}

#[test]
fn selectors_wider_than_the_template_are_refused() {
    let mut n3iwf = with_up("responder", esp("aes256gcm16"));
    n3iwf.children[1].local_ts = vec![subnet("10.9.0.0", "10.9.0.255")];
    let mut pair = pair_with(with_up("initiator", esp("aes256gcm16")), n3iwf, None);
    let mut wide = up_request(TAG);
    wide.local_ts = vec![subnet("10.9.0.0", "10.9.1.255")];
    let (now, sa) = (pair.now, b_sa(&pair));
    assert!(matches!(
        pair.b.create_child_with(now, sa, wide),
        Err(CommandError::BadSelectors(_))
    ));
    pair.b
        .create_child_with(now, sa, up_request(TAG))
        .expect("within");
}

#[test]
fn pending_requests_are_bounded_and_each_ends_in_one_event() {
    let mut pair = pair();
    let (now, sa) = (pair.now, b_sa(&pair));
    for i in 0..MAX_PENDING_CHILD_REQUESTS as u64 {
        let r = up_request(ChildTag(i));
        pair.b
            .create_child_with(now, sa, r)
            .expect("within the bound");
    }
    // The same tag again adds nothing; one more is refused.
    pair.b
        .create_child_with(now, sa, up_request(ChildTag(0)))
        .expect("same tag");
    assert_eq!(
        pair.b
            .create_child_with(now, sa, up_request(ChildTag(1000))),
        Err(CommandError::TooManyChildRequests(sa))
    );
    pair.drive(100_000);
    for i in 0..MAX_PENDING_CHILD_REQUESTS as u64 {
        assert_eq!(tagged(&pair.b_events, ChildTag(i)).len(), 1, "tag {i}");
    }
    assert!(failures(&pair.b_events).is_empty());
    assert_eq!(
        pair.assert_live_children_match(),
        1 + MAX_PENDING_CHILD_REQUESTS
    );
    // Done ones no longer count.
    let now = pair.now;
    pair.b
        .create_child_with(now, sa, up_request(ChildTag(1000)))
        .expect("room again");
}

#[test]
fn the_ue_rekeying_its_signalling_child_while_our_create_is_in_flight() {
    let mut pair = pair();
    let now = pair.now;
    let net = live_children(&pair.a_events)[0].inbound_spi;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.a.rekey_child(now, a_sa(&pair), net).expect("rekey");
    pair.drive(1000);
    assert_eq!(tagged(&pair.b_events, TAG).len(), 1);
    assert_eq!(pair.assert_live_children_match(), 2);
    assert!(failures(&pair.b_events).is_empty());
}

#[test]
fn a_request_queued_behind_our_ike_rekey_moves_to_the_new_ike_sa() {
    let mut pair = pair();
    let (now, old) = (pair.now, b_sa(&pair));
    pair.b.rekey_ike(now, old).expect("rekey");
    pair.b
        .create_child_with(now, old, up_request(TAG))
        .expect("queued behind the rekey");
    pair.drive(1000);
    let new = b_sa(&pair);
    assert_ne!(new, old);
    let on = pair.b_events.iter().find_map(|e| match e {
        Event::ChildSaEstablished { sa, child } if child.tag == Some(TAG) => Some(*sa),
        _ => None,
    });
    assert_eq!(on, Some(new), "{:?}", pair.b_events);
    assert!(failures(&pair.b_events).is_empty());
    assert_eq!(pair.assert_live_children_match(), 2);
}

#[test]
fn a_command_naming_the_rekeyed_ike_sa_follows_its_successor() {
    let mut pair = pair();
    let old = b_sa(&pair);
    // Hold B's DELETE of the old IKE SA so that it still exists when the command comes.
    pair.policy = Box::new(|s| {
        let info = Header::parse(&s.data)
            .is_ok_and(|h| h.exchange == ExchangeType::INFORMATIONAL && !h.flags.is_response());
        if !s.from_a && info {
            Fate::Delay(Duration::from_secs(5))
        } else {
            Fate::Deliver
        }
    });
    let now = pair.now;
    pair.b.rekey_ike(now, old).expect("rekey");
    pair.run_until(now + Duration::from_secs(1));
    assert!(pair.b.has_sa(old), "the old IKE SA waits for its DELETE");
    let now = pair.now;
    pair.b
        .create_child_with(now, old, up_request(TAG))
        .expect("follows the successor");
    pair.drive(1000);
    let new = b_sa(&pair);
    assert_ne!(new, old);
    assert!(pair.b_events.iter().any(|e| matches!(e,
        Event::ChildSaEstablished { sa, child } if *sa == new && child.tag == Some(TAG))));
}

#[test]
fn the_ue_rekeying_the_ike_sa_while_our_create_is_in_flight() {
    let mut retried = 0;
    for seed in 1..6 {
        let up = || esp("aes256gcm16");
        let mut pair = pair_with(
            with_up("initiator", up()),
            with_up("responder", up()),
            Some(seed),
        );
        let now = pair.now;
        pair.a.rekey_ike(now, a_sa(&pair)).expect("rekey");
        pair.b
            .create_child_with(now, b_sa(&pair), up_request(TAG))
            .expect("command");
        pair.drive(10_000);
        let done = tagged(&pair.b_events, TAG).len();
        let failed = failures(&pair.b_events);
        assert_eq!(done + failed.len(), 1, "seed {seed}: one outcome");
        assert_eq!(
            done, 1,
            "seed {seed}: retried after TEMPORARY_FAILURE: {failed:?}"
        );
        assert_eq!(pair.assert_live_children_match(), 2, "seed {seed}");
        let rekeyed = pair
            .a_events
            .iter()
            .any(|e| matches!(e, Event::IkeSaRekeyed { .. }));
        assert!(rekeyed, "seed {seed}: the IKE SA rekey got through too");
        let ours = create_child_headers(&pair)
            .into_iter()
            .filter(|(from_a, h)| !from_a && !h.flags.is_response())
            .count();
        if ours > 1 {
            retried += 1;
        }
    }
    assert!(
        retried > 0,
        "the crossing exchanges were refused and retried"
    );
}

#[test]
fn a_peer_that_stops_answering_fails_the_request_with_a_timeout() {
    let mut pair = pair();
    pair.policy = Box::new(|s| if s.from_a { Fate::Drop } else { Fate::Deliver });
    let now = pair.now;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(ChildTag(2)))
        .expect("command");
    pair.drive(10_000);
    let failed = failures(&pair.b_events);
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|(_, _, r)| *r == ChildFailure::Timeout));
    let first_failure = pair
        .b_events
        .iter()
        .position(|e| matches!(e, Event::ChildSaFailed { .. }));
    let ike_failure = pair
        .b_events
        .iter()
        .position(|e| matches!(e, Event::IkeSaFailed { .. }));
    assert!(
        first_failure < ike_failure,
        "the requests fail before the IKE SA is reported"
    );
}

#[test]
fn the_peer_deleting_the_ike_sa_fails_what_is_pending() {
    let mut pair = pair();
    // B's requests never reach A; A's DELETE reaches B.
    pair.policy = Box::new(|s| {
        let cc = Header::parse(&s.data).is_ok_and(|h| h.exchange == ExchangeType::CREATE_CHILD_SA);
        if !s.from_a && cc {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let now = pair.now;
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(ChildTag(2)))
        .expect("command");
    pair.a.close(now, a_sa(&pair)).expect("close");
    pair.drive(1000);
    let failed = failures(&pair.b_events);
    assert_eq!(
        failed,
        vec![
            (
                Some(TAG),
                "up".into(),
                ChildFailure::IkeSaClosed(CloseReason::Peer)
            ),
            (
                Some(ChildTag(2)),
                "up".into(),
                ChildFailure::IkeSaClosed(CloseReason::Peer)
            ),
        ]
    );
}

#[test]
fn temporary_failure_is_retried_a_bounded_number_of_times() {
    let mut pair = pair();
    // A's own IKE SA rekey never reaches B: while A waits for it, A refuses new Child SAs
    // with TEMPORARY_FAILURE (RFC 7296 §2.25.2).
    pair.policy = Box::new(|s| {
        let request = Header::parse(&s.data)
            .is_ok_and(|h| h.exchange == ExchangeType::CREATE_CHILD_SA && !h.flags.is_response());
        if s.from_a && request {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let now = pair.now;
    pair.a.rekey_ike(now, a_sa(&pair)).expect("rekey");
    pair.b
        .create_child_with(now, b_sa(&pair), up_request(TAG))
        .expect("command");
    // Long enough for every retry, not for A's rekey to give up (31.5 s).
    pair.run_until(now + Duration::from_secs(30));
    let ours = create_child_headers(&pair)
        .into_iter()
        .filter(|(from_a, h)| !from_a && !h.flags.is_response())
        .count();
    assert_eq!(ours, 3, "the first request and two retries");
    assert_eq!(
        failures(&pair.b_events),
        vec![(
            Some(TAG),
            "up".to_string(),
            ChildFailure::Refused(NotifyType::TEMPORARY_FAILURE)
        )]
    );
    assert!(pair.b_error().is_none(), "the IKE SA stays");
}
