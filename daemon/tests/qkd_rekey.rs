//! RFC 9867 rekeys with QKD keys, between two in-process daemons and the in-process KME
//! simulator (ETSI GS QKD 014 over mutual TLS on loopback): every Child SA and IKE SA rekey
//! takes a fresh key from the KME, and a KME that runs dry at rekey time fails closed (no new
//! SA, the old one stays) with the failure counted.

mod common;
#[path = "common/kme.rs"]
mod kme;

use std::path::Path;
use std::time::Duration;

use common::{TestDaemon, wait_for};
use iked::proto::{Command, IkeSaView, RekeyView, StatsView, UpView};
use kme::{Kmes, Pki, QkdSite};
use qkd_kme_sim::PoolConfig;

const T: Option<Duration> = Some(Duration::from_secs(20));

/// A connection keyed with X25519 + ML-KEM-768 and a QKD PPK mixed per RFC 9867 (so also into
/// every CREATE_CHILD_SA), and the `[qkd]` section for SAE `gw-ME` at `kme_url`.
fn site(name: &str, me: &str, peer: &str, peer_port: Option<u16>, pki: &Path, url: &str) -> String {
    let site = QkdSite {
        name,
        me,
        peer,
        peer_port,
        fallback: false,
        rfc9867: true,
    };
    site.render(pki, url)
}

struct Lab {
    // Field order is drop order: daemons before the KME and its runtime.
    a: TestDaemon,
    b: TestDaemon,
    kmes: Kmes,
    _pki: Pki,
}

fn lab(pool: PoolConfig) -> Lab {
    let pki = Pki::generate();
    let kmes = Kmes::start(&pki, Some(pool));
    let b = TestDaemon::start(
        &site("from-a", "b", "a", None, pki.path(), &kmes.sim.url_b()),
        "",
    );
    let a = TestDaemon::start(
        &site(
            "to-b",
            "a",
            "b",
            Some(b.ike_port()),
            pki.path(),
            &kmes.sim.url_a(),
        ),
        "",
    );
    Lab {
        a,
        b,
        kmes,
        _pki: pki,
    }
}

fn up(d: &TestDaemon) -> UpView {
    d.up("to-b").expect("up with a QKD key")
}

fn rekey(d: &TestDaemon, child: Option<&str>, ms: u64) -> Result<RekeyView, String> {
    d.client()
        .call_as(
            Command::Rekey {
                name: "to-b".into(),
                child: child.map(Into::into),
                timeout_ms: Some(ms),
            },
            T,
        )
        .map_err(|e| e.to_string())
}

fn established(d: &TestDaemon) -> Option<IkeSaView> {
    let sas: Vec<IkeSaView> = d.client().call_as(Command::ListSas, T).ok()?;
    sas.into_iter().find(|s| s.state == "established")
}

/// The QKD key_ID the established IKE SA lists now.
fn current_key(d: &TestDaemon) -> Option<String> {
    established(d)?.ppk?.id
}

/// Waits until the listed key_ID satisfies `ok`.
fn key_id(d: &TestDaemon, ok: impl Fn(&str) -> bool) -> Option<String> {
    wait_for(Duration::from_secs(5), || current_key(d).filter(|k| ok(k)))
}

fn reason(d: &TestDaemon) -> String {
    established(d)
        .and_then(|s| s.ppk)
        .map(|p| p.reason)
        .unwrap_or_default()
}

fn stats(d: &TestDaemon) -> StatsView {
    d.client().call_as(Command::Stats, T).expect("stats")
}

fn daemon_counter(d: &TestDaemon, name: &str) -> u64 {
    stats(d).daemon.get(name).copied().unwrap_or(0)
}

#[test]
fn every_rekey_takes_a_new_qkd_key() {
    let lab = lab(PoolConfig::default());
    let v = up(&lab.a);
    assert!(v.ike_sa.ppk_used);
    let k0 = v.ike_sa.ppk.and_then(|p| p.id).expect("initial key_ID");

    let child = rekey(&lab.a, Some("net"), 15_000).expect("Child SA rekey");
    assert_ne!(child.old, child.new);
    let k1 = key_id(&lab.a, |k| k != k0).expect("a new key_ID after the Child SA rekey");
    assert!(key_id(&lab.b, |k| k == k1).is_some(), "B took the same key");
    assert_eq!(reason(&lab.a), "QKD key from enc_keys (for rekey-child)");
    assert_eq!(reason(&lab.b), "QKD key from dec_keys (for rekey-child)");

    let ike = rekey(&lab.a, None, 15_000).expect("IKE SA rekey");
    assert_ne!(ike.old, ike.new);
    let k2 = key_id(&lab.a, |k| k != k0 && k != k1).expect("a new key_ID after the IKE SA rekey");
    assert!(key_id(&lab.b, |k| k == k2).is_some(), "B took the same key");
    assert_eq!(reason(&lab.a), "QKD key from enc_keys (for rekey-ike)");

    for d in [&lab.a, &lab.b] {
        assert_eq!(daemon_counter(d, "qkd_keys_received"), 3);
        assert_eq!(daemon_counter(d, "qkd_rekey_keys_received"), 2);
        assert_eq!(daemon_counter(d, "qkd_key_failures"), 0);
    }
    assert_eq!(
        lab.kmes.sim.waiting_key_count(),
        0,
        "every key the initiator took was picked up by the responder"
    );
    let sa = established(&lab.a).expect("still up");
    assert_eq!(sa.children.len(), 1, "{:?}", sa.children);
}

#[test]
fn a_rate_limited_kme_at_rekey_time_fails_closed_and_keeps_the_old_sa() {
    // One key in the pool and a refill far too slow for a second: the rekey finds it empty.
    let lab = lab(PoolConfig {
        max_key_count: 1,
        initial_key_count: 1,
        key_rate_bps: Some(1),
        ..PoolConfig::default()
    });
    let v = up(&lab.a);
    assert!(v.ike_sa.ppk_used);
    let before = established(&lab.a).expect("up");
    let spi = before.children[0].inbound_spi.clone();

    let e = rekey(&lab.a, Some("net"), 3_000).expect_err("no key: no rekey");
    assert!(!e.is_empty());
    let failed = wait_for(Duration::from_secs(5), || {
        (daemon_counter(&lab.a, "qkd_rekey_key_failures") >= 1).then_some(())
    });
    assert!(failed.is_some(), "the failed key request is counted");
    let s = stats(&lab.a);
    assert!(
        s.engine.get("child_ppk_failures").copied().unwrap_or(0) >= 1,
        "{:?}",
        s.engine
    );
    let after = established(&lab.a).expect("the IKE SA stays");
    assert_eq!(after.id, before.id);
    let spis: Vec<&str> = after
        .children
        .iter()
        .map(|c| c.inbound_spi.as_str())
        .collect();
    assert_eq!(spis, vec![spi.as_str()], "the old Child SA keeps working");
    assert_eq!(daemon_counter(&lab.b, "qkd_rekey_keys_received"), 0);
}
