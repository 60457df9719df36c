//! Protected requests before IKE_AUTH has completed, sent by a peer that holds the SK keys of
//! IKE_SA_INIT but has not authenticated (RFC 7296 §1.2): refused without creating, deleting
//! or consuming anything. Needs the engine's internals to make such a peer.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::IkeSa;
use crate::config::{ChildConfig, ConnectionConfig, EndpointConfig, Identity};
use crate::endpoint::{Endpoint, Transmit};
use crate::event::{Event, SaId};
use crate::proposal::ProposalSpec;
use crate::sa::Ctx;
use crate::wire::{Delete, ExchangeType, Header, IpSelector, Payload, ProtocolId};

pub(super) const PSK: &[u8] = b"correct horse battery staple 0123456789";

pub(super) fn provider() -> &'static dyn ipsec_crypto::CryptoProvider {
    #[cfg(feature = "default-provider")]
    return ipsec_crypto::default_provider();
    #[cfg(not(feature = "default-provider"))]
    return ipsec_crypto::rustcrypto_provider();
}

fn selector(start: &str, end: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: start.parse().expect("addr"),
        end_addr: end.parse().expect("addr"),
    }
}

pub(super) fn conn(side: &str) -> ConnectionConfig {
    let mut c = ConnectionConfig::new(
        "test",
        Identity::fqdn(&format!("{side}.example")),
        PSK,
        vec![ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519").expect("ike")],
    );
    let (a, b) = (
        selector("10.1.0.0", "10.1.255.255"),
        selector("10.2.0.0", "10.2.255.255"),
    );
    let (local, remote) = if side == "initiator" { (a, b) } else { (b, a) };
    c.children.push(ChildConfig::new(
        "net",
        vec![ProposalSpec::parse_esp("aes256gcm16").expect("esp")],
        vec![local],
        vec![remote],
    ));
    c
}

struct Lab {
    now: Instant,
    i: Endpoint,
    r: Endpoint,
    i_addr: SocketAddr,
    r_addr: SocketAddr,
    i_sa: SaId,
}

impl Lab {
    /// IKE_SA_INIT done; the initiator's IKE_AUTH request is taken off the wire, undelivered.
    fn after_init() -> (Self, Vec<Transmit>) {
        let r_cfg = EndpointConfig {
            connections: vec![Arc::new(conn("responder"))],
            ..EndpointConfig::default()
        };
        let mut lab = Self {
            now: Instant::now(),
            i: Endpoint::new(EndpointConfig::default(), provider()),
            r: Endpoint::new(r_cfg, provider()),
            i_addr: "192.0.2.1:500".parse().expect("addr"),
            r_addr: "192.0.2.2:500".parse().expect("addr"),
            i_sa: SaId(crate::wire::IkeSpi(0)),
        };
        lab.i_sa = lab
            .i
            .connect(lab.now, Arc::new(conn("initiator")), lab.i_addr, lab.r_addr)
            .expect("connect");
        let request = lab.i.poll_transmit().expect("IKE_SA_INIT");
        lab.deliver_to_responder(&request.data);
        let response = lab.r.poll_transmit().expect("IKE_SA_INIT response");
        lab.i
            .handle_datagram(lab.now, lab.i_addr, lab.r_addr, &response.data);
        let auth: Vec<Transmit> = std::iter::from_fn(|| lab.i.poll_transmit()).collect();
        assert!(!auth.is_empty(), "the initiator sent IKE_AUTH");
        (lab, auth)
    }

    fn deliver_to_responder(&mut self, data: &[u8]) {
        self.r
            .handle_datagram(self.now, self.r_addr, self.i_addr, data);
    }

    /// Has the initiator's SA, which holds the IKE_SA_INIT keys, send a protected request of
    /// `exchange` with Message ID 1 in place of its IKE_AUTH.
    fn premature_request(&mut self, exchange: ExchangeType, payloads: &[Payload]) -> Vec<u8> {
        let i_sa = self.i_sa;
        let now = self.now;
        let mut sink = Sink::default();
        let sa = self.i.sa_mut(i_sa).expect("initiator SA");
        sa.window.next_id = crate::wire::MessageId(1);
        sa.window.pending = None;
        let mut ctx = sink.ctx();
        sa.send_request(now, exchange, payloads, &mut ctx)
            .expect("protected");
        let t = sink.transmits.pop_front().expect("request");
        t.data
    }

    fn responder_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.r.poll_event()).collect()
    }
}

/// Queues for a hand-driven SA.
#[derive(Default)]
pub(super) struct Sink {
    pub(super) transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: crate::stats::Stats,
    spawned: Vec<IkeSa>,
    config: EndpointConfig,
    spis: crate::spi_book::SpiBook,
}

impl Sink {
    pub(super) fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            provider: provider(),
            config: &self.config,
            transmits: &mut self.transmits,
            events: &mut self.events,
            stats: &mut self.stats,
            spawned: &mut self.spawned,
            wall_clock: None,
            spis: &mut self.spis,
            half_open_room: usize::MAX,
        }
    }
}

fn is_creation(e: &Event) -> bool {
    matches!(
        e,
        Event::ChildSaEstablished { .. } | Event::IkeSaEstablished { .. }
    )
}

fn snapshot(ep: &Endpoint) -> String {
    format!("{:?}", ep.sas())
}

#[test]
fn create_child_sa_before_ike_auth_creates_nothing_and_consumes_nothing() {
    let (mut lab, auth) = Lab::after_init();
    let before = snapshot(&lab.r);
    // A CREATE_CHILD_SA body as for a new Child SA: the content does not matter, the state does.
    let request = lab.premature_request(ExchangeType::CREATE_CHILD_SA, &[]);
    lab.deliver_to_responder(&request);
    assert!(lab.r.poll_transmit().is_none(), "no answer before IKE_AUTH");
    assert!(!lab.responder_events().iter().any(is_creation));
    assert_eq!(lab.r.stats().dropped_before_auth, 1);
    assert_eq!(snapshot(&lab.r), before, "the half-open SA is untouched");

    // The genuine IKE_AUTH with the same Message ID still completes the SA.
    for t in &auth {
        lab.deliver_to_responder(&t.data);
    }
    let events = lab.responder_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::IkeSaEstablished { .. }))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::ChildSaEstablished { .. }))
            .count(),
        1
    );
}

#[test]
fn informational_delete_before_ike_auth_deletes_nothing() {
    let (mut lab, auth) = Lab::after_init();
    let delete = Payload::Delete(Delete {
        protocol: ProtocolId::IKE,
        spi_size: 0,
        spis: Vec::new(),
    });
    let request = lab.premature_request(ExchangeType::INFORMATIONAL, &[delete]);
    lab.deliver_to_responder(&request);
    assert!(lab.r.poll_transmit().is_none());
    let events = lab.responder_events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::IkeSaClosed { .. } | Event::IkeSaFailed { .. })),
        "{events:?}"
    );
    assert_eq!(lab.r.sa_count(), 1);
    assert_eq!(lab.r.stats().dropped_before_auth, 1);
    for t in &auth {
        lab.deliver_to_responder(&t.data);
    }
    assert!(
        lab.responder_events()
            .iter()
            .any(|e| matches!(e, Event::IkeSaEstablished { .. }))
    );
}

#[test]
fn the_initiator_refuses_a_responder_request_before_its_ike_auth_completes() {
    let (mut lab, _auth) = Lab::after_init();
    // The responder's half-open SA sends an INFORMATIONAL of its own (it has the keys too).
    let r_id = lab.r.sas()[0].id;
    let now = lab.now;
    let mut sink = Sink::default();
    let sa = lab.r.sa_mut(r_id).expect("responder SA");
    let mut ctx = sink.ctx();
    sa.send_request(now, ExchangeType::INFORMATIONAL, &[], &mut ctx)
        .expect("protected");
    let request = sink.transmits.pop_front().expect("request").data;
    let header = Header::parse(&request).expect("header");
    assert!(!header.flags.is_response());
    let before = snapshot(&lab.i);
    lab.i
        .handle_datagram(lab.now, lab.i_addr, lab.r_addr, &request);
    assert!(lab.i.poll_transmit().is_none());
    assert_eq!(lab.i.stats().dropped_before_auth, 1);
    assert_eq!(snapshot(&lab.i), before);
}
