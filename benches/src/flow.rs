//! An in-memory IKE SA life in stages (initial exchanges, a Child SA without a key exchange, a
//! Child SA with the scenario's key exchanges), timing every call into each endpoint and
//! attributing it to a side and an exchange. The criterion benches are built on it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::wire::{ExchangeType, Header};
use ikev2::{ChildConfig, Endpoint, EndpointConfig, Event, ProposalSpec, SaId};
use ipsec_crypto::CryptoProvider;

use crate::{Scenario, connection, selector};

/// Which end of the IKE SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Initiator,
    Responder,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Self::Initiator => "initiator",
            Self::Responder => "responder",
        }
    }
}

/// How far a flow runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// IKE_SA_INIT, IKE_INTERMEDIATE (one per additional key exchange), IKE_AUTH.
    Initial,
    /// Then CREATE_CHILD_SA for a Child SA without a key exchange.
    Child,
    /// Then CREATE_CHILD_SA (+ IKE_FOLLOWUP_KE) for a Child SA with the scenario's key exchanges.
    ChildKe,
}

/// Label of the CREATE_CHILD_SA without a key exchange.
pub const CHILD: &str = "CREATE_CHILD_SA";
/// Label of the CREATE_CHILD_SA with key exchanges, its IKE_FOLLOWUP_KE included.
pub const CHILD_KE: &str = "CREATE_CHILD_SA+KE";

/// The exchanges a flow times, in order, for a stage.
pub fn exchanges(stage: Stage, intermediate: bool) -> Vec<&'static str> {
    let mut v = vec!["IKE_SA_INIT"];
    if intermediate {
        v.push("IKE_INTERMEDIATE");
    }
    v.push("IKE_AUTH");
    if stage >= Stage::Child {
        v.push(CHILD);
    }
    if stage >= Stage::ChildKe {
        v.push(CHILD_KE);
    }
    v
}

/// CPU time per (side, exchange) of one flow.
pub type FlowTimes = BTreeMap<(Side, String), Duration>;

/// The ESP proposal with the IKE proposal's key exchanges (PFS for new Child SAs).
pub fn esp_with_kes(s: &Scenario) -> String {
    let kes: Vec<&str> = s
        .ike
        .split('-')
        .filter(|t| t.starts_with("x25519") || t.starts_with("ecp") || t.contains("mlkem"))
        .collect();
    format!("{}-{}", s.esp, kes.join("-"))
}

fn with_extra_children(s: &Scenario, initiator: bool) -> ikev2::ConnectionConfig {
    let mut c = connection(s, initiator);
    let (plain_l, plain_r) = (
        selector("10.3.0.0", "10.3.255.255"),
        selector("10.4.0.0", "10.4.255.255"),
    );
    let (ke_l, ke_r) = (
        selector("10.5.0.0", "10.5.255.255"),
        selector("10.6.0.0", "10.6.255.255"),
    );
    let (pl, pr, kl, kr) = if initiator {
        (plain_l, plain_r, ke_l, ke_r)
    } else {
        (plain_r, plain_l, ke_r, ke_l)
    };
    let esp = |p: &str| vec![ProposalSpec::parse_esp(p).expect("scenario ESP proposal")];
    c.children
        .push(ChildConfig::new("plain", esp(&s.esp), vec![pl], vec![pr]));
    c.children.push(ChildConfig::new(
        "pfs",
        esp(&esp_with_kes(s)),
        vec![kl],
        vec![kr],
    ));
    c
}

struct Flow {
    a: Endpoint,
    b: Endpoint,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    now: Instant,
    times: FlowTimes,
    sa: Option<SaId>,
    established: bool,
    children: usize,
}

impl Flow {
    fn add(&mut self, side: Side, label: &str, d: Duration) {
        *self.times.entry((side, label.to_string())).or_default() += d;
    }

    /// Exchanges datagrams until both sides are quiet; `label` names them, or (None) their
    /// exchange type does.
    fn pump(&mut self, label: Option<&str>) {
        for _ in 0..64 {
            let to_b: Vec<Vec<u8>> =
                std::iter::from_fn(|| self.a.poll_transmit().map(|t| t.data)).collect();
            let to_a: Vec<Vec<u8>> =
                std::iter::from_fn(|| self.b.poll_transmit().map(|t| t.data)).collect();
            if to_a.is_empty() && to_b.is_empty() {
                return;
            }
            for d in to_b {
                let name = label.map_or_else(|| exchange_name(&d), str::to_string);
                let t = Instant::now();
                self.b
                    .handle_datagram(self.now, self.b_addr, self.a_addr, &d);
                self.add(Side::Responder, &name, t.elapsed());
            }
            for d in to_a {
                let name = label.map_or_else(|| exchange_name(&d), str::to_string);
                let t = Instant::now();
                self.a
                    .handle_datagram(self.now, self.a_addr, self.b_addr, &d);
                self.add(Side::Initiator, &name, t.elapsed());
            }
            self.events();
        }
    }

    fn events(&mut self) {
        while let Some(e) = self.a.poll_event() {
            match e {
                Event::IkeSaEstablished { sa, .. } => {
                    self.sa = Some(sa);
                    self.established = true;
                }
                Event::ChildSaEstablished { .. } => self.children += 1,
                _ => {}
            }
        }
        while self.b.poll_event().is_some() {}
    }

    fn create_child(&mut self, name: &str, label: &str) {
        let sa = self.sa.expect("established");
        let before = self.children;
        let t = Instant::now();
        if let Err(e) = self.a.create_child(self.now, sa, name) {
            panic!("create_child {name}: {e}");
        }
        self.add(Side::Initiator, label, t.elapsed());
        self.pump(Some(label));
        assert_eq!(self.children, before + 1, "Child SA {name} not established");
    }
}

/// Runs one flow between fresh endpoints up to `stage`.
///
/// # Panics
/// If an exchange fails (a benchmark of a failing exchange is meaningless).
pub fn run_flow(s: &Scenario, provider: &'static dyn CryptoProvider, stage: Stage) -> FlowTimes {
    let rcfg = EndpointConfig {
        connections: vec![Arc::new(with_extra_children(s, false))],
        ..EndpointConfig::default()
    };
    let mut f = Flow {
        a: Endpoint::new(EndpointConfig::default(), provider),
        b: Endpoint::new(rcfg, provider),
        a_addr: "192.0.2.1:500".parse().expect("literal address"),
        b_addr: "192.0.2.2:500".parse().expect("literal address"),
        now: Instant::now(),
        times: FlowTimes::new(),
        sa: None,
        established: false,
        children: 0,
    };
    let conn = Arc::new(with_extra_children(s, true));
    let t = Instant::now();
    f.a.connect(f.now, conn, f.a_addr, f.b_addr)
        .expect("connect");
    f.add(Side::Initiator, "IKE_SA_INIT", t.elapsed());
    f.pump(None);
    assert!(
        f.established && f.children == 1,
        "initial exchanges failed: {:?}",
        f.a.stats()
    );
    if stage >= Stage::Child {
        f.create_child("plain", CHILD);
    }
    if stage >= Stage::ChildKe {
        f.create_child("pfs", CHILD_KE);
    }
    f.times
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hybrid_flow_times_every_exchange_on_both_sides() {
        let s = Scenario::hybrid(None);
        let t = run_flow(&s, crate::providers()[0], Stage::ChildKe);
        for side in [Side::Initiator, Side::Responder] {
            for ex in exchanges(Stage::ChildKe, true) {
                assert!(
                    t.get(&(side, ex.to_string())).is_some_and(|d| !d.is_zero()),
                    "{side:?} {ex}: {t:?}"
                );
            }
        }
        assert_eq!(esp_with_kes(&s), "aes256gcm16-x25519-ke1_mlkem768");
    }
}
