//! RFC 7296 §1.3.2/§1.3.3 rekeying with RFC 9370 additional key exchanges (CREATE_CHILD_SA
//! followed by IKE_FOLLOWUP_KE) against strongSwan 6.
//!
//! IKE `aes256gcm16-prfsha384-x25519-ke1_mlkem768`, ESP `aes256gcm16-x25519-ke1_mlkem768`, so
//! every rekey runs X25519 in CREATE_CHILD_SA and ML-KEM-768 in one IKE_FOLLOWUP_KE. For each
//! direction of bring-up, four rekeys, each with traffic flowing through it: the Child SA by us
//! (`ikectl rekey net --child net`), by strongSwan (`swanctl --rekey --child`), the IKE SA by us
//! (`ikectl rekey net`), by strongSwan (`swanctl --rekey --ike`). Each one must:
//!
//! - replace the SA on both ends (new SPIs; strongSwan's new SA shows X25519 + ML-KEM-768);
//! - run an IKE_FOLLOWUP_KE exchange (strongSwan's log);
//! - lose no packet: 200 pings 10 ms apart spanning the rekey all come back, and a 1 MiB
//!   TCP transfer in the other direction arrives intact;
//! - carry traffic on the new Child SA afterwards (our counters on it move).
//!
//! Then simultaneous rekeys (§2.8.1): with the link down, both sides start a Child SA rekey
//! (then, separately, an IKE SA rekey); their requests are lost, and when the link comes back
//! the retransmissions cross. strongSwan must log that it saw both rekeys: as a collision in
//! CREATE_CHILD_SA, or, when our retransmission arrives after it sent its IKE_FOLLOWUP_KE, as a
//! late one it answers with TEMPORARY_FAILURE (which one depends on the retransmission timers).
//! However the collision resolves, each end must be left with one SA whose SPIs match the other
//! end's, carrying traffic.
//!
//! Needs root and the lab.

use std::process::Command;
use std::time::Duration;

use interop::{CONN, OurIkeSa, Pair, Role, Spec, WAIT, tcp_transfer};

const IKE: &str = "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768";
const PINGS: u32 = 200;

/// What to rekey and who starts it.
#[derive(Clone, Copy, Debug)]
enum Rekey {
    ChildByUs,
    ChildByPeer,
    IkeByUs,
    IkeByPeer,
}

impl Rekey {
    /// Interleaved, so each Child SA rekey runs on an IKE SA that was itself rekeyed.
    const ALL: [Self; 4] = [
        Self::ChildByUs,
        Self::IkeByUs,
        Self::ChildByPeer,
        Self::IkeByPeer,
    ];

    fn start(self, pair: &Pair) {
        match self {
            Self::ChildByUs => pair
                .iked
                .ikectl(&["rekey", CONN, "--child", CONN, "--timeout", "20"])
                .map(drop),
            Self::IkeByUs => pair
                .iked
                .ikectl(&["rekey", CONN, "--timeout", "20"])
                .map(drop),
            Self::ChildByPeer => pair.charon.rekey_child(CONN),
            Self::IkeByPeer => pair.charon.rekey_ike(CONN),
        }
        .unwrap_or_else(|e| panic!("{self:?}: {e}"));
    }
}

/// `ping -c PINGS -i 0.01` from our inner address, run while the rekey happens.
fn ping_command(pair: &Pair) -> Command {
    let (l, r) = (pair.lab.left(), pair.lab.right());
    let (src, dst, n) = (
        l.inner().to_string(),
        r.inner().to_string(),
        PINGS.to_string(),
    );
    l.command(&[
        "ping", "-n", "-q", "-I", &src, "-c", &n, "-i", "0.01", "-W", "2", &dst,
    ])
}

fn received(ping_output: &str) -> Option<(u32, u32)> {
    ping_output.lines().find_map(|l| {
        let (tx, rest) = l.split_once(" packets transmitted, ")?;
        Some((
            tx.trim().parse().ok()?,
            rest.split_whitespace().next()?.parse().ok()?,
        ))
    })
}

/// Our SA and its single Child SA once traffic shows on it (packets in beyond `floor`).
fn wait_traffic(pair: &Pair, floor: u64) -> OurIkeSa {
    pair.iked
        .wait_sas(WAIT, |s| match s {
            [sa] if sa.children.len() == 1 && sa.children[0].counters.packets_in > floor => {
                Some(sa.clone())
            }
            _ => None,
        })
        .expect("traffic through the tunnel")
}

fn rekey_under_traffic(pair: &Pair, rekey: Rekey, port: u16) {
    let before = wait_traffic(pair, 0);
    let peer_before = pair.peer_sa();
    let peer_child = peer_before
        .installed_children()
        .next()
        .cloned()
        .expect("child");
    let mark = pair.charon.log_mark();
    let (l, r) = (pair.lab.left(), pair.lab.right());
    std::thread::scope(|s| {
        let pings = s.spawn(|| interop::run(&mut ping_command(pair), Duration::from_secs(20)));
        let tcp = s.spawn(|| tcp_transfer(r, l, port, 1 << 20, Duration::from_secs(30)));
        // Rekey once the pings are visibly flowing.
        wait_traffic(pair, before.children[0].counters.packets_in + 20);
        rekey.start(pair);
        let (ours, peer) = wait_replaced(pair, rekey, &before, &peer_before, peer_child.unique_id);
        let out = pings.join().expect("ping thread").expect("ping");
        let text = String::from_utf8_lossy(&out.stdout);
        let (tx, rx) = received(&text).unwrap_or_else(|| panic!("{rekey:?}: ping: {text}"));
        assert_eq!(
            (tx, rx),
            (PINGS, PINGS),
            "{rekey:?}: pings lost during the rekey"
        );
        tcp.join()
            .expect("tcp thread")
            .unwrap_or_else(|e| panic!("{rekey:?}: TCP during the rekey: {e}"));
        let child = peer.installed_children().next().expect("child");
        assert_eq!(
            child.algorithms.key_exchanges(),
            ["CURVE_25519", "ML_KEM_768"],
            "{rekey:?}: strongSwan's Child SA after the rekey: {child:#?}"
        );
        assert_eq!(
            peer.proposal(),
            IKE,
            "{rekey:?}: strongSwan's IKE SA: {peer:#?}"
        );
        let after = pair.iked.list_sas().expect("list-sas");
        let new = after
            .iter()
            .find(|s| s.id == ours.id)
            .and_then(|s| s.children.first())
            .expect("our new Child SA");
        assert!(
            new.counters.packets_in > 0 && new.counters.packets_out > 0,
            "{rekey:?}: no traffic on the new Child SA: {new:#?}"
        );
    });
    let followup = pair
        .charon
        .wait_log(mark, "IKE_FOLLOWUP_KE", WAIT)
        .unwrap_or_else(|e| panic!("{rekey:?}: {e}"));
    interop::report(&format!("PASS {rekey:?}: {}", followup.trim()));
}

/// Waits until the rekeyed SA replaced the old one on both ends (the old one deleted).
fn wait_replaced(
    pair: &Pair,
    rekey: Rekey,
    before: &OurIkeSa,
    peer_before: &interop::IkeSa,
    peer_child_before: u32,
) -> (OurIkeSa, interop::IkeSa) {
    let old_child = before.children[0].inbound_spi.clone();
    let ike = matches!(rekey, Rekey::IkeByUs | Rekey::IkeByPeer);
    let ours = pair
        .iked
        .wait_sas(WAIT, |s| match s {
            [sa] if sa.children.len() == 1 => {
                let done = if ike {
                    sa.id != before.id
                } else {
                    sa.id == before.id && sa.children[0].inbound_spi != old_child
                };
                done.then(|| sa.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{rekey:?}: our side: {e}"));
    let peer = pair
        .wait_peer(|sa| {
            let replaced = if ike {
                sa.unique_id != peer_before.unique_id
            } else {
                sa.installed_children()
                    .any(|c| c.unique_id > peer_child_before)
            };
            // The old Child SA may stay listed (not installed) for strongSwan's
            // `delete_rekeyed_delay`.
            replaced && sa.installed_children().count() == 1
        })
        .unwrap_or_else(|e| panic!("{rekey:?}: strongSwan: {e}"));
    (ours, peer)
}

#[test]
fn rekeys_with_followup_ke_under_traffic() {
    let mut spec = Spec::new(
        "rekey",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16-x25519-ke1_mlkem768",
    );
    // No automatic rekeys in the way of the ones the test starts.
    spec.ours_conn = "rekey_time = \"0\"\n".into();
    spec.ours_child = "rekey_time = \"0\"\n".into();
    spec.peer_conn = "rekey_time = 0\n".into();
    spec.peer_child = "rekey_time = 0\n".into();
    let Some(pair) = Pair::start("rfc7296_rekey::rekeys_with_followup_ke_under_traffic", spec)
    else {
        return;
    };
    let mut port = 6100;
    for role in Role::BOTH {
        pair.establish(role);
        pair.check_traffic(64 * 1024);
        for rekey in Rekey::ALL {
            port += 1;
            rekey_under_traffic(&pair, rekey, port);
        }
        interop::report(&format!("PASS rekey ({})", role.label()));
        pair.down();
    }
}

/// Our single Child SA's SPIs equal strongSwan's, crosswise; returns them (ours in, ours out).
fn matching_spis(pair: &Pair) -> Option<(String, String)> {
    let ours = pair.iked.list_sas().ok()?;
    let [sa] = ours.as_slice() else { return None };
    let [child] = sa.children.as_slice() else {
        return None;
    };
    let peer = pair.charon.list_sas().ok()?;
    let [psa] = peer.as_slice() else { return None };
    // strongSwan lists a rekeyed Child SA until it removes its inbound SA
    // (`delete_rekeyed_delay`, 5 s): count the installed ones.
    let installed: Vec<_> = psa.installed_children().collect();
    let [pchild] = installed.as_slice() else {
        return None;
    };
    let same = |a: &str, b: &str| a.trim_start_matches("0x").eq_ignore_ascii_case(b);
    (pchild.state == "INSTALLED"
        && psa.state == "ESTABLISHED"
        && same(&child.inbound_spi, &pchild.spi_out)
        && same(&child.outbound_spi, &pchild.spi_in))
    .then(|| (child.inbound_spi.clone(), child.outbound_spi.clone()))
}

/// Sets strongSwan's end of the veth down or up: while it is down, both sides' requests are
/// lost and retransmitted, so two rekeys started then really cross on the wire.
fn link(pair: &Pair, up: bool) {
    let r = pair.lab.right();
    interop::run_ok(
        r.host_command("ip")
            .args(["link", "set", interop::VETH, if up { "up" } else { "down" }]),
        Duration::from_secs(5),
    )
    .expect("ip link set");
}

/// One round of simultaneous rekeys. Every round must converge (one SA each, SPIs matching,
/// traffic flowing); returns strongSwan's log line saying it saw both rekeys, or `None` when
/// the retransmissions did not cross (its rekey finished before ours reached it).
fn collide(pair: &Pair, ours: Rekey, peer: Rekey) -> Option<String> {
    let before = interop::wait_until(WAIT, || matching_spis(pair)).expect("matching SPIs before");
    let ike_before = pair.iked.list_sas().expect("list-sas")[0].id.clone();
    let sent = || {
        pair.iked
            .counter("engine", "datagrams_sent")
            .expect("stats")
    };
    let (mark, sent_before) = (pair.charon.log_mark(), sent());
    link(pair, false);
    std::thread::scope(|s| {
        let ours_done = s.spawn(|| ours.start(pair));
        peer.start(pair);
        // Both requests are out (and lost) before the link comes back.
        pair.charon
            .wait_log(mark, "generating CREATE_CHILD_SA request", WAIT)
            .expect("strongSwan's request");
        interop::wait_until(WAIT, || (sent() > sent_before).then_some(())).expect("our request");
        link(pair, true);
        ours_done.join().expect("our rekey");
    });
    // Both rekeys done (or one abandoned) and the losers deleted: one SA each, SPIs crosswise.
    // A Child SA rekey changes the Child SA's SPIs; an IKE SA rekey changes the IKE SA (both
    // ends then name the same one) and moves the Child SA over unchanged.
    let ike = matches!(ours, Rekey::IkeByUs);
    let after = interop::wait_until(WAIT, || {
        let spis = matching_spis(pair)?;
        if !ike {
            return (spis != before).then_some(spis);
        }
        let id = pair.iked.list_sas().ok()?.first()?.id.clone();
        let peer = pair.charon.list_sas().ok()?;
        let shared = peer.first()?.fields.values().any(|v| v.eq_ignore_ascii_case(&id));
        (id != ike_before && shared).then_some(spis)
    })
    .unwrap_or_else(|| {
        panic!(
            "{ours:?} against {peer:?}: no single, matching Child SA after the collision\nours: {:#?}\nstrongSwan:\n{}",
            pair.iked.list_sas(),
            pair.charon.list_sas_text().unwrap_or_default()
        )
    });
    // Whether it really was a collision, as strongSwan saw it. Its words depend on the stage
    // at which our request met its own: "detected rekey collision for CHILD_SA", "detected
    // IKE_REKEY collision", "colliding passive rekeying ... not yet complete", "rekey collision
    // lost, abort incomplete multi-KE rekeying" (6.1), or, answering with TEMPORARY_FAILURE
    // after it sent its IKE_FOLLOWUP_KE, "peer initiated rekeying, but we did too".
    let since = pair.charon.log().get(mark..).unwrap_or_default().to_owned();
    let seen = since
        .lines()
        .find(|l| l.contains("collision") || l.contains("but we did too"))
        .map(|l| l.trim().to_owned());
    pair.check_traffic(64 * 1024);
    interop::report(&format!(
        "{} {ours:?} / {peer:?}: Child SA {} / {}; strongSwan: {}",
        if seen.is_some() {
            "PASS collision"
        } else {
            "converged without a collision"
        },
        after.0,
        after.1,
        seen.as_deref()
            .unwrap_or("saw no collision (the retransmissions did not cross)")
    ));
    seen
}

/// Rounds of [`collide`] until strongSwan saw a collision: the retransmission timers decide
/// whether the requests cross, and on a loaded machine they sometimes do not.
const ROUNDS: usize = 4;

fn collide_until_seen(pair: &Pair, ours: Rekey, peer: Rekey) {
    let crossed = (0..ROUNDS).find_map(|_| collide(pair, ours, peer));
    assert!(
        crossed.is_some(),
        "{ours:?} against {peer:?}: in {ROUNDS} rounds strongSwan never saw the rekeys cross"
    );
}

#[test]
fn simultaneous_rekeys() {
    let mut spec = Spec::new(
        "collide",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16-x25519-ke1_mlkem768",
    );
    spec.ours_conn = "rekey_time = \"0\"\n".into();
    spec.ours_child = "rekey_time = \"0\"\n".into();
    spec.peer_conn = "rekey_time = 0\n".into();
    spec.peer_child = "rekey_time = 0\n".into();
    // strongSwan retransmits after 0.5 s like us (its default is 4 s).
    spec.peer_charon = "retransmit_timeout = 0.5\n".into();
    let Some(pair) = Pair::start("rfc7296_rekey::simultaneous_rekeys", spec) else {
        return;
    };
    for role in Role::BOTH {
        pair.establish(role);
        collide_until_seen(&pair, Rekey::ChildByUs, Rekey::ChildByPeer);
        collide_until_seen(&pair, Rekey::IkeByUs, Rekey::IkeByPeer);
        interop::report(&format!("PASS simultaneous rekeys ({})", role.label()));
        pair.down();
    }
}
