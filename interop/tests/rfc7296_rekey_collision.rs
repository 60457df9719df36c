//! RFC 7296 §2.8.2 simultaneous IKE SA rekeys against strongSwan 6, with RFC 9370
//! IKE_FOLLOWUP_KE (IKE `aes256gcm16-prfsha384-x25519-ke1_mlkem768`).
//!
//! The requests must really cross: strongSwan's egress gets a slow token bucket (`tc tbf`; the
//! lab kernel has no netem) whose queue is first filled with a few large pings, so that
//! strongSwan's request (`swanctl --rekey --ike net`) waits in that queue while ours (`ikectl
//! rekey net`) reaches strongSwan at once; strongSwan's answer to ours queues behind its own
//! request, so each side receives the other's request while its own is outstanding (with
//! only dropped packets, retransmissions cross only by luck). Both must notice the collision: strongSwan logs `detected IKE_REKEY collision` and must not need to
//! give way for us (its `peer may not have noticed IKE_SA rekey collision`, which it logged when
//! we refused its request with TEMPORARY_FAILURE). Afterwards each end holds exactly one IKE SA,
//! the same one (strongSwan lists our SPI), with the Child SA on it, and traffic flows. Several
//! rounds per bring-up direction, so that usually each side wins once (the winner is the side
//! whose rekey did not have the lowest nonce; reported, not asserted, since nonces are random).
//!
//! Needs root and the lab.

use std::time::Duration;

use interop::{CONN, Pair, Role, Spec, WAIT};

const ROUNDS: usize = 3;

/// Puts a slow token bucket on strongSwan's egress (or removes it).
fn slow_peer_egress(pair: &Pair, on: bool) {
    let r = pair.lab.right();
    let mut tc = r.host_command("tc");
    if on {
        tc.args(["qdisc", "replace", "dev", interop::VETH, "root", "tbf"])
            .args(["rate", "32kbit", "burst", "1600", "latency", "20s"]);
    } else {
        tc.args(["qdisc", "del", "dev", interop::VETH, "root"]);
    }
    interop::run_ok(&mut tc, Duration::from_secs(5)).expect("tc qdisc");
}

/// Fills strongSwan's egress queue with large pings towards us: the socket keeps about four
/// in flight, about 1.4 s at the bucket's rate.
fn fill_peer_queue(pair: &Pair) -> std::process::Child {
    let to = pair.lab.left().outer().to_string();
    pair.lab
        .right()
        .host_command("ping")
        .args(["-q", "-l", "4", "-c", "4", "-s", "1400", "-w", "15", &to])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ping")
}

/// Packets waiting in strongSwan's egress queue.
fn peer_backlog(pair: &Pair) -> u32 {
    let out = pair
        .lab
        .right()
        .host_command("tc")
        .args(["-s", "qdisc", "show", "dev", interop::VETH])
        .output()
        .expect("tc -s qdisc show");
    let text = String::from_utf8_lossy(&out.stdout);
    // "backlog 14280b 10p requeues 0"
    text.split_whitespace()
        .skip_while(|w| *w != "backlog")
        .nth(2)
        .and_then(|p| p.strip_suffix('p')?.parse().ok())
        .unwrap_or(0)
}

/// Our one IKE SA's id when strongSwan also has exactly one, lists our SPI, and both hold one
/// installed Child SA.
fn one_shared_ike_sa(pair: &Pair) -> Option<String> {
    let ours = pair.iked.list_sas().ok()?;
    let [sa] = ours.as_slice() else { return None };
    let peer = pair.charon.list_sas().ok()?;
    let [psa] = peer.as_slice() else { return None };
    let shared = psa.fields.values().any(|v| v.eq_ignore_ascii_case(&sa.id));
    let installed = psa.installed_children().count();
    (sa.state == "established"
        && psa.state == "ESTABLISHED"
        && shared
        && sa.children.len() == 1
        && installed == 1)
        .then(|| sa.id.clone())
}

/// One simultaneous IKE SA rekey; returns whether our new IKE SA survived.
fn collide(pair: &Pair) -> bool {
    let before = interop::wait_until(WAIT, || one_shared_ike_sa(pair)).expect("one IKE SA");
    let (mark, ours_mark) = (pair.charon.log_mark(), pair.iked.log_mark());
    slow_peer_egress(pair, true);
    let mut ping = fill_peer_queue(pair);
    if interop::wait_until(WAIT, || (peer_backlog(pair) >= 3).then_some(())).is_none() {
        let tc = pair
            .lab
            .right()
            .host_command("tc")
            .args(["-s", "qdisc", "show"])
            .output();
        panic!(
            "strongSwan's egress queue did not fill: {tc:?} ping: {:?}",
            ping.try_wait()
        );
    }
    pair.charon.rekey_ike(CONN).expect("swanctl --rekey --ike");
    pair.charon
        .wait_log(mark, "generating CREATE_CHILD_SA request", WAIT)
        .expect("strongSwan's request");
    let rekeyed = pair.iked.ikectl(&["rekey", CONN, "--timeout", "30"]);
    slow_peer_egress(pair, false);
    let _ = ping.wait();
    rekeyed.expect("ikectl rekey");
    let after = interop::wait_until(WAIT, || one_shared_ike_sa(pair).filter(|id| *id != before))
        .unwrap_or_else(|| {
            panic!(
                "no single shared IKE SA after the collision\nours: {:#?}\nstrongSwan:\n{}",
                pair.iked.list_sas(),
                pair.charon.list_sas_text().unwrap_or_default()
            )
        });
    pair.charon
        .wait_log(mark, "detected IKE_REKEY collision", WAIT)
        .expect("strongSwan saw the collision");
    // Our engine's first line on it says who won.
    let ours_won = pair
        .iked
        .wait_log(ours_mark, &["IKE SA rekey collision"], WAIT)
        .expect("we saw the collision")
        .contains("keeping ours");
    let peer_log = pair.charon.log();
    let since = peer_log.get(mark..).unwrap_or_default();
    assert!(
        !since.contains("peer may not have noticed IKE_SA rekey collision"),
        "strongSwan had to give way:\n{since}"
    );
    let peer_said: Vec<&str> = since
        .lines()
        .filter(|l| l.contains("collision") && !l.contains("detected"))
        .collect();
    interop::report(&format!("strongSwan: {peer_said:#?}"));
    pair.check_traffic(64 * 1024);
    interop::report(&format!(
        "PASS IKE rekey collision: IKE SA {before} -> {after}, surviving new SA created by {}",
        if ours_won { "us" } else { "strongSwan" }
    ));
    ours_won
}

#[test]
fn simultaneous_ike_rekeys_both_notice() {
    let mut spec = Spec::new(
        "ikecoll",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16-x25519-ke1_mlkem768",
    );
    spec.ours_conn = "rekey_time = \"0\"\n".into();
    spec.ours_child = "rekey_time = \"0\"\n".into();
    spec.peer_conn = "rekey_time = 0\n".into();
    spec.peer_child = "rekey_time = 0\n".into();
    // strongSwan retransmits after 0.5 s like us (its default is 4 s).
    spec.peer_charon = "retransmit_timeout = 0.5\n".into();
    let Some(pair) = Pair::start(
        "rfc7296_rekey_collision::simultaneous_ike_rekeys_both_notice",
        spec,
    ) else {
        return;
    };
    let mut outcomes = Vec::new();
    for role in Role::BOTH {
        pair.establish(role);
        for _ in 0..ROUNDS {
            outcomes.push(collide(&pair));
        }
        pair.down();
    }
    interop::report(&format!(
        "IKE rekey collisions: our new SA survived {} of {}",
        outcomes.iter().filter(|w| **w).count(),
        outcomes.len()
    ));
}
