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
}
