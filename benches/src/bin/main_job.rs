//! The main job on its embedded default: a hybrid X25519 + ML-KEM-768 IKEv2 tunnel whose keys
//! also mix in a QKD key (RFC 8784 PPK) fetched over ETSI GS QKD 014 from the built-in KME
//! simulator, then traffic through the negotiated ESP SAs, with phase timings.
//!
//! Today the two IKEv2 endpoints and the ESP SAs run in this process (the engine is sans-IO);
//! the KMEs are real HTTPS servers on loopback with mutual TLS.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{Scenario, connection};
use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Spi};
use ikev2::{ChildSa, Endpoint, EndpointConfig, EspSpi, Event, PpkConfig, SaId};
use ipsec_crypto::{CryptoProvider, SecretBytes};
use qkd_client::{ClientConfig, KeyId, KmeClient};
use qkd_kme_sim::{SimConfig, SimPki};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

async fn run() -> Res<()> {
    let provider = ipsec_crypto::default_provider();
    println!(
        "== QKD: starting the KME simulator (two KMEs, ETSI GS QKD 014, mutual TLS on loopback)"
    );
    let pki = SimPki::generate(&["gw-a", "gw-b"], "KME_A", "KME_B")?;
    let sim = qkd_kme_sim::spawn(SimConfig::new(pki.kme_tls())).await?;
    let client = |sae: &str, url: String| -> Res<KmeClient> {
        let c = &pki.sae(sae).ok_or("no SAE")?.cert;
        Ok(KmeClient::new(ClientConfig::new(
            url,
            c.cert_pem.clone(),
            c.key_pem.clone(),
            pki.ca_pem.clone(),
        ))?)
    };
    let (master, slave) = (client("gw-a", sim.url_a())?, client("gw-b", sim.url_b())?);
    println!("   KME A {}  KME B {}", sim.url_a(), sim.url_b());

    let scenario = Scenario::hybrid(None);
    let mut ic = connection(&scenario, true);
    let mut rc = connection(&scenario, false);
    ic.ppk = Some(PpkConfig::external(Duration::from_secs(5), true));
    rc.ppk = Some(PpkConfig::external(Duration::from_secs(5), true));
    let (a_addr, b_addr): (SocketAddr, SocketAddr) =
        ("192.0.2.1:500".parse()?, "192.0.2.2:500".parse()?);
    let mut a = Endpoint::new(EndpointConfig::default(), provider);
    let mut b = Endpoint::new(
        EndpointConfig {
            connections: vec![Arc::new(rc)],
            ..EndpointConfig::default()
        },
        provider,
    );

    println!(
        "== IKEv2: {} with a QKD PPK (required, fail closed)",
        scenario.ike
    );
    let start = Instant::now();
    a.connect(start, Arc::new(ic), a_addr, b_addr)?;
    let mut net = Net::default();
    let mut up = (None, None);
    for _ in 0..200 {
        net.pump(&mut a, &mut b, a_addr, b_addr);
        let mut asks = Vec::new();
        while let Some(e) = a.poll_event() {
            on_event("gw-a", e, &mut up.0, &mut asks, true)?;
        }
        while let Some(e) = b.poll_event() {
            on_event("gw-b", e, &mut up.1, &mut asks, false)?;
        }
        for (is_a, sa, id) in asks {
            let t = Instant::now();
            let ppk = fetch_ppk(&master, &slave, is_a, id).await?;
            let what = if is_a {
                "enc_keys (master)"
            } else {
                "dec_keys (slave)"
            };
            println!(
                "   QKD {what:<18} key_ID {}  {:>7.1} µs",
                String::from_utf8_lossy(&ppk.0),
                t.elapsed().as_secs_f64() * 1e6
            );
            net.note(&format!("QKD {what}"), t.elapsed());
            let endpoint = if is_a { &mut a } else { &mut b };
            let t = Instant::now();
            endpoint
                .provide_ppk(Instant::now(), sa, Some(ppk))
                .expect("the IKE SA waits for its PPK");
            // The exchange that waited for the key goes on inside provide_ppk.
            net.note("IKE_AUTH", t.elapsed());
        }
        if up.0.is_some() && up.1.is_some() && net.child_at.is_none() {
            net.child_at = Some(Instant::now());
        }
        if net.child_at.is_some() && net.idle() {
            break;
        }
    }
    let (Some(ca), Some(cb)) = up else {
        return Err("tunnel did not come up".into());
    };
    println!("\n== Phase timings (wall clock, both endpoints in this process)");
    for (phase, d) in &net.phases {
        println!("   {phase:<26} {:>9.1} µs", d.as_secs_f64() * 1e6);
    }
    println!(
        "   {:<26} {:>9.1} µs",
        "initiate -> Child SA",
        net.child_at
            .unwrap_or(start)
            .duration_since(start)
            .as_secs_f64()
            * 1e6
    );
    traffic(provider, ca, cb)?;
    sim.shutdown();
    Ok(())
}

fn on_event(
    name: &str,
    e: Event,
    child: &mut Option<ChildSa>,
    asks: &mut Vec<(bool, SaId, Option<Vec<u8>>)>,
    is_a: bool,
) -> Res<()> {
    match e {
        Event::IkeSaEstablished { info, .. } => println!(
            "   {name}: IKE SA up: {} (PPK used: {}, IKE_INTERMEDIATE exchanges: {})",
            info.proposal, info.ppk_used, info.intermediate_exchanges
        ),
        Event::ChildSaEstablished { child: c, .. } => {
            println!(
                "   {name}: Child SA {} in {:08x} out {:08x} ({})",
                c.name, c.inbound_spi, c.outbound_spi, c.suite
            );
            *child = Some(c);
        }
        Event::PpkNeeded { sa, ppk_id, .. } => asks.push((is_a, sa, ppk_id)),
        Event::IkeSaFailed { error, .. } => {
            return Err(format!("{name}: IKE SA failed: {error}").into());
        }
        _ => {}
    }
    Ok(())
}

/// The initiator takes a fresh key (enc_keys); the responder takes the same one by its ID.
async fn fetch_ppk(
    master: &KmeClient,
    slave: &KmeClient,
    is_a: bool,
    id: Option<Vec<u8>>,
) -> Res<(Vec<u8>, SecretBytes)> {
    let key = match (is_a, id) {
        (true, None) => master.enc_keys("gw-b", 1, 256).await?.remove(0),
        (false, Some(id)) => {
            let id = KeyId::from_str(std::str::from_utf8(&id)?)?;
            slave.dec_keys("gw-a", &[id]).await?.remove(0)
        }
        _ => return Err("unexpected PPK request".into()),
    };
    let (id, secret) = key.into_secret();
    Ok((id.to_string().into_bytes(), secret))
}

/// The datagrams in flight and the time spent per exchange.
#[derive(Default)]
struct Net {
    to_a: VecDeque<Vec<u8>>,
    to_b: VecDeque<Vec<u8>>,
    phases: Vec<(String, Duration)>,
    child_at: Option<Instant>,
}

impl Net {
    fn pump(&mut self, a: &mut Endpoint, b: &mut Endpoint, a_addr: SocketAddr, b_addr: SocketAddr) {
        for _ in 0..64 {
            while let Some(t) = a.poll_transmit() {
                self.to_b.push_back(t.data);
            }
            while let Some(t) = b.poll_transmit() {
                self.to_a.push_back(t.data);
            }
            if self.idle() {
                return;
            }
            // One request/response round trip at a time, timed as one phase.
            let t = Instant::now();
            let name = self
                .to_b
                .front()
                .or_else(|| self.to_a.front())
                .map(|d| exchange(d))
                .unwrap_or_default();
            while let Some(d) = self.to_b.pop_front() {
                b.handle_datagram(Instant::now(), b_addr, a_addr, &d);
            }
            while let Some(t) = b.poll_transmit() {
                self.to_a.push_back(t.data);
            }
            while let Some(d) = self.to_a.pop_front() {
                a.handle_datagram(Instant::now(), a_addr, b_addr, &d);
            }
            self.note(&name, t.elapsed());
        }
    }

    fn note(&mut self, phase: &str, d: Duration) {
        match self.phases.iter_mut().find(|(p, _)| p == phase) {
            Some((_, t)) => *t += d,
            None => self.phases.push((phase.into(), d)),
        }
    }

    fn idle(&self) -> bool {
        self.to_a.is_empty() && self.to_b.is_empty()
    }
}

fn exchange(d: &[u8]) -> String {
    ikev2::wire::Header::parse(d)
        .map(|h| format!("{:?}", h.exchange))
        .unwrap_or_default()
}

/// Sends packets both ways through the negotiated ESP SAs and checks every byte.
fn traffic(provider: &'static dyn CryptoProvider, a: ChildSa, b: ChildSa) -> Res<()> {
    let cipher = Cipher::Aead(a.suite.aead().ok_or("ESP suite is not an AEAD")?);
    let sa = |spi: EspSpi, keys: &SecretBytes, esn| {
        let mut c = SaConfig::new(Spi(spi.0), cipher, keys.dangerous_duplicate());
        c.esn = esn;
        c
    };
    let esn = a.suite.esn_enabled();
    let mut a_out = OutboundSa::new(provider, sa(a.outbound_spi, &a.outbound_keys, esn))?;
    let mut b_in = InboundSa::new(provider, sa(b.inbound_spi, &b.inbound_keys, esn))?;
    let mut b_out = OutboundSa::new(provider, sa(b.outbound_spi, &b.outbound_keys, esn))?;
    let mut a_in = InboundSa::new(provider, sa(a.inbound_spi, &a.inbound_keys, esn))?;
    let packets = 200_000usize;
    let len = 1400usize;
    let mut buf = vec![0u8; OutboundSa::HEADROOM + len + OutboundSa::TAILROOM];
    let t = Instant::now();
    for i in 0..packets {
        let (out, inb) = if i % 2 == 0 {
            (&mut a_out, &mut b_in)
        } else {
            (&mut b_out, &mut a_in)
        };
        let inner = &mut buf[OutboundSa::HEADROOM..OutboundSa::HEADROOM + len];
        ipv4_packet(inner, i as u32);
        let range = out
            .seal(&mut buf, OutboundSa::HEADROOM, len)
            .map_err(|e| format!("seal: {e:?}"))?;
        let opened = inb
            .open(&mut buf[range.clone()])
            .map_err(|e| format!("open: {e:?}"))?;
        let inner = &buf[range.start + opened.inner.start..range.start + opened.inner.end];
        if inner.len() != len || inner[20..24] != (i as u32).to_be_bytes() {
            return Err("decrypted packet differs".into());
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "\n== Traffic through the tunnel's ESP SAs ({}, in memory, one core)",
        a.suite
    );
    println!("   {packets} packets of {len} B, both directions, every byte checked");
    println!(
        "   {:.2} Gbit/s of inner traffic, {:.0} ns per packet (seal + open)",
        packets as f64 * len as f64 * 8.0 / secs / 1e9,
        secs * 1e9 / packets as f64
    );
    Ok(())
}

/// A minimal IPv4/UDP packet whose payload starts with `n`.
fn ipv4_packet(p: &mut [u8], n: u32) {
    let total = p.len() as u16;
    p.fill(0);
    p[0] = 0x45;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&[10, 1, 0, 1]);
    p[16..20].copy_from_slice(&[10, 2, 0, 1]);
    p[20..24].copy_from_slice(&n.to_be_bytes());
}
