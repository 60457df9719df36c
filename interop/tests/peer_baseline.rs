//! The peer on its own: strongSwan ↔ strongSwan in the lab, so a failure in an interop test
//! with our daemon is never the lab's.
//!
//! Both ends use kernel-libipsec (userspace ESP on TUN devices; it routes the remote inner
//! address through `ipsec0` in table 220), PSK authentication and
//! `aes256gcm16-prfsha384-x25519-ke1_mlkem768`: X25519 in IKE_SA_INIT, ML-KEM-768 in one
//! IKE_INTERMEDIATE (RFC 9370). The CHILD_SA proposal has the same key exchanges, so a CHILD_SA
//! rekey is a CREATE_CHILD_SA plus an IKE_FOLLOWUP_KE.
//!
//! Checked: `swanctl --list-sas` on both ends shows the ML-KEM key exchange and an INSTALLED
//! CHILD_SA; ping and a checked TCP transfer cross the tunnel; the rekeyed CHILD_SA carries
//! X25519 + ML-KEM-768. Then `PQIO_RUNS` (default 10) more initiations are timed and the
//! median phase timings printed. Two variants: raw ESP (IP protocol 50, IKE stays on port 500)
//! and kernel-libipsec's default, UDP-encapsulated ESP on port 4500.
//!
//! Needs root; without it the tests print a SKIPPED banner and pass. Run with
//! `cargo test --release -p interop --test peer_baseline -- --test-threads=1 --nocapture`.

use std::time::Duration;

use interop::swanctl::{PskConn, psk_conf};
use interop::{
    Charon, CharonConfig, FirstPacketProbe, IkeSa, Lab, Node, PhaseSummary, PhaseTimings,
    lab_or_skip, ping, report, tcp_transfer, timelines,
};

const IKE_PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const ESP_PROPOSAL: &str = "aes256gcm16-x25519-ke1_mlkem768";
const TRANSFER_BYTES: usize = 1 << 20;
const WAIT: Duration = Duration::from_secs(10);

fn swanctl_conf(me: &Node, peer: &Node, my_id: &str, peer_id: &str) -> String {
    let conn = PskConn {
        my_id,
        peer_id,
        ike: IKE_PROPOSAL,
        esp: ESP_PROPOSAL,
        psk: "interop-lab-psk-0123456789abcdef",
    };
    psk_conf(me, peer, &conn)
}

/// Charons first, so they stop before the lab's namespaces go.
struct Pair {
    left: Charon,
    right: Charon,
    lab: Lab,
}

fn pair(tag: &str, raw_esp: bool) -> Option<Pair> {
    let strongswan = lab_or_skip(&format!("peer_baseline::{tag}"))?;
    let lab = Lab::new(&strongswan, tag).expect("lab");
    let config = CharonConfig {
        raw_esp,
        ..CharonConfig::default()
    };
    let right = Charon::start(lab.right(), &strongswan, "right", &config).expect("right charon");
    let left = Charon::start(lab.left(), &strongswan, "left", &config).expect("left charon");
    right
        .load_conf(&swanctl_conf(lab.right(), lab.left(), "right", "left"))
        .expect("load right");
    left.load_conf(&swanctl_conf(lab.left(), lab.right(), "left", "right"))
        .expect("load left");
    Some(Pair { left, right, lab })
}

fn only_sa(charon: &Charon) -> IkeSa {
    let sas = charon.list_sas().expect("list-sas");
    assert_eq!(
        sas.len(),
        1,
        "{}: expected one IKE_SA: {sas:#?}",
        charon.name()
    );
    sas.into_iter().next().expect("one IKE_SA")
}

fn check_sa(sa: &IkeSa, initiator: bool, raw_esp: bool) {
    assert_eq!(sa.state, "ESTABLISHED");
    assert_eq!(sa.initiator, initiator);
    assert_eq!(
        sa.proposal(),
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768"
    );
    assert_eq!(sa.algorithms.key_exchanges(), ["CURVE_25519", "ML_KEM_768"]);
    let port = if raw_esp { 500 } else { 4500 };
    assert_eq!((sa.local_port, sa.remote_port), (port, port), "IKE ports");
    let child = sa
        .installed_children()
        .next()
        .unwrap_or_else(|| panic!("no INSTALLED CHILD_SA: {sa:#?}"));
    assert_eq!(
        (child.mode.as_str(), child.protocol.as_str()),
        ("TUNNEL", "ESP")
    );
    assert_eq!(child.encap, !raw_esp, "UDP encapsulation");
    assert_eq!(child.algorithms.encr.as_deref(), Some("AES_GCM_16"));
}

fn baseline(tag: &str, raw_esp: bool) {
    let Some(p) = pair(tag, raw_esp) else { return };
    let (l, r) = (p.lab.left(), p.lab.right());

    // ML-KEM comes from the peer's provider; with the ml plugin its self-test ran and passed
    // (test vectors loaded before the provider). OpenSSL's ML-KEM runs without self-tests.
    let ss = p.lab.strongswan();
    let algs = p.left.list_algs().expect("list-algs");
    let provided = format!("ML_KEM_768[{}]", ss.ke_provider());
    assert!(algs.contains(&provided), "no {provided} in\n{algs}");
    if ss.crypto_tests_work() {
        assert!(
            p.left.log().contains("ML_KEM_768[ml]: passed"),
            "no ML-KEM self-test in charon's log"
        );
    }

    // One initiation, checked in full.
    p.left.initiate("net").expect("initiate");
    let (lsa, rsa) = (only_sa(&p.left), only_sa(&p.right));
    check_sa(&lsa, true, raw_esp);
    check_sa(&rsa, false, raw_esp);
    report(&format!(
        "--- swanctl --list-sas (left, {tag})\n{}",
        p.left.list_sas_text().expect("list-sas")
    ));

    let stats = ping(l, r.inner(), 3).expect("ping");
    assert_eq!(stats.received, 3, "ping through the tunnel: {stats:?}");
    let t =
        tcp_transfer(l, r, 5001, TRANSFER_BYTES, Duration::from_secs(30)).expect("TCP transfer");
    assert_eq!(t.bytes, TRANSFER_BYTES);
    report(&format!(
        "{tag}: {} bytes over TCP through the tunnel in {:?}",
        t.bytes, t.elapsed
    ));
    let child = only_sa(&p.left)
        .installed_children()
        .next()
        .cloned()
        .expect("child");
    assert!(
        child.bytes_out >= TRANSFER_BYTES as u64,
        "ESP counters: {child:#?}"
    );
    assert!(
        child.packets_in > 0 && child.packets_out > 0,
        "ESP counters: {child:#?}"
    );

    // A CHILD_SA rekey with PFS: CREATE_CHILD_SA with X25519, IKE_FOLLOWUP_KE with ML-KEM-768.
    let mark = p.left.log_mark();
    p.left.rekey_child("net").expect("rekey");
    p.left
        .wait_log(mark, "rekeyed CHILD_SA", WAIT)
        .expect("rekeyed");
    let rekeyed = interop::wait_until(WAIT, || {
        only_sa(&p.left)
            .installed_children()
            .find(|c| c.unique_id > child.unique_id)
            .cloned()
    })
    .expect("a new INSTALLED CHILD_SA after the rekey");
    assert_eq!(
        rekeyed.algorithms.key_exchanges(),
        ["CURVE_25519", "ML_KEM_768"],
        "{rekeyed:#?}"
    );
    assert_eq!(ping(l, r.inner(), 2).expect("ping after rekey").received, 2);
    p.left.terminate_ike("net").expect("terminate");
    assert!(p.left.list_sas().expect("list-sas").is_empty());

    // Timed initiations.
    let runs: usize = std::env::var("PQIO_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut first_packets = Vec::new();
    for _ in 0..runs {
        let probe = FirstPacketProbe::start(l, r.inner(), Duration::from_secs(20)).expect("probe");
        p.left.initiate("net").expect("initiate");
        first_packets.push(probe.wait(WAIT).expect("first packet"));
        let mark = p.left.log_mark();
        p.left.rekey_child("net").expect("rekey");
        p.left
            .wait_log(mark, "rekeyed CHILD_SA", WAIT)
            .expect("rekeyed");
        p.left.terminate_ike("net").expect("terminate");
    }
    let log = p.left.log();
    let initiated: Vec<_> = timelines(&log)
        .into_iter()
        .filter(|t| t.initiated.is_some())
        .collect();
    assert_eq!(
        initiated.len(),
        runs + 1,
        "one IKE_SA per initiation in the log"
    );
    let phases: Vec<PhaseTimings> = initiated[1..]
        .iter()
        .zip(&first_packets)
        .map(|(t, fp)| {
            assert_eq!(t.retransmits, 0, "retransmits in a timed run");
            PhaseTimings::from_timeline(t).with_first_packet(t, fp.reply)
        })
        .collect();
    let summary = PhaseSummary::new(&phases);
    report(&format!(
        "=== strongSwan <-> strongSwan phase timings ({tag}, {}, median of {runs}, initiator's log)\n{summary}",
        p.lab.strongswan().describe()
    ));
    for phase in [
        "IKE_SA_INIT",
        "IKE_INTERMEDIATE",
        "IKE_AUTH",
        "CREATE_CHILD_SA (+FOLLOWUP_KE)",
    ] {
        assert!(summary.median(phase).is_some(), "no {phase} timing");
    }
}

#[test]
fn strongswan_pair_raw_esp() {
    baseline("raw", true);
}

#[test]
fn strongswan_pair_udp_encap() {
    baseline("udp", false);
}
