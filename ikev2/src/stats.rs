//! Counters: every dropped or rejected datagram is counted, never logged one by one.

/// Endpoint-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    pub datagrams_received: u64,
    pub datagrams_sent: u64,
    /// Header or payload chain did not parse.
    pub dropped_malformed: u64,
    /// SK/SKF integrity check failed.
    pub dropped_integrity: u64,
    /// No IKE SA with that SPI.
    pub dropped_unknown_spi: u64,
    /// A response we were not waiting for, or a request outside the window.
    pub dropped_unexpected: u64,
    /// Protected requests other than IKE_INTERMEDIATE and IKE_AUTH on an IKE SA whose
    /// IKE_AUTH has not completed (RFC 7296 §1.2): nothing is created or deleted.
    pub dropped_before_auth: u64,
    /// Fragments refused by the reassembly limits.
    pub dropped_fragments: u64,
    /// IKE_SA_INIT requests dropped above the half-open count limits (in all or per source).
    pub dropped_half_open_limit: u64,
    /// IKE_SA_INIT requests and fragments dropped because half-open SAs would hold more
    /// than their byte budget (in all or per SA).
    pub dropped_half_open_memory: u64,
    /// Half-open IKE SAs given up, within the byte budget, for a request from a source that
    /// held fewer.
    pub half_open_evicted: u64,
    pub retransmits: u64,
    /// Cached responses resent for duplicate requests.
    pub responses_resent: u64,
    /// IKE_SA_INIT requests answered with COOKIE (demanded under load, RFC 7296 §2.6).
    pub cookies_sent: u64,
    /// IKE_SA_INIT requests refused with NO_PROPOSAL_CHOSEN.
    pub init_no_proposal_chosen: u64,
    /// IKE_SA_INIT requests answered with INVALID_KE_PAYLOAD (the initiator guessed another
    /// key exchange method).
    pub init_invalid_ke: u64,
    /// IKE_SA_INIT requests refused with another notify (INVALID_SYNTAX, critical payload).
    pub init_rejected_other: u64,
    /// IKE SAs that failed in IKE_AUTH, either role: AUTH did not verify, identity or PPK
    /// mismatch, or the peer sent AUTHENTICATION_FAILED.
    pub auth_failed: u64,
    pub ike_sas_established: u64,
    pub ike_sas_failed: u64,
    pub child_sas_established: u64,
    /// CREATE_CHILD_SA exchanges not started or refused for want of a matching RFC 9867 PPK
    /// (source failed or timed out, confirmation mismatch, peer skipped a required PPK).
    pub child_ppk_failures: u64,
    /// Signatures checked while building peers' certificate chains.
    pub cert_signature_checks: u64,
    /// IKE_AUTH exchanges whose chain building hit `max_chain_signature_checks`.
    pub cert_check_limit_reached: u64,
    /// Initiator: CP payloads of an authenticated final IKE_AUTH response that did not parse as
    /// a CFG_REPLY (wrong type, bad attribute length); ignored.
    pub auth_reply_malformed_cp: u64,
    /// Initiator: private-use status notifies of a final IKE_AUTH response dropped over
    /// [`MAX_STATUS_NOTIFIES`](crate::MAX_STATUS_NOTIFIES) or
    /// [`MAX_STATUS_NOTIFY_DATA`](crate::MAX_STATUS_NOTIFY_DATA).
    pub auth_reply_notifies_dropped: u64,
    /// Responder: private-use status notifies of a CREATE_CHILD_SA request for a new Child SA
    /// dropped over the same bounds (the Child SA is still created).
    pub child_notifies_dropped: u64,
}

impl Stats {
    /// Every counter with a stable snake_case name, for metrics and listings.
    pub fn fields(&self) -> [(&'static str, u64); 27] {
        [
            ("datagrams_received", self.datagrams_received),
            ("datagrams_sent", self.datagrams_sent),
            ("dropped_malformed", self.dropped_malformed),
            ("dropped_integrity", self.dropped_integrity),
            ("dropped_unknown_spi", self.dropped_unknown_spi),
            ("dropped_unexpected", self.dropped_unexpected),
            ("dropped_before_auth", self.dropped_before_auth),
            ("dropped_fragments", self.dropped_fragments),
            ("dropped_half_open_limit", self.dropped_half_open_limit),
            ("dropped_half_open_memory", self.dropped_half_open_memory),
            ("half_open_evicted", self.half_open_evicted),
            ("retransmits", self.retransmits),
            ("responses_resent", self.responses_resent),
            ("cookies_sent", self.cookies_sent),
            ("init_no_proposal_chosen", self.init_no_proposal_chosen),
            ("init_invalid_ke", self.init_invalid_ke),
            ("init_rejected_other", self.init_rejected_other),
            ("auth_failed", self.auth_failed),
            ("ike_sas_established", self.ike_sas_established),
            ("ike_sas_failed", self.ike_sas_failed),
            ("child_sas_established", self.child_sas_established),
            ("child_ppk_failures", self.child_ppk_failures),
            ("cert_signature_checks", self.cert_signature_checks),
            ("cert_check_limit_reached", self.cert_check_limit_reached),
            ("auth_reply_malformed_cp", self.auth_reply_malformed_cp),
            (
                "auth_reply_notifies_dropped",
                self.auth_reply_notifies_dropped,
            ),
            ("child_notifies_dropped", self.child_notifies_dropped),
        ]
    }
}
