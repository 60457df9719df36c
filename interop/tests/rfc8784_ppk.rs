//! RFC 8784 (post-quantum preshared keys in IKEv2) against strongSwan 6, each direction, with
//! X25519 + ML-KEM-768:
//!
//! - PPK required on both sides, same PPK_ID and key: the IKE SA uses it (our `ppk_used`, and
//!   strongSwan's log "using PPK for PPK_ID"); traffic flows, so both derived the same keys.
//! - PPK optional on our side, the peer without our PPK (RFC 8784 §3 fallback), one test per
//!   direction: our initiator sends PPK_ID + NO_PPK_AUTH, strongSwan (a PPK of its own, so it
//!   answers USE_PPK, but not ours) verifies NO_PPK_AUTH; strongSwan's initiator sends its own
//!   PPK_ID + NO_PPK_AUTH and our responder, without that PPK, answers without one. Both end up
//!   established without PPK, traffic flowing.
//!
//! strongSwan behaviour worth knowing: a `ppk_id` on a strongSwan connection makes it refuse
//! (AUTHENTICATION_FAILED) any other PPK_ID even with `ppk_required = no`, and as responder it
//! answers USE_PPK only if it holds at least one PPK.
//!
//! Needs root and the lab.

use interop::{Pair, Ppk, Role, Spec};

const PPK_ID: &str = "iked-strongswan-ppk";
const PPK_HEX: &str = "5f3a91c4e27b08d6a1c94e3b72f0d85a69e14b3c07d2f8a5b6e91c04d3a7f26b";

fn ppk(required: bool) -> Ppk {
    Ppk {
        id: PPK_ID.into(),
        hex: PPK_HEX.into(),
        required,
    }
}

#[test]
fn ppk_required_both_sides() {
    let mut spec = Spec::new(
        "ppkreq",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    spec.ppk = (Some(ppk(true)), Some(ppk(true)));
    let Some(pair) = Pair::start("rfc8784_ppk::ppk_required_both_sides", spec) else {
        return;
    };
    let mark = std::cell::Cell::new(pair.charon.log_mark());
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |p, role, ours, _| {
            assert!(
                ours.ppk_used,
                "{}: our IKE SA without PPK: {ours:#?}",
                role.label()
            );
            p.charon
                .wait_log(mark.get(), "using PPK for PPK_ID", interop::WAIT)
                .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
            let text = p.charon.list_sas_text().expect("list-sas");
            assert!(
                text.contains("KE1_ML_KEM_768/PPK"),
                "strongSwan's IKE SA without PPK:\n{text}"
            );
            mark.set(p.charon.log_mark());
        },
    );
}

/// strongSwan's own PPK (a different PPK_ID from ours), optional.
const PEER_PPK_ID: &str = "strongswan-only-ppk";

#[test]
fn ppk_optional_peer_without_ppk_no_ppk_auth_iked_initiates() {
    let mut spec = Spec::new(
        "ppkopti",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    // strongSwan has a PPK, so it answers USE_PPK, but not ours; and no `ppk_id` on its
    // connection (with one, it refuses any other PPK_ID, required or not).
    spec.ppk = (Some(ppk(false)), None);
    spec.peer_secrets = format!("ppk-other {{\nid = {PEER_PPK_ID}\nsecret = 0x{PPK_HEX}\n}}\n");
    let Some(pair) = Pair::start(
        "rfc8784_ppk::ppk_optional_peer_without_ppk_no_ppk_auth_iked_initiates",
        spec,
    ) else {
        return;
    };
    let mark = pair.charon.log_mark();
    pair.one_direction(
        Role::OursInitiates,
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |p, _, ours, _| {
            assert!(!ours.ppk_used, "{ours:#?}");
            // We sent PPK_ID and NO_PPK_AUTH; strongSwan lacks the PPK and verified NO_PPK_AUTH.
            p.charon
                .wait_log(mark, "N(PPK_ID) N(NO_PPK)", interop::WAIT)
                .expect("IKE_AUTH with PPK_ID and NO_PPK_AUTH");
            let line = p
                .charon
                .wait_log(mark, &format!("no PPK for '{PPK_ID}' found"), interop::WAIT)
                .expect("strongSwan without our PPK");
            interop::report(&format!("strongSwan: {}", line.trim()));
        },
    );
}

#[test]
fn ppk_optional_peer_without_ppk_no_ppk_auth_strongswan_initiates() {
    let mut spec = Spec::new(
        "ppkoptr",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    // strongSwan initiates with its own PPK (optional, so it adds NO_PPK_AUTH); we have a PPK
    // too, but not that one.
    let mut theirs = ppk(false);
    theirs.id = PEER_PPK_ID.into();
    spec.ppk = (Some(ppk(false)), Some(theirs));
    let Some(pair) = Pair::start(
        "rfc8784_ppk::ppk_optional_peer_without_ppk_no_ppk_auth_strongswan_initiates",
        spec,
    ) else {
        return;
    };
    let mark = pair.charon.log_mark();
    pair.one_direction(
        Role::PeerInitiates,
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |p, _, ours, _| {
            assert!(!ours.ppk_used, "{ours:#?}");
            p.charon
                .wait_log(mark, "N(NO_PPK) N(PPK_ID)", interop::WAIT)
                .expect("strongSwan sent PPK_ID and NO_PPK_AUTH");
            // We lacked its PPK and answered with the AUTH computed without one.
            p.charon
                .wait_log(mark, "peer didn't use PPK for PPK_ID", interop::WAIT)
                .expect("strongSwan saw the fallback");
        },
    );
}
