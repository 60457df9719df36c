//! EAP in IKE_AUTH (RFC 7296 §2.16) between two in-memory endpoints, with the EAP method run
//! by the test as a driver would: events out, `Endpoint::eap_respond` in, never blocking.
//!
//! The method is a test-only challenge-response (EAP type 255, "Experimental", RFC 3748 §5.8)
//! after an EAP-Identity round: Response = HMAC-SHA-256(password, challenge); MSK = 64 octets
//! of HMAC-SHA-256(password, "msk" | n | challenge).

mod sim;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{
    AuthConfig, CertificateAuth, ConnectionConfig, EapStep, EndpointConfig, Error, Event, SaId,
};
use ipsec_crypto::{CryptoProvider, PrfAlgorithm, SecretBytes};
use sim::{Pair, conn, default_provider, responder};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const PSK: &[u8] = b"responder pre-shared key, long enough";
const TYPE_IDENTITY: u8 = 1;
const TYPE_TEST: u8 = 255;

/// The EAP server side of the test method, as the responder's driver runs it.
struct Server {
    password: &'static [u8],
    with_msk: bool,
    challenge: [u8; 16],
    identity: Option<Vec<u8>>,
}

/// The EAP peer side, as the initiator's driver runs it.
struct Peer {
    identity: &'static [u8],
    password: &'static [u8],
    with_msk: bool,
    challenge: Vec<u8>,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let prf = default_provider()
        .prf(PrfAlgorithm::HmacSha256)
        .expect("prf");
    let mut out = vec![0; prf.output_len()];
    prf.key(key).compute(parts, &mut out);
    out
}

fn msk(password: &[u8], challenge: &[u8]) -> SecretBytes {
    let mut m = hmac(password, &[b"msk", &[1], challenge]);
    m.extend(hmac(password, &[b"msk", &[2], challenge]));
    SecretBytes::new(m)
}

fn packet(code: u8, id: u8, typ: u8, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(5 + data.len()).expect("short");
    let mut p = vec![code, id];
    p.extend_from_slice(&len.to_be_bytes());
    p.push(typ);
    p.extend_from_slice(data);
    p
}

impl Server {
    fn new(password: &'static [u8], with_msk: bool) -> Self {
        Self {
            password,
            with_msk,
            challenge: *b"0123456789abcdef",
            identity: None,
        }
    }

    fn start(&mut self) -> EapStep {
        EapStep::Message(packet(1, 1, TYPE_IDENTITY, &[]))
    }

    fn on_response(&mut self, m: &[u8]) -> EapStep {
        match m.get(4) {
            Some(&TYPE_IDENTITY) => {
                self.identity = Some(m[5..].to_vec());
                EapStep::Message(packet(1, 2, TYPE_TEST, &self.challenge))
            }
            Some(&TYPE_TEST) if m[5..] == hmac(self.password, &[&self.challenge])[..] => {
                EapStep::Success {
                    msk: self.with_msk.then(|| msk(self.password, &self.challenge)),
                }
            }
            _ => EapStep::Failure,
        }
    }
}

impl Peer {
    fn new(password: &'static [u8], with_msk: bool) -> Self {
        Self {
            identity: b"alice",
            password,
            with_msk,
            challenge: Vec::new(),
        }
    }

    fn on_request(&mut self, m: &[u8]) -> EapStep {
        match (m[0], m.get(4)) {
            (1, Some(&TYPE_IDENTITY)) => {
                EapStep::Message(packet(2, m[1], TYPE_IDENTITY, self.identity))
            }
            (1, Some(&TYPE_TEST)) => {
                self.challenge = m[5..].to_vec();
                EapStep::Message(packet(
                    2,
                    m[1],
                    TYPE_TEST,
                    &hmac(self.password, &[&self.challenge]),
                ))
            }
            (3, _) => EapStep::Success {
                msk: self.with_msk.then(|| msk(self.password, &self.challenge)),
            },
            _ => EapStep::Failure,
        }
    }
}

/// Runs the pair in small time slices, answering EAP events after `think` (the time a real
/// method or AAA server would take), until both sides are up or one failed.
fn run(pair: &mut Pair, server: &mut Server, peer: &mut Peer, think: Duration) -> usize {
    let (mut seen_a, mut seen_b, mut rounds) = (0, 0, 0);
    let mut due: Vec<(Instant, bool, SaId, EapStep)> = Vec::new();
    for _ in 0..20_000 {
        pair.run_until(pair.now + Duration::from_millis(10));
        for e in &pair.b_events[seen_b..] {
            match e {
                Event::EapStarted { sa, peer_id } => {
                    assert_eq!(peer_id.0.data, b"initiator.example");
                    due.push((pair.now + think, false, *sa, server.start()));
                }
                Event::EapMessage { sa, message } => {
                    due.push((pair.now + think, false, *sa, server.on_response(message)))
                }
                _ => {}
            }
        }
        for e in &pair.a_events[seen_a..] {
            if let Event::EapMessage { sa, message } = e {
                rounds += 1;
                due.push((pair.now + think, true, *sa, peer.on_request(message)));
            }
        }
        (seen_a, seen_b) = (pair.a_events.len(), pair.b_events.len());
        let now = pair.now;
        for (_, to_a, sa, step) in due.extract_if(.., |d| d.0 <= now) {
            if to_a {
                pair.a.eap_respond(now, sa, step);
            } else {
                pair.b.eap_respond(now, sa, step);
            }
        }
        let done = |up: bool, err: bool| up || err;
        if done(pair.a_established().is_some(), pair.a_error().is_some())
            && done(pair.b_established().is_some(), pair.b_error().is_some())
            && due.is_empty()
        {
            break;
        }
    }
    pair.drive(100);
    rounds
}

/// Initiator with EAP (verifying a PSK responder), responder with EAP over PSK.
fn psk_pair(ike: &str) -> Pair {
    let mut a = conn("initiator", PSK, ike, "aes256gcm16");
    a.auth = AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))));
    let mut b = conn("responder", PSK, ike, "aes256gcm16");
    b.auth = AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))));
    start(a, b, default_provider())
}

fn start(a: ConnectionConfig, b: ConnectionConfig, p: &'static dyn CryptoProvider) -> Pair {
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(b), p);
    pair.connect(Arc::new(a));
    pair
}

fn assert_up(pair: &Pair) {
    assert!(
        pair.a_error().is_none(),
        "initiator failed: {:?}",
        pair.a_error()
    );
    assert!(
        pair.b_error().is_none(),
        "responder failed: {:?}",
        pair.b_error()
    );
    assert!(pair.a_established().is_some() && pair.b_established().is_some());
    pair.assert_child_keys_match();
}

#[test]
fn eap_with_msk_establishes_the_ike_sa_and_child() {
    let mut pair = psk_pair(IKE);
    let rounds = run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::ZERO,
    );
    assert_up(&pair);
    // Identity, challenge, success.
    assert_eq!(rounds, 3);
}

#[test]
fn eap_method_without_msk_uses_sk_pi_and_sk_pr() {
    let mut pair = psk_pair(IKE);
    run(
        &mut pair,
        &mut Server::new(b"secret", false),
        &mut Peer::new(b"secret", false),
        Duration::ZERO,
    );
    assert_up(&pair);
}

#[test]
fn eap_after_intermediate_exchange_uses_the_first_ike_auth_intauth() {
    let mut pair = psk_pair(HYBRID);
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::ZERO,
    );
    assert_up(&pair);
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 1);
}

#[test]
fn slow_eap_method_survives_initiator_retransmissions() {
    let mut pair = psk_pair(IKE);
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::from_secs(3),
    );
    assert_up(&pair);
    assert!(
        pair.a.stats().retransmits > 0,
        "the test should exercise retransmission"
    );
}

#[test]
fn wrong_password_fails_with_authentication_failed() {
    let mut pair = psk_pair(IKE);
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"guess", true),
        Duration::ZERO,
    );
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
    let mut pair = psk_pair(IKE);
    // The peer's method says it has no MSK while the server has one: the AUTH keys differ.
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", false),
        Duration::ZERO,
    );
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
    let mut a = conn("initiator", PSK, IKE, "aes256gcm16");
    a.auth = AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))));
    let b = conn("responder", PSK, IKE, "aes256gcm16");
    let mut pair = start(a, b, default_provider());
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::ZERO,
    );
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
    let a = conn("initiator", PSK, IKE, "aes256gcm16");
    let mut b = conn("responder", PSK, IKE, "aes256gcm16");
    b.auth = AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))));
    let mut pair = start(a, b, default_provider());
    let rounds = run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::ZERO,
    );
    assert_up(&pair);
    assert_eq!(rounds, 0);
}

#[test]
fn eap_responder_authenticates_with_a_certificate() {
    use rcgen::{CertificateParams, KeyPair};
    let p = default_provider();
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::CertifiedIssuer::self_signed(ca, ca_key).expect("ca");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let leaf = CertificateParams::new(vec!["responder.example".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    let signing = p.signing_key(&key.serialize_der()).expect("key");
    let mut a = conn("initiator", PSK, IKE, "aes256gcm16");
    a.auth = AuthConfig::Eap(Box::new(AuthConfig::Certificate(
        CertificateAuth::verify_only(&[issuer.der().to_vec()]).expect("ca"),
    )));
    let mut b = conn("responder", PSK, IKE, "aes256gcm16");
    b.auth = AuthConfig::Eap(Box::new(AuthConfig::Certificate(
        CertificateAuth::new(vec![leaf.der().to_vec()], signing, &[]).expect("cert"),
    )));
    let mut pair = start(a, b, p);
    let unix = u64::try_from(rcgen::date_time_ymd(2030, 1, 1).unix_timestamp()).expect("time");
    pair.a.set_unix_time(pair.now, unix);
    pair.b.set_unix_time(pair.now, unix);
    run(
        &mut pair,
        &mut Server::new(b"secret", true),
        &mut Peer::new(b"secret", true),
        Duration::ZERO,
    );
    assert_up(&pair);
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
    let mut server = Server::new(b"secret", true);
    let mut peer = Peer::new(b"secret", true);
    let mut pair = psk_pair(IKE);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("capture check");
        run(&mut pair, &mut server, &mut peer, Duration::ZERO);
    });
    assert_up(&pair);
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
    let challenge = server.challenge.to_vec();
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
