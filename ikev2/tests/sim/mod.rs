//! A two-endpoint network in memory on a virtual clock, with loss, duplication, reordering
//! (latency jitter) and an MTU, in the spirit of quinn-proto's `Pair`.

#![allow(dead_code, unreachable_pub)]

pub mod certs;
pub mod eap;
pub mod kme;
mod scenario;

pub use scenario::Scenario;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::IpSelector;
use ikev2::{
    ChildConfig, ChildSa, ConnectionConfig, Endpoint, EndpointConfig, Event, Identity,
    ProposalSpec, SaId,
};
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

/// A key source's answer to `PpkNeeded`: after `delay`, this PPK (or none).
pub struct PpkAnswer {
    pub delay: Duration,
    pub ppk: Option<(Vec<u8>, ipsec_crypto::SecretBytes)>,
}

/// Answers `PpkNeeded` for side A (`true`) or B with the requested ID; `None` never answers.
pub type KeySource = Box<dyn FnMut(bool, Option<&[u8]>) -> Option<PpkAnswer>>;

/// [`Pair::drive`] stops when nothing happens for this long.
pub const IDLE_HORIZON: Duration = Duration::from_secs(100);
/// Rewrites a datagram in flight (an active attacker or a broken middlebox).
pub type Mutator = Box<dyn FnMut(bool, &mut Vec<u8>)>;
/// A PPK answer the key source gave, delivered at its time: (when, to A, IKE SA, PPK).
type PendingPpk = (
    Instant,
    bool,
    SaId,
    Option<(Vec<u8>, ipsec_crypto::SecretBytes)>,
);

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
    pub mutate: Option<Mutator>,
    pub key_source: Option<KeySource>,
    ppk_answers: Vec<PendingPpk>,
    pub wire: Vec<Seen>,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    /// A NAT in front of A, rewriting A's source address and port.
    pub nat: Option<Nat>,
    in_flight: VecDeque<(Instant, bool, SocketAddr, SocketAddr, Vec<u8>)>,
}

/// An address- and port-rewriting NAT in front of endpoint A.
pub struct Nat {
    pub public: std::net::IpAddr,
    map: Vec<(SocketAddr, u16)>,
    next_port: u16,
}

impl Nat {
    pub fn new(public: &str) -> Self {
        Self {
            public: public.parse().expect("addr"),
            map: Vec::new(),
            next_port: 40_000,
        }
    }

    /// Forgets every binding, as a NAT does after a timeout or reboot.
    pub fn rebind(&mut self) {
        self.map.clear();
    }

    fn outbound(&mut self, src: SocketAddr) -> SocketAddr {
        let port = match self.map.iter().find(|(a, _)| *a == src) {
            Some((_, p)) => *p,
            None => {
                self.next_port += 1;
                self.map.push((src, self.next_port));
                self.next_port
            }
        };
        SocketAddr::new(self.public, port)
    }

    fn inbound(&self, dst: SocketAddr) -> Option<SocketAddr> {
        self.map
            .iter()
            .find(|(_, p)| dst.ip() == self.public && *p == dst.port())
            .map(|(a, _)| *a)
    }
}

impl Pair {
    pub fn new(
        a: EndpointConfig,
        pa: &'static dyn CryptoProvider,
        b: EndpointConfig,
        pb: &'static dyn CryptoProvider,
    ) -> Self {
        Self {
            now: Instant::now(),
            a: Endpoint::new(a, pa),
            b: Endpoint::new(b, pb),
            a_addr: "192.0.2.1:500".parse().expect("addr"),
            b_addr: "192.0.2.2:500".parse().expect("addr"),
            latency: Duration::from_millis(5),
            mtu: 65_535,
            policy: Box::new(|_| Fate::Deliver),
            mutate: None,
            key_source: None,
            nat: None,
            ppk_answers: Vec::new(),
            wire: Vec::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            in_flight: VecDeque::new(),
        }
    }

    /// A connects to B with `conn`.
    pub fn connect(&mut self, conn: Arc<ConnectionConfig>) -> SaId {
        self.a
            .connect(self.now, conn, self.a_addr, self.b_addr)
            .expect("connect")
    }

    /// Runs until the network is idle: nothing in flight and no timer due within
    /// [`IDLE_HORIZON`] of the last activity (so hour-long lifetimes do not run), or
    /// `max_steps` steps.
    pub fn drive(&mut self, max_steps: usize) {
        let mut last_activity = self.now;
        for _ in 0..max_steps {
            if self.step(Some(last_activity + IDLE_HORIZON)) {
                last_activity = self.now;
            } else {
                break;
            }
        }
        self.collect();
    }

    /// Runs every delivery and timer until virtual time reaches `until` (bounded steps).
    pub fn run_until(&mut self, until: Instant) {
        for _ in 0..1_000_000 {
            if self.now >= until || !self.step(Some(until)) {
                break;
            }
        }
        self.now = self.now.max(until);
        self.collect();
    }

    /// Lets the exchanges in progress finish: runs until nothing is in flight and neither end
    /// waits for a response, for at most `bound` of virtual time. Returns whether that came.
    pub fn run_until_quiet(&mut self, bound: Duration) -> bool {
        let until = self.now + bound;
        for _ in 0..1_000_000 {
            self.collect();
            if self.in_flight.is_empty() && !self.awaits_response() {
                return true;
            }
            if self.now >= until || !self.step(Some(until)) {
                break;
            }
        }
        self.collect();
        self.in_flight.is_empty() && !self.awaits_response()
    }

    fn awaits_response(&self) -> bool {
        let waits = |e: &Endpoint| e.sas().iter().any(|s| s.message_ids.outstanding.is_some());
        waits(&self.a) || waits(&self.b)
    }

    /// One delivery or one timer firing no later than `limit`; false when there is none.
    fn step(&mut self, limit: Option<Instant>) -> bool {
        self.collect();
        let next_answer = self
            .ppk_answers
            .iter()
            .enumerate()
            .min_by_key(|(_, a)| a.0)
            .map(|(i, a)| (i, a.0));
        let next_packet = self.next_delivery().map(|i| self.in_flight[i].0);
        let next_timer = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let first = |at: &Instant| {
            next_packet.is_none_or(|p| *at <= p) && next_timer.is_none_or(|t| *at <= t)
        };
        if let Some((i, at)) =
            next_answer.filter(|(_, at)| first(at) && limit.is_none_or(|l| *at <= l))
        {
            let (_, to_a, sa, ppk) = self.ppk_answers.remove(i);
            self.now = self.now.max(at);
            if to_a {
                let _ = self.a.provide_ppk(self.now, sa, ppk);
            } else {
                let _ = self.b.provide_ppk(self.now, sa, ppk);
            }
            return true;
        }
        if let Some(pos) = self.next_delivery().filter(|i| {
            let at = self.in_flight[*i].0;
            next_timer.is_none_or(|t| at <= t) && limit.is_none_or(|l| at <= l)
        }) {
            let (at, to_b, dst, src, data) = self.in_flight.remove(pos).expect("pos");
            self.now = self.now.max(at);
            if to_b {
                self.b.handle_datagram(self.now, dst, src, &data);
            } else {
                self.a.handle_datagram(self.now, dst, src, &data);
            }
            return true;
        }
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next.filter(|t| limit.is_none_or(|l| *t <= l)) else {
            return false;
        };
        self.now = self.now.max(t);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        true
    }

    fn next_delivery(&self) -> Option<usize> {
        self.in_flight
            .iter()
            .enumerate()
            .min_by_key(|(_, f)| f.0)
            .map(|(i, _)| i)
    }

    fn collect(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            self.send(true, t);
        }
        while let Some(t) = self.b.poll_transmit() {
            self.send(false, t);
        }
        while let Some(e) = self.a.poll_event() {
            self.ask_key_source(true, &e);
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.ask_key_source(false, &e);
            self.b_events.push(e);
        }
    }

    fn ask_key_source(&mut self, is_a: bool, e: &Event) {
        let Event::PpkNeeded { sa, ppk_id, .. } = e else {
            return;
        };
        let Some(source) = self.key_source.as_mut() else {
            return;
        };
        if let Some(answer) = source(is_a, ppk_id.as_deref()) {
            self.ppk_answers
                .push((self.now + answer.delay, is_a, *sa, answer.ppk));
        }
    }

    fn send(&mut self, from_a: bool, t: ikev2::Transmit) {
        let (mut src, mut dst, mut data) = (t.local, t.remote, t.data);
        if let Some(m) = self.mutate.as_mut() {
            m(from_a, &mut data);
        }
        if let Some(nat) = self.nat.as_mut() {
            if from_a {
                src = nat.outbound(src);
            } else {
                let Some(inside) = nat.inbound(dst) else {
                    return;
                };
                dst = inside;
            }
        }
        let seen = Seen {
            from_a,
            data,
            index: self.wire.len(),
        };
        let fate = if seen.data.len() > self.mtu {
            Fate::Drop
        } else {
            (self.policy)(&seen)
        };
        let at = self.now + self.latency;
        self.wire.push(seen.clone());
        match fate {
            Fate::Deliver => self.in_flight.push_back((at, from_a, dst, src, seen.data)),
            Fate::Drop => {}
            Fate::Duplicate => {
                self.in_flight
                    .push_back((at, from_a, dst, src, seen.data.clone()));
                self.in_flight.push_back((
                    at + Duration::from_millis(1),
                    from_a,
                    dst,
                    src,
                    seen.data,
                ));
            }
            Fate::Delay(d) => self
                .in_flight
                .push_back((at + d, from_a, dst, src, seen.data)),
        }
    }

    /// Injects raw bytes as if sent by A (`from_a`) or B.
    pub fn inject(&mut self, from_a: bool, data: &[u8]) {
        if from_a {
            self.b
                .handle_datagram(self.now, self.b_addr, self.a_addr, data);
        } else {
            self.a
                .handle_datagram(self.now, self.a_addr, self.b_addr, data);
        }
        self.collect();
    }

    /// The current IKE SA of each side.
    pub fn current_sas(&self) -> (SaId, SaId) {
        (
            current_sa(&self.a_events).expect("A has an IKE SA"),
            current_sa(&self.b_events).expect("B has an IKE SA"),
        )
    }

    /// Both sides start rekeying their IKE SA at the same instant; returns the old SAs.
    pub fn rekey_ike_on_both(&mut self) -> (SaId, SaId) {
        let (a0, b0) = self.current_sas();
        let now = self.now;
        self.a.rekey_ike(now, a0).expect("A takes the command");
        self.b.rekey_ike(now, b0).expect("B takes the command");
        (a0, b0)
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

    /// Asserts neither end failed, both established the IKE SA and their one Child SA matches.
    pub fn assert_up(&self) {
        assert!(
            self.a_error().is_none(),
            "initiator failed: {:?}",
            self.a_error()
        );
        assert!(
            self.b_error().is_none(),
            "responder failed: {:?}",
            self.b_error()
        );
        assert!(self.a_established().is_some() && self.b_established().is_some());
        self.assert_child_keys_match();
    }

    /// Asserts the live Child SAs of both ends pair up: crossed SPIs and equal keys per
    /// direction. Returns how many there are.
    pub fn assert_live_children_match(&self) -> usize {
        let (a, b) = (live_children(&self.a_events), live_children(&self.b_events));
        assert_eq!(a.len(), b.len(), "initiator {a:?}\nresponder {b:?}");
        for x in &a {
            let y = b
                .iter()
                .find(|y| y.inbound_spi == x.outbound_spi)
                .unwrap_or_else(|| panic!("no peer for {x:?} in {b:?}"));
            assert_eq!(x.inbound_spi, y.outbound_spi);
            assert!(
                x.outbound_keys.ct_eq(y.inbound_keys.expose()),
                "keys differ for {x:?}"
            );
            assert!(
                x.inbound_keys.ct_eq(y.outbound_keys.expose()),
                "keys differ for {x:?}"
            );
            assert_eq!(x.suite, y.suite);
        }
        a.len()
    }

    /// Asserts both ends have one matching Child SA: crossed SPIs and equal keys per direction.
    pub fn assert_child_keys_match(&self) {
        let (a, b) = (self.a_children(), self.b_children());
        assert_eq!(a.len(), 1, "initiator children: {a:?}");
        assert_eq!(b.len(), 1, "responder children: {b:?}");
        let (a, b) = (a[0], b[0]);
        assert_eq!(a.outbound_spi, b.inbound_spi);
        assert_eq!(a.inbound_spi, b.outbound_spi);
        assert!(
            a.outbound_keys.ct_eq(b.inbound_keys.expose()),
            "i->r keys differ"
        );
        assert!(
            a.inbound_keys.ct_eq(b.outbound_keys.expose()),
            "r->i keys differ"
        );
        assert!(
            !a.outbound_keys.ct_eq(a.inbound_keys.expose()),
            "directions must differ"
        );
        assert_eq!(a.suite, b.suite);
    }
}

/// Child SAs established and not deleted since, in order.
pub fn live_children(events: &[Event]) -> Vec<&ChildSa> {
    let mut live: Vec<&ChildSa> = Vec::new();
    for e in events {
        match e {
            Event::ChildSaEstablished { child, .. } => live.push(child),
            Event::ChildSaDeleted { inbound_spi, .. } => {
                live.retain(|c| c.inbound_spi != *inbound_spi)
            }
            _ => {}
        }
    }
    live
}

/// The current id of the IKE SA on one side (following rekeys).
pub fn current_sa(events: &[Event]) -> Option<SaId> {
    let mut id = None;
    for e in events {
        match e {
            Event::IkeSaEstablished { sa, .. } => id = Some(*sa),
            Event::IkeSaRekeyed { new, .. } => id = Some(*new),
            _ => {}
        }
    }
    id
}

fn children(events: &[Event]) -> Vec<&ChildSa> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::ChildSaEstablished { child, .. } = e {
                Some(child)
            } else {
                None
            }
        })
        .collect()
}

fn established(events: &[Event]) -> Option<&ikev2::IkeSaInfo> {
    events.iter().find_map(|e| {
        if let Event::IkeSaEstablished { info, .. } = e {
            Some(info)
        } else {
            None
        }
    })
}

fn failure(events: &[Event]) -> Option<&ikev2::Error> {
    events.iter().find_map(|e| {
        if let Event::IkeSaFailed { error, .. } = e {
            Some(error)
        } else {
            None
        }
    })
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
    let mut c = ConnectionConfig::new(
        "test",
        Identity::fqdn(&format!("{side}.example")),
        psk,
        vec![ProposalSpec::parse_ike(ike).expect("ike proposal")],
    );
    let (local, remote) = if side == "initiator" {
        (
            subnet("10.1.0.0", "10.1.255.255"),
            subnet("10.2.0.0", "10.2.255.255"),
        )
    } else {
        (
            subnet("10.2.0.0", "10.2.255.255"),
            subnet("10.1.0.0", "10.1.255.255"),
        )
    };
    c.children.push(ChildConfig::new(
        "net",
        vec![ProposalSpec::parse_esp(esp).expect("esp proposal")],
        vec![local],
        vec![remote],
    ));
    c
}

/// A responder endpoint config with one connection.
pub fn responder(c: ConnectionConfig) -> EndpointConfig {
    EndpointConfig {
        connections: vec![Arc::new(c)],
        ..EndpointConfig::default()
    }
}

/// A provider whose randomness (nonces, SPIs, jitter) is a fixed stream from `seed`, so that a
/// simulation run, and which side wins a rekey collision, is the same every time. Key
/// exchanges keep the inner provider's own randomness (their values decide nothing here).
pub struct Seeded {
    inner: &'static dyn CryptoProvider,
    state: std::sync::Mutex<u64>,
}

impl Seeded {
    /// A leaked (static) seeded provider over the default one.
    pub fn provider(seed: u64) -> &'static dyn CryptoProvider {
        Box::leak(Box::new(Self {
            inner: default_provider(),
            state: std::sync::Mutex::new(seed),
        }))
    }

    /// SplitMix64.
    fn next(&self) -> u64 {
        let mut s = self.state.lock().expect("rng lock");
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl CryptoProvider for Seeded {
    fn name(&self) -> &'static str {
        "seeded"
    }
    fn fill_random(&self, out: &mut [u8]) -> Result<(), ipsec_crypto::CryptoError> {
        for chunk in out.chunks_mut(8) {
            let n = chunk.len();
            chunk.copy_from_slice(&self.next().to_be_bytes()[..n]);
        }
        Ok(())
    }
    fn prf(&self, alg: ipsec_crypto::PrfAlgorithm) -> Option<&'static dyn ipsec_crypto::Prf> {
        self.inner.prf(alg)
    }
    fn aead(&self, alg: ipsec_crypto::AeadAlgorithm) -> Option<&'static dyn ipsec_crypto::Aead> {
        self.inner.aead(alg)
    }
    fn cbc(
        &self,
        alg: ipsec_crypto::CbcAlgorithm,
    ) -> Option<&'static dyn ipsec_crypto::BlockCipher> {
        self.inner.cbc(alg)
    }
    fn integ(&self, alg: ipsec_crypto::IntegAlgorithm) -> Option<&'static dyn ipsec_crypto::Integ> {
        self.inner.integ(alg)
    }
    fn key_exchange(
        &self,
        group: ipsec_crypto::KeGroup,
    ) -> Option<&'static dyn ipsec_crypto::KeyExchange> {
        self.inner.key_exchange(group)
    }
    fn signature(
        &self,
        scheme: ipsec_crypto::SignatureScheme,
    ) -> Option<&'static dyn ipsec_crypto::SignatureAlgorithm> {
        self.inner.signature(scheme)
    }
    fn signing_key(
        &self,
        pkcs8: &[u8],
    ) -> Result<Box<dyn ipsec_crypto::SigningKey>, ipsec_crypto::SignatureError> {
        self.inner.signing_key(pkcs8)
    }
}

pub fn default_provider() -> &'static dyn CryptoProvider {
    #[cfg(feature = "default-provider")]
    return ipsec_crypto::default_provider();
    #[cfg(not(feature = "default-provider"))]
    return ipsec_crypto::rustcrypto_provider();
}
