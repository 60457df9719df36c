//! EAP in IKE_AUTH (RFC 7296 §2.16) between two in-memory endpoints, with the EAP method
//! (`sim::eap`) run by the test as a driver would: events out, `Endpoint::eap_respond` in,
//! never blocking.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::{AuthConfig, CertificateAuth, Error, Event};
use sim::certs::{ca_and_leaf, cert_auth};
use sim::eap::{EapMethod, PSK, eap_over_psk, hmac, msk};
use sim::{Scenario, default_provider};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

#[test]
fn eap_with_msk_establishes_the_ike_sa_and_child() {
    let mut pair = Scenario::eap(IKE).start();
    let rounds = EapMethod::password(b"secret").run(&mut pair);
    pair.assert_up();
    // Identity, challenge, success.
    assert_eq!(rounds, 3);
}

#[test]
fn eap_method_without_msk_uses_sk_pi_and_sk_pr() {
    let mut pair = Scenario::eap(IKE).start();
    EapMethod::password(b"secret").without_msk().run(&mut pair);
    pair.assert_up();
}

#[test]
fn eap_after_intermediate_exchange_uses_the_first_ike_auth_intauth() {
    let mut pair = Scenario::eap(HYBRID).start();
    EapMethod::password(b"secret").run(&mut pair);
    pair.assert_up();
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 1);
}

#[test]
fn slow_eap_method_survives_initiator_retransmissions() {
    let mut pair = Scenario::eap(IKE).start();
    EapMethod::password(b"secret")
        .think(Duration::from_secs(3))
        .run(&mut pair);
    pair.assert_up();
    assert!(
        pair.a.stats().retransmits > 0,
        "the test should exercise retransmission"
    );
}

#[test]
fn wrong_password_fails_with_authentication_failed() {
    let mut pair = Scenario::eap(IKE).start();
    EapMethod::password(b"secret")
        .peer_password(b"guess")
        .run(&mut pair);
    assert_eq!(
        pair.b_error(),
        Some(&Error::AuthenticationFailed(
            "EAP authentication of the initiator failed"
        ))
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::AuthenticationFailed("responder sent EAP-Failure"))
    );
    assert!(pair.a_established().is_none() && pair.b_established().is_none());
}

#[test]
fn different_msk_fails_the_final_auth() {
    let mut pair = Scenario::eap(IKE).start();
    // The peer's method says it has no MSK while the server has one: the AUTH keys differ.
    EapMethod::password(b"secret")
        .peer_without_msk()
        .run(&mut pair);
    assert_eq!(
        pair.b_error(),
        Some(&Error::AuthenticationFailed(
            "initiator AUTH from the EAP MSK does not verify"
        ))
    );
    assert!(pair.a_error().is_some());
    assert!(pair.a_established().is_none() && pair.b_established().is_none());
}

#[test]
fn responder_without_eap_rejects_an_eap_initiator() {
    let mut pair = Scenario::psk(PSK, IKE, "aes256gcm16")
        .initiator_auth(eap_over_psk())
        .start();
    EapMethod::password(b"secret").run(&mut pair);
    assert_eq!(
        pair.b_error(),
        Some(&Error::AuthenticationFailed(
            "initiator sent no AUTH (EAP), which this connection does not allow"
        ))
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(
            ikev2::wire::NotifyType::AUTHENTICATION_FAILED
        ))
    );
}

#[test]
fn eap_responder_still_accepts_psk_initiators() {
    let mut pair = Scenario::psk(PSK, IKE, "aes256gcm16")
        .responder_auth(eap_over_psk())
        .start();
    let rounds = EapMethod::password(b"secret").run(&mut pair);
    pair.assert_up();
    assert_eq!(rounds, 0);
}

#[test]
fn eap_responder_authenticates_with_a_certificate() {
    let (ca, leaf) = ca_and_leaf(&rcgen::PKCS_ECDSA_P256_SHA256, "responder.example");
    let trust = CertificateAuth::verify_only(&[ca]).expect("ca");
    let own = cert_auth(default_provider(), &leaf, &[], &[]);
    let unix = u64::try_from(rcgen::date_time_ymd(2030, 1, 1).unix_timestamp()).expect("time");
    let mut pair = Scenario::psk(PSK, IKE, "aes256gcm16")
        .initiator_auth(AuthConfig::Eap(Box::new(AuthConfig::Certificate(trust))))
        .responder_auth(AuthConfig::Eap(Box::new(own)))
        .unix_time(unix)
        .start();
    EapMethod::password(b"secret").run(&mut pair);
    pair.assert_up();
}

/// Every log line of a whole EAP exchange, at TRACE level and with every field, is captured:
/// no EAP packet (identity, challenge, response) nor the MSK appears in it, in any of the
/// forms a log could take (hex, Debug bytes, text).
#[test]
fn eap_payloads_never_appear_in_the_log() {
    let log = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    let mut method = EapMethod::password(b"secret");
    let mut pair = Scenario::eap(IKE).start();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("capture check");
        method.run(&mut pair);
    });
    pair.assert_up();
    let text = log.text();
    assert!(text.contains("capture check"), "the capture works");
    let packets: Vec<Vec<u8>> = pair
        .a_events
        .iter()
        .chain(&pair.b_events)
        .filter_map(|e| match e {
            Event::EapMessage { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert!(packets.len() >= 3, "the exchange carried EAP packets");
    let challenge = method.server.challenge.to_vec();
    let response = hmac(b"secret", &[&challenge]);
    let key = msk(b"secret", &challenge).expose().to_vec();
    // Whole packets and their type data (EAP-Success has none; too short to look for).
    let secrets = packets
        .iter()
        .flat_map(|p| [p.clone(), p[4..].to_vec()])
        .chain([challenge.clone(), response, key, b"alice".to_vec()])
        .filter(|s| s.len() >= 5);
    for s in secrets {
        for form in [
            hex::encode(&s),
            hex::encode_upper(&s),
            format!("{s:?}"),
            String::from_utf8_lossy(&s).into_owned(),
        ] {
            assert!(!text.contains(&form), "{form} is in the log:\n{text}");
        }
    }
}

/// A `tracing` writer into memory.
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
