//! QKD keys as PPKs between two in-process daemons and the in-process KME simulator (ETSI GS
//! QKD 014 over mutual TLS on loopback): the initiator's `enc_keys` key_ID travels as PPK_ID,
//! the responder takes the same key with `dec_keys`; without the KME the IKE SA fails closed,
//! and with `qkd_fallback` it comes up on ML-KEM alone, saying why.

mod common;
#[path = "common/kme.rs"]
mod kme;

use std::path::Path;
use std::time::Duration;

use common::{HYBRID, TestDaemon, wait_for};
use iked::client::ClientError;
use iked::proto::{Command, ErrorCode, IkeSaView, StatsView, UpView};
use kme::{Kmes, Pki, QkdSite};

const T: Option<Duration> = Some(Duration::from_secs(20));

/// A connection keyed with X25519 + ML-KEM-768 and a QKD PPK, and the `[qkd]` section for SAE
/// `gw-ME` at `kme_url`, with the simulator's certificates in `pki`.
fn qkd_site(
    name: &str,
    me: &str,
    peer: &str,
    peer_port: Option<u16>,
    fallback: bool,
    pki: &Path,
    kme_url: &str,
) -> String {
    let site = QkdSite {
        name,
        me,
        peer,
        peer_port,
        fallback,
        rfc9867: false,
    };
    site.render(pki, kme_url)
}

fn up(d: &TestDaemon, name: &str) -> Result<UpView, ClientError> {
    d.up(name)
}

fn daemon_counter(d: &TestDaemon, name: &str) -> u64 {
    let s: StatsView = d.client().call_as(Command::Stats, T).expect("stats");
    s.daemon.get(name).copied().unwrap_or(0)
}

#[test]
fn qkd_keys_the_tunnel_and_a_missing_kme_fails_closed() {
    let pki = Pki::generate();
    let kmes = Kmes::start(&pki, None);
    let b = TestDaemon::start(
        &qkd_site(
            "from-a",
            "b",
            "a",
            None,
            false,
            pki.path(),
            &kmes.sim.url_b(),
        ),
        "",
    );
    let a = TestDaemon::start(
        &qkd_site(
            "to-b",
            "a",
            "b",
            Some(b.ike_port()),
            false,
            pki.path(),
            &kmes.sim.url_a(),
        ),
        "",
    );

    let v = up(&a, "to-b").expect("up with a QKD key");
    assert!(v.ike_sa.ppk_used);
    assert_eq!(v.ike_sa.hybrid, "pqc+qkd");
    let ppk = v.ike_sa.ppk.as_ref().expect("ppk");
    assert_eq!(
        (ppk.source.as_str(), ppk.used, ppk.reason.as_str()),
        ("qkd", true, "QKD key from enc_keys")
    );
    let key_id = ppk.id.clone().expect("key_ID");
    assert_eq!(
        key_id.len(),
        36,
        "the KME's key_ID (a UUID) is the PPK_ID: {key_id}"
    );
    let phases: Vec<&str> = v.ike_sa.timings.iter().map(|p| p.phase.as_str()).collect();
    for p in [
        "IKE_SA_INIT",
        "IKE_INTERMEDIATE",
        "IKE_AUTH",
        "qkd enc_keys",
        "initiate -> child installed",
    ] {
        assert!(phases.contains(&p), "{p} missing from {phases:?}");
    }
    let responder = wait_for(Duration::from_secs(5), || {
        let sas: Vec<IkeSaView> = b.client().call_as(Command::ListSas, T).ok()?;
        sas.into_iter().find(|s| s.state == "established")
    })
    .expect("B lists the SA");
    let b_ppk = responder.ppk.expect("B's ppk");
    assert_eq!(
        (b_ppk.id.as_deref(), b_ppk.reason.as_str()),
        (Some(key_id.as_str()), "QKD key from dec_keys")
    );
    assert_eq!(daemon_counter(&a, "qkd_keys_received"), 1);
    assert_eq!(daemon_counter(&b, "qkd_keys_received"), 1);

    a.client()
        .call(
            Command::Down {
                name: "to-b".into(),
            },
            T,
        )
        .expect("down");
    // Gone for good: listeners and kept-alive connections closed before we go on.
    kmes.stop();
    let e = up(&a, "to-b").expect_err("no KME: fail closed");
    match e {
        ClientError::Daemon(body) => {
            assert_eq!(body.code, ErrorCode::Engine);
            assert!(
                body.message.contains("required PPK not available")
                    && body.message.contains("(QKD: "),
                "{}",
                body.message
            );
        }
        other => panic!("daemon error expected, got {other}"),
    }
    assert!(daemon_counter(&a, "qkd_key_failures") >= 1);
    let sas: Vec<IkeSaView> = a.client().call_as(Command::ListSas, T).expect("list");
    assert!(sas.is_empty(), "{sas:?}");
}

#[test]
fn qkd_fallback_keys_with_ml_kem_alone_and_says_why() {
    let pki = Pki::generate();
    // Nothing listens there: every key request fails at once.
    let dead = "https://127.0.0.1:9";
    let b = TestDaemon::start(
        &qkd_site("from-a", "b", "a", None, true, pki.path(), dead),
        "",
    );
    let a = TestDaemon::start(
        &qkd_site("to-b", "a", "b", Some(b.ike_port()), true, pki.path(), dead),
        "",
    );
    let v = up(&a, "to-b").expect("up on ML-KEM alone");
    assert!(!v.ike_sa.ppk_used);
    assert_eq!(v.ike_sa.proposal.as_deref(), Some(HYBRID));
    let ppk = v.ike_sa.ppk.expect("ppk");
    assert!(!ppk.used);
    assert!(
        ppk.reason.starts_with("KME enc_keys: ")
            && ppk
                .reason
                .ends_with("; keyed by ML-KEM alone (qkd_fallback)"),
        "{}",
        ppk.reason
    );
    assert_eq!(daemon_counter(&a, "qkd_fallbacks"), 1);
}

/// The responder asks for 512-bit keys, the initiator's KME handed out 256-bit ones: the key
/// that `dec_keys` returns is refused (it cannot be the PPK the responder's policy asks for),
/// and the IKE SA fails closed on both sides.
#[test]
fn a_qkd_key_of_another_length_is_refused() {
    let pki = Pki::generate();
    let kmes = Kmes::start(&pki, None);
    let b_site = qkd_site(
        "from-a",
        "b",
        "a",
        None,
        false,
        pki.path(),
        &kmes.sim.url_b(),
    );
    let b = TestDaemon::start(&format!("{b_site}key_size = 512\n"), "");
    let a = TestDaemon::start(
        &qkd_site(
            "to-b",
            "a",
            "b",
            Some(b.ike_port()),
            false,
            pki.path(),
            &kmes.sim.url_a(),
        ),
        "",
    );
    assert!(up(&a, "to-b").is_err(), "no IKE SA without a common PPK");
    assert_eq!(
        daemon_counter(&a, "qkd_keys_received"),
        1,
        "A got its 256 bits"
    );
    let refused = wait_for(Duration::from_secs(5), || {
        (daemon_counter(&b, "qkd_key_failures") == 1).then_some(())
    });
    assert!(refused.is_some(), "B refused the key");
    assert_eq!(daemon_counter(&b, "qkd_keys_received"), 0);
    let sas: Vec<IkeSaView> = b.client().call_as(Command::ListSas, T).expect("list");
    assert!(sas.is_empty(), "{sas:?}");
}

/// KME requests are capped: with a KME that never answers, a second request for the same peer
/// address is refused at once under `max_requests_per_peer = 1`, and queued under
/// `max_requests = 1`.
#[test]
fn kme_requests_are_capped_per_peer_and_in_all() {
    let pki = Pki::generate();
    // Accepts TCP connections and never speaks TLS: every request waits for its timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}", silent.local_addr().expect("addr"));
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = peer.local_addr().expect("addr").port();
    let two = |caps: &str| {
        let one = qkd_site("one", "a", "b", Some(port), false, pki.path(), &url);
        let other = qkd_site("two", "a", "b", Some(port), false, pki.path(), &url);
        // One [qkd] section, with the caps, and one pre-shared key for both.
        let other = &other[..other.find("\n[secrets.ike.two]").expect("secret")];
        format!(
            "{}{other}\n",
            one.replace("timeout = \"2s\"\n", &format!("timeout = \"5s\"\n{caps}\n"))
        )
    };
    for (caps, counter) in [
        ("max_requests_per_peer = 1", "qkd_requests_refused"),
        ("max_requests = 1", "qkd_requests_queued"),
    ] {
        let a = TestDaemon::start(&two(caps), "");
        let ups: Vec<_> = ["one", "two"]
            .into_iter()
            .map(|name| {
                let socket = a.socket.clone();
                std::thread::spawn(move || {
                    let _ = iked::client::Client::connect(&socket).map(|mut c| {
                        c.call(
                            Command::Up {
                                name: name.into(),
                                timeout_ms: Some(500),
                            },
                            T,
                        )
                    });
                })
            })
            .collect();
        let seen = wait_for(Duration::from_secs(10), || {
            (daemon_counter(&a, counter) == 1).then_some(())
        });
        assert!(seen.is_some(), "{caps}: {counter} not counted");
        for u in ups {
            let _ = u.join();
        }
    }
}
