//! RFC 7296 with PSK authentication (§2.15) against strongSwan 6: X25519 in IKE_SA_INIT,
//! AES-256-GCM for IKE and ESP, with our daemon as initiator and as responder.
//!
//! Each direction: both ends show the negotiated algorithms (strongSwan's `swanctl --list-sas`
//! is asserted), ping and a checked TCP transfer cross the tunnel both ways, and `ikectl down`
//! closes it on both ends. Needs root and the lab (`sudo scripts/tests/60-interop.sh`).

use interop::{Pair, Spec};

#[test]
fn x25519_psk_aes256gcm() {
    let spec = Spec::new("psk", "aes256gcm16-prfsha256-x25519", "aes256gcm16");
    let Some(pair) = Pair::start("rfc7296_psk::x25519_psk_aes256gcm", spec) else {
        return;
    };
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519",
        "AES_GCM_16-256",
        |p, _, ours, _| {
            // Our counters saw the traffic too (inner bytes, both directions).
            let c = &ours.children[0].counters;
            let now = &p.iked.list_sas().expect("list-sas")[0].children[0].counters;
            assert!(
                now.bytes_in > c.bytes_in && now.bytes_out > c.bytes_out,
                "{now:?}"
            );
        },
    );
}

/// §1.2/§3.10.1 INVALID_KE_PAYLOAD: the initiator's KE payload guesses a group the responder
/// does not take, the responder names the one it wants, and the initiator starts again with it.
/// The only group both take is X25519, and neither guesses it first: strongSwan's initiator
/// sends ECP-256 (we take ECP-384 or X25519), ours sends ECP-384 (strongSwan takes ECP-256 or
/// X25519). strongSwan's log must show the INVALID_KE_PAYLOAD notify in each direction.
#[test]
fn invalid_ke_payload_retry() {
    let mut spec = Spec::new("invalidke", "aes256gcm16-prfsha256-x25519", "aes256gcm16");
    spec.ours_ike = "aes256gcm16-prfsha256-ecp384-x25519".into();
    spec.peer_ike = "aes256gcm16-prfsha256-ecp256-x25519".into();
    spec.ours_negotiated = Some("aes256gcm16-prfsha256-x25519".into());
    let Some(pair) = Pair::start("rfc7296_psk::invalid_ke_payload_retry", spec) else {
        return;
    };
    for role in interop::Role::BOTH {
        let mark = pair.charon.log_mark();
        pair.one_direction(
            role,
            "AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519",
            "AES_GCM_16-256",
            |p, role, _, _| {
                let line = p
                    .charon
                    .wait_log(mark, "N(INVAL_KE)", interop::WAIT)
                    .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
                interop::report(&format!("{}: {}", role.label(), line.trim()));
            },
        );
    }
}
