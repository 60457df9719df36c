//! Dataplane-wide counters: each worker counts in plain integers and adds them to shared
//! atomics once per loop, so the per-packet path touches no shared cache line.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Dataplane-wide counters (per-SA ones are in [`crate::SaStats`]).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct DataplaneStats {
            $($(#[$doc])* pub $name: u64,)*
        }

        /// The shared atomics behind [`DataplaneStats`].
        #[derive(Debug, Default)]
        pub(crate) struct SharedCounters {
            $($name: AtomicU64,)*
        }

        impl SharedCounters {
            pub(crate) fn snapshot(&self) -> DataplaneStats {
                DataplaneStats { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl DataplaneStats {
            /// Adds these counts to `shared` and zeroes them.
            pub(crate) fn drain_into(&mut self, shared: &SharedCounters) {
                $(if self.$name != 0 {
                    shared.$name.fetch_add(self.$name, Ordering::Relaxed);
                    self.$name = 0;
                })*
            }
        }
    };
}

counters! {
    /// Reads from the TUN device (a super-packet counts once).
    tun_reads,
    /// Writes to the TUN device (a super-packet counts once).
    tun_writes,
    /// Failed TUN reads or writes.
    tun_errors,
    /// Segments cut from TUN super-packets (or single packets passed through).
    segments_out,
    /// Packets from TUN that the segmenter refused.
    segment_errors,
    /// Packets from TUN that matched no SPD entry (dropped).
    no_policy,
    /// ESP packets handed to the kernel.
    esp_sent,
    /// `sendmmsg` calls.
    send_calls,
    /// ESP packets the kernel refused to send.
    send_errors,
    /// UDP GSO sends that failed and were retried one datagram at a time.
    gso_fallbacks,
    /// `recvmmsg` calls that returned data.
    recv_calls,
    /// ESP packets (or other datagrams) received.
    datagrams_in,
    /// Received datagrams that are neither ESP, IKE nor keepalive, or were truncated.
    malformed,
    /// ESP packets with an SPI we do not have.
    unknown_spi,
    /// Unknown SPIs reported to the daemon (rate-limited), for INVALID_SPI.
    unknown_spi_reports,
    /// Packets from TUN that matched a trap policy and no SA (dropped).
    trapped,
    /// Acquires sent to the daemon for trapped packets (rate-limited).
    acquires,
    /// NAT-keepalives received (RFC 3948 §2.3), dropped.
    keepalives,
    /// IKE messages handed to the daemon.
    ike_packets,
    /// IKE messages dropped because their source exceeded its rate.
    ike_rate_limited,
    /// IKE messages dropped because the queue towards the daemon was full.
    ike_dropped,
    /// Events (unknown SPIs, acquires) lost because the channel was full.
    events_dropped,
    /// SA events raised (lifetimes, sequence numbers used up); never dropped.
    sa_events,
    /// SA event doorbells that found the channel full (the events wait for the next
    /// collection).
    sa_event_doorbells_lost,
    /// Decrypted TCP segments merged into a super-packet.
    coalesced,
    /// Decrypted TCP segments whose checksum did not verify (passed on unmerged).
    inner_bad_checksums,
    /// GTP-U datagrams received on N3.
    gtpu_rx,
    /// UL G-PDUs built from GRE and queued towards a UPF.
    gtpu_tx,
    /// Datagrams on N3 that are not GTP-U v1 we can read.
    gtpu_malformed,
    /// G-PDUs for a TEID no session has (dropped; Error Indication sent, rate-limited).
    gtpu_unknown_teid,
    /// Error Indications sent for unknown TEIDs.
    gtpu_error_indications_sent,
    /// Error Indications received from UPFs.
    gtpu_error_indications_received,
    /// Echo Requests answered.
    gtpu_echo_requests,
    /// Echo Responses received.
    gtpu_echo_responses,
    /// End Markers received (swallowed).
    gtpu_end_markers,
    /// Other GTP-U messages (counted, dropped).
    gtpu_other,
    /// DL G-PDUs without PDU Session Container (sent on the default Child SA).
    gtpu_no_qfi,
    /// DL G-PDUs whose QFI has no Child SA of its own (sent on the default one).
    gtpu_qfi_unmapped,
    /// GTP-U reports (Error Indications, Echo Responses) not passed on to the owner because
    /// their source exceeded its rate.
    gtpu_reports_limited,
    /// Datagrams sent on N3 (G-PDUs, Echo Requests and Responses, Error Indications).
    n3_sent,
    /// Datagrams the kernel refused to send on N3.
    n3_send_errors,
    /// UL GRE packets forwarded to N3.
    gre_rx,
    /// DL GRE packets sealed towards UEs (a fragmented one counts once).
    gre_tx,
    /// UL GRE packets that could not be read, or whose payload is no IP packet.
    gre_malformed,
    /// UL GRE packets without key, sent with the session's default QFI.
    gre_no_key,
    /// Packets on a user-plane SA that are not GRE from the UE to the UP address, and GRE to
    /// a UP address on an SA of no PDU session (dropped).
    up_policy_drops,
    /// UL payloads whose source is not the PDU session's address (dropped).
    up_source_mismatches,
    /// UL inner IP fragments on user-plane SAs (dropped).
    up_inner_fragments,
    /// DL G-PDUs whose Child SA is not installed (dropped).
    up_no_sa,
    /// UL packets that found no N3 socket in their worker (dropped).
    up_no_n3,
    /// DL packets too large for the path to the UE and not fragmented (dropped).
    mtu_drops,
    /// DL packets fragmented to fit the path to the UE.
    mtu_fragmented,
}
