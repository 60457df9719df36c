//! RFC 7296 failures against strongSwan 6, each direction: a proposal mismatch must end in
//! NO_PROPOSAL_CHOSEN (§3.10.1, in the IKE_SA_INIT response) and a wrong PSK in
//! AUTHENTICATION_FAILED (§2.21.2), with no SA left on either side and a log line on our side
//! that says why:
//!
//! - as initiator, `IKE SA failed ... error=peer sent NO_PROPOSAL_CHOSEN` /
//!   `... AUTHENTICATION_FAILED` (info);
//! - as responder, `IKE_AUTH failed from PEER (connection net): authentication failed:
//!   initiator AUTH does not verify` (warn) for the PSK, and for the proposal `IKE_SA_INIT
//!   rejected from PEER (connection net): NO_PROPOSAL_CHOSEN: offered ...; configured ...`
//!   (warn, rate-limited), both with the default `log = "info"`; the engine counts them
//!   (`init_no_proposal_chosen`, `auth_failed` in `ikectl stats`).
//!
//! Needs root and the lab.

use std::time::Duration;

use interop::{Auth, PSK, Pair, Role, Spec};

const LOG_WAIT: Duration = Duration::from_secs(10);

/// Runs the failing bring-up with `role` initiating and checks both sides' logs.
fn fails(pair: &Pair, role: Role, our_line: &[&str], peer_line: &str) {
    let (mark_ours, mark_peer) = (pair.iked.log_mark(), pair.charon.log_mark());
    let result = pair.initiate(role);
    assert!(result.is_err(), "{}: bring-up succeeded", role.label());
    let ours = pair
        .iked
        .wait_log(mark_ours, our_line, LOG_WAIT)
        .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
    let peer = pair
        .charon
        .wait_log(mark_peer, peer_line, LOG_WAIT)
        .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
    interop::report(&format!(
        "{} / {}:\n  iked:       {}\n  strongSwan: {}",
        pair.spec.tag,
        role.label(),
        ours.trim(),
        peer.trim()
    ));
    pair.iked
        .wait_sas(interop::WAIT, |s| s.is_empty().then_some(()))
        .expect("no IKE SA left on our side");
    pair.wait_peer_empty();
}

#[test]
fn proposal_mismatch_no_proposal_chosen() {
    let mut spec = Spec::new("noprop", "aes256gcm16-prfsha384-x25519", "aes256gcm16");
    spec.peer_ike = "aes128gcm16-prfsha256-ecp256".into();
    let Some(pair) = Pair::start(
        "rfc7296_failures::proposal_mismatch_no_proposal_chosen",
        spec,
    ) else {
        return;
    };
    // Ours initiates: strongSwan answers IKE_SA_INIT with N(NO_PROP).
    fails(
        &pair,
        Role::OursInitiates,
        &["IKE SA failed", "peer sent NO_PROPOSAL_CHOSEN"],
        "N(NO_PROP)",
    );
    // strongSwan initiates: we answer with NO_PROPOSAL_CHOSEN, strongSwan reports it.
    fails(
        &pair,
        Role::PeerInitiates,
        &[
            "IKE_SA_INIT rejected",
            "(connection net)",
            "NO_PROPOSAL_CHOSEN: offered aes128gcm16-prfsha256-ecp256",
            "configured net: aes256gcm16-prfsha384-x25519",
        ],
        "received NO_PROPOSAL_CHOSEN notify error",
    );
}

#[test]
fn wrong_psk_authentication_failed() {
    let mut spec = Spec::new(
        "badpsk",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    spec.auth = Auth::Psk {
        ours: PSK.into(),
        peer: format!("{PSK}-but-different"),
    };
    let Some(pair) = Pair::start("rfc7296_failures::wrong_psk_authentication_failed", spec) else {
        return;
    };
    // Ours initiates: strongSwan cannot verify our AUTH and answers N(AUTH_FAILED).
    fails(
        &pair,
        Role::OursInitiates,
        &["IKE SA failed", "peer sent AUTHENTICATION_FAILED"],
        "N(AUTH_FAILED)",
    );
    // strongSwan initiates: we cannot verify its AUTH and answer AUTHENTICATION_FAILED.
    fails(
        &pair,
        Role::PeerInitiates,
        &[
            "IKE_AUTH failed",
            "(connection net)",
            "initiator AUTH does not verify",
        ],
        "received AUTHENTICATION_FAILED notify error",
    );
}
