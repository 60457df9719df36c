//! How long an initiated IKE SA took to come up, exchange by exchange: from the first datagram
//! of our request to the last datagram (fragment) of the peer's response.

use std::time::{Duration, Instant};

use ikev2::MessageId;
use ikev2::wire::ExchangeType;

use crate::proto::PhaseView;

/// Timestamps of one IKE SA's initial exchanges and steps.
#[derive(Debug, Default)]
pub(super) struct Timings {
    initiated: Option<Instant>,
    exchanges: Vec<Exchange>,
    /// Other timed steps (QKD key requests), in the order they finished.
    steps: Vec<(String, Duration)>,
    established: Option<Instant>,
    child_installed: Option<Instant>,
}

#[derive(Debug)]
struct Exchange {
    exchange: ExchangeType,
    message_id: MessageId,
    sent: Instant,
    answered: Option<Instant>,
}

impl Timings {
    /// The clock of an SA we initiate at `now`.
    pub(super) fn initiated(now: Instant) -> Self {
        Self {
            initiated: Some(now),
            ..Self::default()
        }
    }

    /// Our request `message_id` left (a retransmission or later fragment keeps the first time).
    pub(super) fn request_sent(
        &mut self,
        exchange: ExchangeType,
        message_id: MessageId,
        now: Instant,
    ) {
        if self.initiated.is_none()
            || self.established.is_some()
            || self.exchanges.iter().any(|e| e.message_id == message_id)
        {
            return;
        }
        if self.exchanges.len() < MAX_EXCHANGES {
            self.exchanges.push(Exchange {
                exchange,
                message_id,
                sent: now,
                answered: None,
            });
        }
    }

    /// A datagram of the response to `message_id` arrived.
    pub(super) fn response_received(&mut self, message_id: MessageId, now: Instant) {
        if self.established.is_some() {
            return;
        }
        if let Some(e) = self
            .exchanges
            .iter_mut()
            .find(|e| e.message_id == message_id)
        {
            e.answered = Some(now);
        }
    }

    /// A step outside the exchanges, such as a QKD key request.
    pub(super) fn step(&mut self, name: &str, took: Duration) {
        if self.steps.len() < MAX_EXCHANGES {
            self.steps.push((name.to_string(), took));
        }
    }

    pub(super) fn established(&mut self, now: Instant) {
        self.established.get_or_insert(now);
    }

    pub(super) fn child_installed(&mut self, now: Instant) {
        self.child_installed.get_or_insert(now);
    }

    /// The phases in order: each answered exchange, the other steps, then the totals.
    pub(super) fn view(&self) -> Vec<PhaseView> {
        let phase = |name: String, d: Duration| PhaseView {
            phase: name,
            micros: u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
        };
        let mut out: Vec<PhaseView> = self
            .exchanges
            .iter()
            .filter_map(|e| {
                Some(phase(
                    exchange_name(e.exchange),
                    e.answered?.duration_since(e.sent),
                ))
            })
            .collect();
        out.extend(self.steps.iter().map(|(n, d)| phase(n.clone(), *d)));
        if let Some(start) = self.initiated {
            if let Some(t) = self.established {
                out.push(phase(
                    "initiate -> established".into(),
                    t.duration_since(start),
                ));
            }
            if let Some(t) = self.child_installed {
                out.push(phase(
                    "initiate -> child installed".into(),
                    t.duration_since(start),
                ));
            }
        }
        out
    }
}

fn exchange_name(e: ExchangeType) -> String {
    match e {
        ExchangeType::IKE_SA_INIT => "IKE_SA_INIT".into(),
        ExchangeType::IKE_AUTH => "IKE_AUTH".into(),
        ExchangeType::IKE_INTERMEDIATE => "IKE_INTERMEDIATE".into(),
        ExchangeType::CREATE_CHILD_SA => "CREATE_CHILD_SA".into(),
        ExchangeType::INFORMATIONAL => "INFORMATIONAL".into(),
        ExchangeType::IKE_FOLLOWUP_KE => "IKE_FOLLOWUP_KE".into(),
        other => format!("exchange {}", other.0),
    }
}

/// Initial exchanges kept per SA (IKE_SA_INIT, up to seven IKE_INTERMEDIATE, IKE_AUTH, EAP).
const MAX_EXCHANGES: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_are_timed_from_first_request_to_last_response_datagram() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut t = Timings::initiated(t0);
        t.request_sent(ExchangeType::IKE_SA_INIT, MessageId(0), at(1));
        t.request_sent(ExchangeType::IKE_SA_INIT, MessageId(0), at(5));
        t.response_received(MessageId(0), at(3));
        t.request_sent(ExchangeType::IKE_INTERMEDIATE, MessageId(1), at(4));
        t.response_received(MessageId(1), at(6));
        t.response_received(MessageId(1), at(7));
        t.step("qkd enc_keys", Duration::from_millis(2));
        t.request_sent(ExchangeType::IKE_AUTH, MessageId(2), at(8));
        t.response_received(MessageId(2), at(10));
        t.established(at(10));
        t.child_installed(at(11));
        t.request_sent(ExchangeType::INFORMATIONAL, MessageId(3), at(20));
        let v: Vec<(String, u64)> = t.view().into_iter().map(|p| (p.phase, p.micros)).collect();
        let want = [
            ("IKE_SA_INIT", 2000),
            ("IKE_INTERMEDIATE", 3000),
            ("IKE_AUTH", 2000),
            ("qkd enc_keys", 2000),
            ("initiate -> established", 10_000),
            ("initiate -> child installed", 11_000),
        ];
        assert_eq!(v, want.map(|(n, m)| (n.to_string(), m)));
    }
}
