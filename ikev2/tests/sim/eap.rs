//! An EAP method for tests, run as a driver would run one: events out, `Endpoint::eap_respond`
//! in, never blocking.
//!
//! The method is a challenge-response (EAP type 255, "Experimental", RFC 3748 §5.8) after an
//! EAP-Identity round: Response = HMAC-SHA-256(password, challenge); MSK = 64 octets of
//! HMAC-SHA-256(password, "msk" | n | challenge).

use std::time::{Duration, Instant};

use ikev2::{AuthConfig, EapStep, Event, FinalAuthReply, SaId};
use ipsec_crypto::{PrfAlgorithm, SecretBytes};

use super::{Pair, Scenario, default_provider};

/// The PSK both ends' connections are made with.
pub const PSK: &[u8] = b"responder pre-shared key, long enough";
const TYPE_IDENTITY: u8 = 1;
const TYPE_TEST: u8 = 255;

/// The EAP server side of the test method, as the responder's driver runs it.
pub struct Server {
    password: &'static [u8],
    with_msk: bool,
    pub challenge: [u8; 16],
    identity: Option<Vec<u8>>,
    /// What the final IKE_AUTH response adds (CP, status notifies, narrowing).
    pub reply: FinalAuthReply,
}

/// The EAP peer side, as the initiator's driver runs it.
pub struct Peer {
    identity: &'static [u8],
    password: &'static [u8],
    with_msk: bool,
    challenge: Vec<u8>,
}

pub fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let prf = default_provider()
        .prf(PrfAlgorithm::HmacSha256)
        .expect("prf");
    let mut out = vec![0; prf.output_len()];
    prf.key(key).compute(parts, &mut out);
    out
}

pub fn msk(password: &[u8], challenge: &[u8]) -> SecretBytes {
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
    pub fn new(password: &'static [u8], with_msk: bool) -> Self {
        Self {
            password,
            with_msk,
            challenge: *b"0123456789abcdef",
            identity: None,
            reply: FinalAuthReply::default(),
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
                    reply: self.reply.clone(),
                }
            }
            _ => EapStep::Failure,
        }
    }
}

impl Peer {
    pub fn new(password: &'static [u8], with_msk: bool) -> Self {
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
                reply: FinalAuthReply::default(),
            },
            _ => EapStep::Failure,
        }
    }
}

/// Both ends of the method, and the time each takes to answer (as a real method or AAA server
/// would).
pub struct EapMethod {
    pub server: Server,
    pub peer: Peer,
    pub think: Duration,
}

impl EapMethod {
    /// Server and peer share `password`; both derive an MSK; answers take no time.
    pub fn password(password: &'static [u8]) -> Self {
        Self {
            server: Server::new(password, true),
            peer: Peer::new(password, true),
            think: Duration::ZERO,
        }
    }

    /// The peer answers with `password` instead.
    pub fn peer_password(mut self, password: &'static [u8]) -> Self {
        self.peer.password = password;
        self
    }

    /// Neither end derives an MSK.
    pub fn without_msk(mut self) -> Self {
        self.server.with_msk = false;
        self.peer.with_msk = false;
        self
    }

    /// Only the peer claims no MSK, while the server has one.
    pub fn peer_without_msk(mut self) -> Self {
        self.peer.with_msk = false;
        self
    }

    /// Each answer comes `think` after the event that asked for it.
    pub fn think(mut self, think: Duration) -> Self {
        self.think = think;
        self
    }

    /// Runs `pair` in small time slices, answering EAP events, until both sides are up or one
    /// failed. Returns how many EAP requests the initiator saw.
    pub fn run(&mut self, pair: &mut Pair) -> usize {
        let (mut seen_a, mut seen_b, mut rounds) = (0, 0, 0);
        let mut due: Vec<(Instant, bool, SaId, EapStep)> = Vec::new();
        for _ in 0..20_000 {
            pair.run_until(pair.now + Duration::from_millis(10));
            self.take_server_events(pair, seen_b, &mut due);
            rounds += self.take_peer_events(pair, seen_a, &mut due);
            (seen_a, seen_b) = (pair.a_events.len(), pair.b_events.len());
            let now = pair.now;
            for (_, to_a, sa, step) in due.extract_if(.., |d| d.0 <= now) {
                if to_a {
                    pair.a
                        .eap_respond(now, sa, step)
                        .expect("the engine takes the command");
                } else {
                    pair.b
                        .eap_respond(now, sa, step)
                        .expect("the engine takes the command");
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

    fn take_server_events(
        &mut self,
        pair: &Pair,
        seen: usize,
        due: &mut Vec<(Instant, bool, SaId, EapStep)>,
    ) {
        for e in &pair.b_events[seen..] {
            match e {
                Event::EapStarted { sa, peer_id } => {
                    assert_eq!(peer_id.0.data, b"initiator.example");
                    due.push((pair.now + self.think, false, *sa, self.server.start()));
                }
                Event::EapMessage { sa, message } => due.push((
                    pair.now + self.think,
                    false,
                    *sa,
                    self.server.on_response(message),
                )),
                _ => {}
            }
        }
    }

    fn take_peer_events(
        &mut self,
        pair: &Pair,
        seen: usize,
        due: &mut Vec<(Instant, bool, SaId, EapStep)>,
    ) -> usize {
        let mut rounds = 0;
        for e in &pair.a_events[seen..] {
            if let Event::EapMessage { sa, message } = e {
                rounds += 1;
                due.push((
                    pair.now + self.think,
                    true,
                    *sa,
                    self.peer.on_request(message),
                ));
            }
        }
        rounds
    }
}

/// EAP over a PSK: the initiator asks for EAP and verifies the responder's PSK AUTH.
pub fn eap_over_psk() -> AuthConfig {
    AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))))
}

impl Scenario {
    /// Both sides of [`Scenario::psk`] with [`PSK`] and `ike`, and EAP over that PSK.
    pub fn eap(ike: &str) -> Self {
        Self::psk(PSK, ike, "aes256gcm16").both(|c| c.auth = eap_over_psk())
    }
}
