//! Counters of the N3IWF, for `ikectl stats` and the metrics endpoint.

/// Why a UE context ended, whether before registration (a failure) or after it (a release).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndCause {
    /// The UE limit was reached at the first IKE_AUTH request.
    UeLimit,
    /// No ready AMF serves the UE's GUAMI or PLMN.
    NoAmf,
    /// An EAP packet from the UE that is not the expected EAP-5G response.
    EapInvalid,
    /// The UE sent EAP-Response/5G-Stop.
    EapStop,
    /// A held IKE_AUTH request got no answer from the AMF in time.
    AmfAnswerTimeout,
    /// The UE sent no EAP response in time.
    UeAnswerTimeout,
    /// The signalling SA was not set up in time after EAP-Success.
    SignallingTimeout,
    /// The UE's AUTH in the final IKE_AUTH did not verify.
    AuthenticationFailed,
    /// The IKE SA went away (deleted by the UE, unreachable, failed).
    IkeSaGone,
    /// The inner address pool was exhausted.
    PoolExhausted,
    /// INITIAL CONTEXT SETUP REQUEST was refused (criticality, or a state that cannot take it).
    ContextSetupRefused,
    /// UE CONTEXT RELEASE COMMAND from the AMF, unasked.
    ReleasedByAmf,
    /// The AMF used an AMF UE NGAP ID inconsistent with the context (TS 38.413 §10.6).
    InconsistentIds,
    /// NG RESET from the AMF.
    NgReset,
    /// The N2 association went down.
    N2Lost,
    /// The operator closed it.
    Local,
}

impl EndCause {
    /// Every cause, in declaration order.
    pub const ALL: [Self; 16] = [
        Self::UeLimit,
        Self::NoAmf,
        Self::EapInvalid,
        Self::EapStop,
        Self::AmfAnswerTimeout,
        Self::UeAnswerTimeout,
        Self::SignallingTimeout,
        Self::AuthenticationFailed,
        Self::IkeSaGone,
        Self::PoolExhausted,
        Self::ContextSetupRefused,
        Self::ReleasedByAmf,
        Self::InconsistentIds,
        Self::NgReset,
        Self::N2Lost,
        Self::Local,
    ];

    /// A short stable name for metrics labels and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UeLimit => "ue-limit",
            Self::NoAmf => "no-amf",
            Self::EapInvalid => "eap-invalid",
            Self::EapStop => "eap-stop",
            Self::AmfAnswerTimeout => "amf-answer-timeout",
            Self::UeAnswerTimeout => "ue-answer-timeout",
            Self::SignallingTimeout => "signalling-sa-timeout",
            Self::AuthenticationFailed => "authentication-failed",
            Self::IkeSaGone => "ike-sa-gone",
            Self::PoolExhausted => "pool-exhausted",
            Self::ContextSetupRefused => "context-setup-refused",
            Self::ReleasedByAmf => "released-by-amf",
            Self::InconsistentIds => "inconsistent-ids",
            Self::NgReset => "ng-reset",
            Self::N2Lost => "n2-lost",
            Self::Local => "local",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// NGAP messages by direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Sent,
    Received,
}

/// The N3IWF's counters. Every field only grows.
#[derive(Clone, Debug)]
pub struct Stats {
    /// UEs that started EAP-5G (the first IKE_AUTH request without AUTH).
    pub eap_started: u64,
    /// UEs whose signalling SA came up, answered with INITIAL CONTEXT SETUP RESPONSE.
    pub registrations: u64,
    /// UE contexts ended before registration, by cause.
    failures: [u64; EndCause::ALL.len()],
    /// UE contexts ended after registration, by cause.
    releases: [u64; EndCause::ALL.len()],
    /// NGAP PDUs sent and received, by procedure code.
    ngap_sent: Box<[u64; 256]>,
    ngap_received: Box<[u64; 256]>,
    /// NGAP PDUs that gave no message to act on.
    pub ngap_refused: u64,
    /// ERROR INDICATIONs sent.
    pub error_indications_sent: u64,
    /// EAP packets counted as duplicates of one already taken (not answered again).
    pub eap_duplicates: u64,
    /// Uplink NAS messages relayed to the AMF (EAP-5G and TCP).
    pub ul_nas: u64,
    /// Downlink NAS messages relayed to the UE (EAP-5G and TCP).
    pub dl_nas: u64,
    /// PDU sessions set up (in the setup list of a response).
    pub sessions_set_up: u64,
    /// PDU sessions put in the failed list of a response.
    pub sessions_failed: u64,
    /// PDU sessions released after being set up.
    pub sessions_released: u64,
    /// User-plane CREATE_CHILD_SAs asked of the engine.
    pub child_sa_requests: u64,
    /// User-plane CREATE_CHILD_SAs the UE refused or that failed.
    pub child_sa_failures: u64,
    /// User-plane Child SAs rekeyed.
    pub child_sa_rekeys: u64,
    /// GTP-U Error Indications from a UPF for one of our UL tunnels.
    pub gtpu_error_indications: u64,
    /// Downlink NAS messages that waited in a queue.
    pub dl_nas_queued: u64,
    /// NAS NON DELIVERY INDICATIONs sent.
    pub dl_nas_not_delivered: u64,
    /// NAS TCP connections refused (no UE at that inner address, or a UE not yet registered).
    pub nas_tcp_refused: u64,
    /// NAS TCP connections closed for a broken envelope.
    pub nas_tcp_framing_errors: u64,
    /// UE CONTEXT RELEASE REQUESTs the AMF did not answer in time (released locally).
    pub release_command_timeouts: u64,
    /// NG SETUP REQUESTs sent again after no answer or a refusal.
    pub ng_setup_retries: u64,
    /// Inputs about IKE SAs, connections or AMFs the core does not know (ignored).
    pub unknown_references: u64,
}

impl Stats {
    /// UE contexts ended before registration, by cause (only causes that occurred).
    pub fn failures(&self) -> impl Iterator<Item = (EndCause, u64)> + '_ {
        nonzero(&self.failures)
    }

    /// UE contexts ended after registration, by cause (only causes that occurred).
    pub fn releases(&self) -> impl Iterator<Item = (EndCause, u64)> + '_ {
        nonzero(&self.releases)
    }

    /// Failures of one cause.
    pub fn failures_of(&self, cause: EndCause) -> u64 {
        self.failures[cause.index()]
    }

    /// Releases of one cause.
    pub fn releases_of(&self, cause: EndCause) -> u64 {
        self.releases[cause.index()]
    }

    /// NGAP PDUs by procedure code and direction (only those seen).
    pub fn ngap(&self) -> impl Iterator<Item = (u8, Direction, u64)> + '_ {
        let sent = (0..=255u8).map(|c| (c, Direction::Sent, self.ngap_sent[usize::from(c)]));
        let received =
            (0..=255u8).map(|c| (c, Direction::Received, self.ngap_received[usize::from(c)]));
        sent.chain(received).filter(|(_, _, n)| *n > 0)
    }

    /// NGAP PDUs of one procedure code and direction.
    pub fn ngap_of(&self, procedure_code: u8, direction: Direction) -> u64 {
        match direction {
            Direction::Sent => self.ngap_sent[usize::from(procedure_code)],
            Direction::Received => self.ngap_received[usize::from(procedure_code)],
        }
    }

    pub(crate) fn count_end(&mut self, cause: EndCause, registered: bool) {
        let table = if registered {
            &mut self.releases
        } else {
            &mut self.failures
        };
        table[cause.index()] += 1;
    }

    pub(crate) fn count_ngap(&mut self, procedure_code: u8, direction: Direction) {
        let table = match direction {
            Direction::Sent => &mut self.ngap_sent,
            Direction::Received => &mut self.ngap_received,
        };
        table[usize::from(procedure_code)] += 1;
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            eap_started: 0,
            registrations: 0,
            failures: [0; EndCause::ALL.len()],
            releases: [0; EndCause::ALL.len()],
            ngap_sent: Box::new([0; 256]),
            ngap_received: Box::new([0; 256]),
            ngap_refused: 0,
            error_indications_sent: 0,
            eap_duplicates: 0,
            ul_nas: 0,
            dl_nas: 0,
            sessions_set_up: 0,
            sessions_failed: 0,
            sessions_released: 0,
            child_sa_requests: 0,
            child_sa_failures: 0,
            child_sa_rekeys: 0,
            gtpu_error_indications: 0,
            dl_nas_queued: 0,
            dl_nas_not_delivered: 0,
            nas_tcp_refused: 0,
            nas_tcp_framing_errors: 0,
            release_command_timeouts: 0,
            ng_setup_retries: 0,
            unknown_references: 0,
        }
    }
}

fn nonzero(table: &[u64; EndCause::ALL.len()]) -> impl Iterator<Item = (EndCause, u64)> + '_ {
    EndCause::ALL
        .iter()
        .zip(table)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (*c, *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_its_own_slot_and_name() {
        let mut stats = Stats::default();
        for (i, cause) in EndCause::ALL.iter().enumerate() {
            assert_eq!(cause.index(), i);
            stats.count_end(*cause, i % 2 == 0);
        }
        let names: std::collections::HashSet<_> =
            EndCause::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), EndCause::ALL.len());
        assert_eq!(stats.failures().count() + stats.releases().count(), 16);
        assert_eq!(stats.releases_of(EndCause::UeLimit), 1);
        assert_eq!(stats.failures_of(EndCause::UeLimit), 0);
    }
}
