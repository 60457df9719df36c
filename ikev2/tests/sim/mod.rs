//! A two-endpoint network in memory on a virtual clock, with loss, duplication, reordering
//! (latency jitter) and an MTU, in the spirit of quinn-proto's `Pair`.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{
    ChildConfig, ChildSa, ConnectionConfig, Endpoint, EndpointConfig, Event, Identity, ProposalSpec,
    SaId,
};
use ikev2::wire::IpSelector;
use ipsec_crypto::CryptoProvider;

/// What the network does with one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Deliver,
    Drop,
    Duplicate,
    Delay(Duration),
}

/// A datagram seen on the wire.
#[derive(Clone, Debug)]
pub struct Seen {
    pub from_a: bool,
    pub data: Vec<u8>,
    /// Index among all datagrams sent so far, from 0.
    pub index: usize,
}

pub type Policy = Box<dyn FnMut(&Seen) -> Fate>;

pub struct Pair {
    pub now: Instant,
    pub a: Endpoint,
    pub b: Endpoint,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    pub latency: Duration,
    /// Datagrams larger than this are dropped, as an IP path would.
    pub mtu: usize,
    pub policy: Policy,
    pub wire: Vec<Seen>,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    in_flight: VecDeque<(Instant, bool, Vec<u8>)>,
}

impl Pair {
    pub fn new(a: EndpointConfig, pa: &'static dyn CryptoProvider, b: EndpointConfig, pb: &'static dyn CryptoProvider) -> Self {
        Self {
            now: Instant::now(),
            a: Endpoint::new(a, pa),
            b: Endpoint::new(b, pb),
            a_addr: "192.0.2.1:500".parse().expect("addr"),
            b_addr: "192.0.2.2:500".parse().expect("addr"),
            latency: Duration::from_millis(5),
            mtu: 65_535,
            policy: Box::new(|_| Fate::Deliver),
            wire: Vec::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            in_flight: VecDeque::new(),
        }
    }

    /// A connects to B with `conn`.
    pub fn connect(&mut self, conn: Arc<ConnectionConfig>) -> SaId {
        self.a.connect(self.now, conn, self.a_addr, self.b_addr).expect("connect")
    }

    /// Runs until nothing is in flight and no timer is pending, or `max_steps` steps.
    pub fn drive(&mut self, max_steps: usize) {
        for _ in 0..max_steps {
            self.collect();
            if let Some(pos) = self.next_delivery() {
                let (at, to_b, data) = self.in_flight.remove(pos).expect("pos");
                self.now = self.now.max(at);
                if to_b {
                    self.b.handle_datagram(self.now, self.b_addr, self.a_addr, &data);
                } else {
                    self.a.handle_datagram(self.now, self.a_addr, self.b_addr, &data);
                }
                continue;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()].into_iter().flatten().min();
            let Some(t) = next else { break };
            self.now = self.now.max(t);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
        }
        self.collect();
    }

    fn next_delivery(&self) -> Option<usize> {
        self.in_flight.iter().enumerate().min_by_key(|(_, (at, _, _))| *at).map(|(i, _)| i)
    }

    fn collect(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            self.send(true, t.data);
        }
        while let Some(t) = self.b.poll_transmit() {
            self.send(false, t.data);
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    fn send(&mut self, from_a: bool, data: Vec<u8>) {
        let seen = Seen { from_a, data, index: self.wire.len() };
        let fate = if seen.data.len() > self.mtu { Fate::Drop } else { (self.policy)(&seen) };
        let at = self.now + self.latency;
        self.wire.push(seen.clone());
        match fate {
            Fate::Deliver => self.in_flight.push_back((at, from_a, seen.data)),
            Fate::Drop => {}
            Fate::Duplicate => {
                self.in_flight.push_back((at, from_a, seen.data.clone()));
                self.in_flight.push_back((at + Duration::from_millis(1), from_a, seen.data));
            }
            Fate::Delay(d) => self.in_flight.push_back((at + d, from_a, seen.data)),
        }
    }

    /// Injects raw bytes as if sent by A (`from_a`) or B.
    pub fn inject(&mut self, from_a: bool, data: &[u8]) {
        if from_a {
            self.b.handle_datagram(self.now, self.b_addr, self.a_addr, data);
        } else {
            self.a.handle_datagram(self.now, self.a_addr, self.b_addr, data);
        }
        self.collect();
    }

    pub fn a_children(&self) -> Vec<&ChildSa> {
        children(&self.a_events)
    }

    pub fn b_children(&self) -> Vec<&ChildSa> {
        children(&self.b_events)
    }

    pub fn a_established(&self) -> Option<&ikev2::IkeSaInfo> {
        established(&self.a_events)
    }

    pub fn b_established(&self) -> Option<&ikev2::IkeSaInfo> {
        established(&self.b_events)
    }

    pub fn a_error(&self) -> Option<&ikev2::Error> {
        failure(&self.a_events)
    }

    pub fn b_error(&self) -> Option<&ikev2::Error> {
        failure(&self.b_events)
    }

    /// Asserts both ends have one matching Child SA: crossed SPIs and equal keys per direction.
    pub fn assert_child_keys_match(&self) {
        let (a, b) = (self.a_children(), self.b_children());
        assert_eq!(a.len(), 1, "initiator children: {a:?}");
        assert_eq!(b.len(), 1, "responder children: {b:?}");
        let (a, b) = (a[0], b[0]);
        assert_eq!(a.outbound_spi, b.inbound_spi);
        assert_eq!(a.inbound_spi, b.outbound_spi);
        assert!(a.outbound_keys.ct_eq(b.inbound_keys.expose()), "i->r keys differ");
        assert!(a.inbound_keys.ct_eq(b.outbound_keys.expose()), "r->i keys differ");
        assert!(!a.outbound_keys.ct_eq(a.inbound_keys.expose()), "directions must differ");
        assert_eq!(a.suite, b.suite);
    }
}

fn children(events: &[Event]) -> Vec<&ChildSa> {
    events.iter().filter_map(|e| if let Event::ChildSaEstablished { child, .. } = e { Some(child) } else { None }).collect()
}

fn established(events: &[Event]) -> Option<&ikev2::IkeSaInfo> {
    events.iter().find_map(|e| if let Event::IkeSaEstablished { info, .. } = e { Some(info) } else { None })
}

fn failure(events: &[Event]) -> Option<&ikev2::Error> {
    events.iter().find_map(|e| if let Event::IkeSaFailed { error, .. } = e { Some(error) } else { None })
}

/// A selector covering one IPv4 subnet, any protocol and port.
pub fn subnet(start: &str, end: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: start.parse().expect("addr"),
        end_addr: end.parse().expect("addr"),
    }
}

/// A connection named after its side with PSK `psk`, IKE proposal `ike` and one child.
pub fn conn(side: &str, psk: &[u8], ike: &str, esp: &str) -> ConnectionConfig {
    let mut c = ConnectionConfig::new("test", Identity::fqdn(&format!("{side}.example")), psk, vec![ProposalSpec::parse_ike(ike).expect("ike proposal")]);
    let (local, remote) = if side == "initiator" {
        (subnet("10.1.0.0", "10.1.255.255"), subnet("10.2.0.0", "10.2.255.255"))
    } else {
        (subnet("10.2.0.0", "10.2.255.255"), subnet("10.1.0.0", "10.1.255.255"))
    };
    c.children.push(ChildConfig {
        name: "net".into(),
        esp_proposals: vec![ProposalSpec::parse_esp(esp).expect("esp proposal")],
        local_ts: vec![local],
        remote_ts: vec![remote],
    });
    c
}

/// A responder endpoint config with one connection.
pub fn responder(c: ConnectionConfig) -> EndpointConfig {
    EndpointConfig { connections: vec![Arc::new(c)], ..EndpointConfig::default() }
}

pub fn default_provider() -> &'static dyn CryptoProvider {
    #[cfg(feature = "default-provider")]
    return ipsec_crypto::default_provider();
    #[cfg(not(feature = "default-provider"))]
    return ipsec_crypto::rustcrypto_provider();
}
