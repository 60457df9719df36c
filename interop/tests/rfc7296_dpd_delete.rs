//! RFC 7296 liveness checks (§2.4, dead peer detection) and DELETE (§1.4.1) against strongSwan 6.
//!
//! - DPD: a 1 s `dpd_delay` on one side at a time (the side whose timer fires first keeps the
//!   other quiet), each direction of bring-up: the empty INFORMATIONAL requests are answered by
//!   the other side (seen in strongSwan's log), and the SAs stay up.
//! - Dead peers: strongSwan detects a killed iked (no DELETE sent) by its DPD and clears the
//!   SA; iked detects a killed charon by its DPD and clears the SA after its retransmissions,
//!   here shortened in `[daemon]` to 0.5 s growing by 1.5, 3 retransmissions: it gives up
//!   after about 4.1 s (the defaults take 31.5 s).
//! - DELETE, each direction of bring-up: strongSwan deletes the Child SA (our IKE SA stays,
//!   without children), then the IKE SA (ours goes); and `ikectl down` deletes from our side
//!   (strongSwan logs the DELETE and drops its SAs).
//!
//! Needs root and the lab.

use std::time::Duration;

use interop::{CONN, Pair, Role, Spec, WAIT};

const PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const IKE: &str = "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768";

/// DPD every second on our side only (`iked = true`) or on strongSwan's only. Not both: a DPD
/// is sent only after `dpd_delay` without hearing from the peer, so the side whose timer fires
/// first keeps the other one quiet.
fn dpd_spec(tag: &str, iked: bool) -> Spec {
    let mut spec = Spec::new(tag, PROPOSAL, "aes256gcm16");
    if iked {
        spec.ours_conn = "dpd_delay = \"1s\"\n".into();
    } else {
        spec.peer_conn = "dpd_delay = 1s\n".into();
    }
    spec
}

/// Each direction of bring-up: the side with DPD sends empty INFORMATIONAL requests, the other
/// answers them (both seen in strongSwan's log), and the SAs stay up.
fn dpd_answered(test: &str, tag: &str, iked: bool) {
    let Some(pair) = Pair::start(test, dpd_spec(tag, iked)) else {
        return;
    };
    let lines = if iked {
        [
            "parsed INFORMATIONAL request",
            "generating INFORMATIONAL response",
        ]
    } else {
        [
            "generating INFORMATIONAL request",
            "parsed INFORMATIONAL response",
        ]
    };
    for role in Role::BOTH {
        let mark = pair.charon.log_mark();
        pair.one_direction(role, IKE, "AES_GCM_16-256", |p, role, ours, _| {
            let mut at = mark;
            for line in lines {
                let found = p
                    .charon
                    .wait_log(at, line, Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
                assert!(found.contains("[ ]"), "not an empty INFORMATIONAL: {found}");
                at = p.charon.log().find(&found).expect("the line just found");
            }
            let now = p.iked.list_sas().expect("list-sas");
            assert_eq!(now.len(), 1, "{now:#?}");
            assert_eq!(now[0].id, ours.id, "the same IKE SA stays up");
            assert_eq!(p.peer_sa().state, "ESTABLISHED");
        });
    }
}

#[test]
fn iked_dpd_answered_by_strongswan() {
    dpd_answered(
        "rfc7296_dpd_delete::iked_dpd_answered_by_strongswan",
        "dpdours",
        true,
    );
}

#[test]
fn strongswan_dpd_answered_by_iked() {
    dpd_answered(
        "rfc7296_dpd_delete::strongswan_dpd_answered_by_iked",
        "dpdpeer",
        false,
    );
}

#[test]
fn strongswan_detects_killed_iked() {
    let mut spec = dpd_spec("deadiked", false);
    spec.peer_child = "dpd_action = clear\n".into();
    // Fast retransmissions for charon (0.5 s, 0.7 s, then give up), so it finds the dead peer
    // in seconds.
    spec.peer_charon =
        "retransmit_tries = 2\nretransmit_timeout = 0.5\nretransmit_base = 1.4\n".into();
    let Some(mut pair) = Pair::start("rfc7296_dpd_delete::strongswan_detects_killed_iked", spec)
    else {
        return;
    };
    pair.establish(Role::OursInitiates);
    let mark = pair.charon.log_mark();
    pair.iked.kill();
    pair.charon
        .wait_log(mark, "giving up after", Duration::from_secs(60))
        .expect("strongSwan gave up on the dead peer");
    pair.wait_peer_empty();
}

#[test]
fn iked_detects_killed_strongswan() {
    let mut spec = dpd_spec("deadss", true);
    spec.ours_daemon =
        "retransmit_timeout = 0.5\nretransmit_tries = 3\nretransmit_base = 1.5\n".into();
    let Some(pair) = Pair::start("rfc7296_dpd_delete::iked_detects_killed_strongswan", spec) else {
        return;
    };
    pair.establish(Role::PeerInitiates);
    let mark = pair.iked.log_mark();
    interop::run_ok(
        std::process::Command::new("sh").args([
            "-c",
            "kill -KILL \"$0\"",
            &pair.charon.pid().to_string(),
        ]),
        Duration::from_secs(5),
    )
    .expect("kill charon");
    let killed = std::time::Instant::now();
    pair.iked
        .wait_sas(Duration::from_secs(60), |s| s.is_empty().then_some(()))
        .expect("iked cleared the SA of the dead peer");
    // DPD after 1 s of silence, then 4.1 s of retransmissions: well under the default 31.5 s.
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "the [daemon] retransmission settings were not applied: {took:?}"
    );
    let line = pair
        .iked
        .wait_log(mark, &["IKE SA"], Duration::from_secs(5))
        .expect("a log line");
    interop::report(&format!(
        "iked on the dead peer after {took:.1?}: {}",
        line.trim()
    ));
}

#[test]
fn delete_from_each_side() {
    let Some(pair) = Pair::start(
        "rfc7296_dpd_delete::delete_from_each_side",
        Spec::new("delete", PROPOSAL, "aes256gcm16"),
    ) else {
        return;
    };
    for role in Role::BOTH {
        // strongSwan deletes the Child SA, then the IKE SA.
        let (ours, _) = pair.establish(role);
        let t = WAIT.as_secs().to_string();
        pair.charon
            .swanctl(&["--terminate", "--child", CONN, "--timeout", &t])
            .expect("swanctl --terminate --child");
        let left = pair
            .iked
            .wait_sas(WAIT, |s| match s {
                [sa] if sa.children.is_empty() => Some(sa.clone()),
                _ => None,
            })
            .unwrap_or_else(|e| panic!("{}: Child SA DELETE: {e}", role.label()));
        assert_eq!(left.id, ours.id, "the IKE SA stays");
        pair.charon
            .terminate_ike(CONN)
            .expect("swanctl --terminate --ike");
        pair.iked
            .wait_sas(WAIT, |s| s.is_empty().then_some(()))
            .unwrap_or_else(|e| panic!("{}: IKE SA DELETE: {e}", role.label()));

        // We delete the IKE SA (`ikectl down`).
        pair.establish(role);
        let mark = pair.charon.log_mark();
        pair.down();
        pair.charon
            .wait_log(mark, "received DELETE for IKE_SA", WAIT)
            .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
        interop::report(&format!("PASS delete ({})", role.label()));
    }
}
