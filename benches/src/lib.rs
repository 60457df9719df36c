//! In-memory handshake driver that attributes CPU time to each side and each exchange, shared by
//! the main-job demo and the handshake benchmark.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::{ExchangeType, Header, IpSelector};
use ikev2::{
    ChildConfig, ConnectionConfig, Endpoint, EndpointConfig, Event, Identity, PpkConfig,
    ProposalSpec,
};
use ipsec_crypto::{CryptoProvider, SecretBytes};

pub mod flood;
pub mod flow;
pub mod ike_sockets;
pub mod lab;
pub mod load;
pub mod report;

/// Time spent by one side, per exchange type, in one handshake.
#[derive(Clone, Debug, Default)]
pub struct SideTimes {
    pub per_exchange: BTreeMap<String, Duration>,
    pub total: Duration,
}

/// The result of one in-memory handshake.
#[derive(Debug)]
pub struct HandshakeRun {
    pub initiator: SideTimes,
    pub responder: SideTimes,
    pub proposal: String,
    pub ppk_used: bool,
    pub datagrams: usize,
    pub bytes: usize,
}

/// What to negotiate.
pub struct Scenario {
    pub ike: String,
    pub esp: String,
    pub ppk: Option<Vec<u8>>,
}

impl Scenario {
    /// X25519 + ML-KEM-768, AES-256-GCM, PSK, optional PPK.
    pub fn hybrid(ppk: Option<Vec<u8>>) -> Self {
        Self {
            ike: "aes256gcm16-prfsha384-x25519-ke1_mlkem768".into(),
            esp: "aes256gcm16".into(),
            ppk,
        }
    }
}

pub(crate) fn selector(start: &str, end: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: start.parse().expect("literal address"),
        end_addr: end.parse().expect("literal address"),
    }
}

/// A connection for one side of the scenario.
pub fn connection(s: &Scenario, initiator: bool) -> ConnectionConfig {
    let (me, local, remote) = if initiator {
        (
            "initiator.example",
            selector("10.1.0.0", "10.1.255.255"),
            selector("10.2.0.0", "10.2.255.255"),
        )
    } else {
        (
            "responder.example",
            selector("10.2.0.0", "10.2.255.255"),
            selector("10.1.0.0", "10.1.255.255"),
        )
    };
    let ike = ProposalSpec::parse_ike(&s.ike).expect("scenario IKE proposal");
    let mut c = ConnectionConfig::new(
        "bench",
        Identity::fqdn(me),
        b"benchmark pre-shared key 0123456789",
        vec![ike],
    );
    c.children.push(ChildConfig::new(
        "net",
        vec![ProposalSpec::parse_esp(&s.esp).expect("scenario ESP proposal")],
        vec![local],
        vec![remote],
    ));
    c.ppk = s
        .ppk
        .as_ref()
        .map(|k| PpkConfig::fixed(b"bench-ppk", SecretBytes::from_slice(k), true));
    c
}

/// Runs one handshake between fresh endpoints, timing every call into each endpoint.
///
/// # Panics
/// If the handshake does not complete (a benchmark of a failing handshake is meaningless).
pub fn run_handshake(
    s: &Scenario,
    pi: &'static dyn CryptoProvider,
    pr: &'static dyn CryptoProvider,
) -> HandshakeRun {
    let a_addr: SocketAddr = "192.0.2.1:500".parse().expect("literal address");
    let b_addr: SocketAddr = "192.0.2.2:500".parse().expect("literal address");
    let rcfg = EndpointConfig {
        connections: vec![Arc::new(connection(s, false))],
        ..EndpointConfig::default()
    };
    let mut a = Endpoint::new(EndpointConfig::default(), pi);
    let mut b = Endpoint::new(rcfg, pr);
    let conn = Arc::new(connection(s, true));
    let mut run = HandshakeRun {
        initiator: SideTimes::default(),
        responder: SideTimes::default(),
        proposal: String::new(),
        ppk_used: false,
        datagrams: 0,
        bytes: 0,
    };
    let now = Instant::now();
    let t = Instant::now();
    a.connect(now, conn, a_addr, b_addr).expect("connect");
    add(&mut run.initiator, "IKE_SA_INIT", t.elapsed());
    let mut to_b: Vec<Vec<u8>> = Vec::new();
    let mut to_a: Vec<Vec<u8>> = Vec::new();
    let (mut up_a, mut up_b) = (false, false);
    for _ in 0..64 {
        while let Some(x) = a.poll_transmit() {
            to_b.push(x.data);
        }
        while let Some(x) = b.poll_transmit() {
            to_a.push(x.data);
        }
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        for d in to_b.drain(..) {
            run.datagrams += 1;
            run.bytes += d.len();
            let t = Instant::now();
            b.handle_datagram(now, b_addr, a_addr, &d);
            add(&mut run.responder, &exchange_name(&d), t.elapsed());
        }
        for d in to_a.drain(..) {
            run.datagrams += 1;
            run.bytes += d.len();
            let t = Instant::now();
            a.handle_datagram(now, a_addr, b_addr, &d);
            add(&mut run.initiator, &exchange_name(&d), t.elapsed());
        }
        while let Some(e) = a.poll_event() {
            if let Event::IkeSaEstablished { info, .. } = e {
                run.proposal = info.proposal;
                run.ppk_used = info.ppk_used;
                up_a = true;
            }
        }
        while let Some(e) = b.poll_event() {
            up_b |= matches!(e, Event::IkeSaEstablished { .. });
        }
    }
    assert!(
        up_a && up_b,
        "handshake did not complete: {:?} {:?}",
        a.stats(),
        b.stats()
    );
    run
}

fn exchange_name(d: &[u8]) -> String {
    match Header::parse(d).map(|h| h.exchange) {
        Ok(ExchangeType::IKE_SA_INIT) => "IKE_SA_INIT".into(),
        Ok(ExchangeType::IKE_INTERMEDIATE) => "IKE_INTERMEDIATE".into(),
        Ok(ExchangeType::IKE_AUTH) => "IKE_AUTH".into(),
        Ok(other) => format!("{other:?}"),
        Err(_) => "?".into(),
    }
}

fn add(side: &mut SideTimes, exchange: &str, d: Duration) {
    *side.per_exchange.entry(exchange.into()).or_default() += d;
    side.total += d;
}

/// The median of some durations.
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The key-exchange scenarios every CPU benchmark covers, by name.
pub fn scenarios() -> Vec<(&'static str, Scenario)> {
    let plain = |ike: &str| Scenario {
        ike: ike.into(),
        esp: "aes256gcm16".into(),
        ppk: None,
    };
    vec![
        ("x25519", plain("aes256gcm16-prfsha384-x25519")),
        ("x25519+mlkem768", Scenario::hybrid(None)),
        (
            "x25519+mlkem1024",
            plain("aes256gcm16-prfsha384-x25519-ke1_mlkem1024"),
        ),
        (
            "x25519+mlkem768+ppk",
            Scenario::hybrid(Some(vec![0x42; 32])),
        ),
    ]
}

/// The crypto providers compiled in (`default`, and `rustcrypto` with that feature).
#[allow(clippy::vec_init_then_push)] // each push depends on a feature
pub fn providers() -> Vec<&'static dyn CryptoProvider> {
    let mut v: Vec<&'static dyn CryptoProvider> = Vec::new();
    #[cfg(feature = "default-provider")]
    v.push(ipsec_crypto::default_provider());
    #[cfg(feature = "rustcrypto")]
    v.push(ipsec_crypto::rustcrypto_provider());
    v
}
