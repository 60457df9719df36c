//! What the UPF emulator did, for tests and `upf-sim --json`.

use serde_json::{Map, Value, json};
use userplane::Qfi;

/// Counters of the UPF emulator. Per-QFI counts are indexed by QFI (0..=63).
#[derive(Clone, Debug)]
pub struct UpfCounters {
    /// Uplink G-PDUs handed to N6.
    pub ul_packets: u64,
    /// Their T-PDU octets.
    pub ul_octets: u64,
    /// Uplink G-PDUs per QFI of their PDU Session Container.
    pub ul_per_qfi: [u64; 64],
    /// Downlink G-PDUs sent.
    pub dl_packets: u64,
    /// Their T-PDU octets.
    pub dl_octets: u64,
    /// Downlink G-PDUs per QFI.
    pub dl_per_qfi: [u64; 64],
    /// G-PDUs to a TEID without a rule.
    pub unknown_teid: u64,
    /// G-PDUs without a PDU Session Container (N3 requires one, TS 38.415 §5.5.2).
    pub missing_qfi: u64,
    /// Uplink packets whose inner source is not the rule's UE address.
    pub source_mismatch: u64,
    /// N6 packets to an address no rule has.
    pub no_rule_for_n6: u64,
    /// N3 datagrams the GTP-U codec rejected.
    pub malformed: u64,
    /// Error Indications sent for unknown TEIDs.
    pub error_indications_sent: u64,
    /// Error Indications not sent because of the rate limit.
    pub error_indications_suppressed: u64,
    /// Error Indications received.
    pub error_indications_received: u64,
    /// Echo Requests received (each answered).
    pub echo_requests_received: u64,
    /// Echo Requests we sent to peers.
    pub echo_requests_sent: u64,
    /// Echo Responses received.
    pub echo_responses_received: u64,
    /// Echo Requests that had no answer when the next was due.
    pub echo_timeouts: u64,
    /// End Markers received.
    pub end_markers: u64,
    /// Other GTP-U message types received and ignored.
    pub other_messages: u64,
    /// N6 packets the reflector could not answer (not an ICMP echo or UDP to port 7).
    pub not_reflected: u64,
    /// Rules refused because the table was full.
    pub rules_refused: u64,
}

impl Default for UpfCounters {
    fn default() -> Self {
        Self {
            ul_packets: 0,
            ul_octets: 0,
            ul_per_qfi: [0; 64],
            dl_packets: 0,
            dl_octets: 0,
            dl_per_qfi: [0; 64],
            unknown_teid: 0,
            missing_qfi: 0,
            source_mismatch: 0,
            no_rule_for_n6: 0,
            malformed: 0,
            error_indications_sent: 0,
            error_indications_suppressed: 0,
            error_indications_received: 0,
            echo_requests_received: 0,
            echo_requests_sent: 0,
            echo_responses_received: 0,
            echo_timeouts: 0,
            end_markers: 0,
            other_messages: 0,
            not_reflected: 0,
            rules_refused: 0,
        }
    }
}

impl UpfCounters {
    /// Uplink G-PDUs with this QFI.
    pub fn ul_qfi(&self, qfi: Qfi) -> u64 {
        self.ul_per_qfi[usize::from(qfi.get())]
    }

    /// Downlink G-PDUs with this QFI.
    pub fn dl_qfi(&self, qfi: Qfi) -> u64 {
        self.dl_per_qfi[usize::from(qfi.get())]
    }

    /// The counters as a JSON object; per-QFI counts as objects of the QFIs that were seen.
    pub fn to_json(&self) -> Value {
        json!({
            "ul_packets": self.ul_packets,
            "ul_octets": self.ul_octets,
            "ul_per_qfi": per_qfi(&self.ul_per_qfi),
            "dl_packets": self.dl_packets,
            "dl_octets": self.dl_octets,
            "dl_per_qfi": per_qfi(&self.dl_per_qfi),
            "unknown_teid": self.unknown_teid,
            "missing_qfi": self.missing_qfi,
            "source_mismatch": self.source_mismatch,
            "no_rule_for_n6": self.no_rule_for_n6,
            "malformed": self.malformed,
            "error_indications_sent": self.error_indications_sent,
            "error_indications_suppressed": self.error_indications_suppressed,
            "error_indications_received": self.error_indications_received,
            "echo_requests_received": self.echo_requests_received,
            "echo_requests_sent": self.echo_requests_sent,
            "echo_responses_received": self.echo_responses_received,
            "echo_timeouts": self.echo_timeouts,
            "end_markers": self.end_markers,
            "other_messages": self.other_messages,
            "not_reflected": self.not_reflected,
            "rules_refused": self.rules_refused,
        })
    }
}

fn per_qfi(counts: &[u64; 64]) -> Value {
    let seen: Map<String, Value> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 0)
        .map(|(qfi, n)| (qfi.to_string(), Value::from(*n)))
        .collect();
    Value::Object(seen)
}
