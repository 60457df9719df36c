//! The UPF emulator's sans-IO core: the N3 side of a UPF for tests of the N3IWF's user plane.
//! No real UPF runs on the machines this project is tested on; this one does what an N3IWF
//! needs from one, by TS 29.281 and TS 38.415, and counts everything.
//!
//! Bytes and `now` in, bytes and deadlines out; the `upf_sim` module and the `upf-sim` binary
//! drive it with sockets and a TUN device. Call order:
//! - [`Upf::add_rule`] / [`Upf::remove_rule`] as the SMF would (rules are bounded);
//! - [`Upf::handle_n3`] for each datagram on the N3 socket: G-PDUs go to N6 (their T-PDU's
//!   range), Echo Requests and G-PDUs for unknown TEIDs get a reply (Echo Response, rate-limited
//!   Error Indication);
//! - [`Upf::handle_n6`] for each packet from the data network: a downlink G-PDU to the UE's
//!   access node, with the rule's QFI and RQI;
//! - [`Upf::poll_echo`] until `None`, then sleep until [`Upf::next_deadline`]: path
//!   supervision with Echo Requests to every peer that has rules.
//!
//! [`reflect`] stands in for the data network in tests: it answers ICMP echo and UDP echo.

mod counters;
mod reflector;
mod rules;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::{Duration, Instant};

use userplane::{
    ErrorIndication, GTPU_PORT, GtpuMessage, LocalTeid, PduSessionInfo, Teid, write_echo_request,
    write_echo_response, write_error_indication, write_gpdu_header,
};

pub use counters::UpfCounters;
pub use reflector::{ECHO_PORT, reflect};
pub use rules::{RuleError, SessionRule};

use rules::RuleTable;

/// How the emulated UPF behaves.
#[derive(Clone, Copy, Debug)]
pub struct UpfConfig {
    /// Our N3 address: the GTP-U Peer Address of our Error Indications.
    pub n3_address: IpAddr,
    /// The most rules the table holds.
    pub max_rules: usize,
    /// The period of our Echo Requests to each peer; zero disables them.
    pub echo_interval: Duration,
    /// Error Indications per second at most (also the burst).
    pub error_indications_per_second: u32,
    /// Send Error Indications to the source port of the G-PDU instead of 2152 (TS 29.281
    /// §4.4.2.1 says 2152; tests whose peer has an ephemeral port need this).
    pub error_indication_to_source_port: bool,
}

impl Default for UpfConfig {
    fn default() -> Self {
        Self {
            n3_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            max_rules: 4096,
            echo_interval: Duration::from_secs(60),
            error_indications_per_second: 10,
            error_indication_to_source_port: false,
        }
    }
}

/// What to do after [`Upf::handle_n3`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum N3Output {
    /// Send the first `len` octets of the output buffer to `to`.
    Reply {
        /// The destination.
        to: SocketAddr,
        /// The reply's length in the output buffer.
        len: usize,
    },
    /// Hand the T-PDU at this range of the datagram to N6.
    Uplink(Range<usize>),
    /// Nothing to send; counted.
    Done,
}

/// The emulated UPF.
#[derive(Debug)]
pub struct Upf {
    config: UpfConfig,
    rules: RuleTable,
    peers: HashMap<SocketAddr, Peer>,
    counters: UpfCounters,
    error_indications: TokenBucket,
    next_sequence: u16,
}

#[derive(Debug)]
struct Peer {
    next_echo: Instant,
    outstanding: Option<u16>,
}

impl Upf {
    /// A UPF without rules.
    pub fn new(config: UpfConfig) -> Self {
        Self {
            rules: RuleTable::new(config.max_rules),
            peers: HashMap::new(),
            counters: UpfCounters::default(),
            error_indications: TokenBucket::new(config.error_indications_per_second),
            next_sequence: 0,
            config,
        }
    }

    /// Installs a rule; its peer is supervised with Echo Requests from `now` on.
    ///
    /// # Errors
    /// When the table is full or the TEID or UE address is taken.
    pub fn add_rule(&mut self, now: Instant, rule: SessionRule) -> Result<(), RuleError> {
        if let Err(e) = self.rules.insert(rule) {
            if matches!(e, RuleError::Full { .. }) {
                self.counters.rules_refused += 1;
            }
            return Err(e);
        }
        let interval = self.config.echo_interval;
        self.peers.entry(rule.peer).or_insert(Peer {
            next_echo: now + interval,
            outstanding: None,
        });
        Ok(())
    }

    /// Removes the rule of `ul_teid`; its peer is no longer supervised if no rule is left.
    pub fn remove_rule(&mut self, ul_teid: LocalTeid) -> Option<SessionRule> {
        let rule = self.rules.remove(ul_teid)?;
        if !self.rules.has_peer(rule.peer) {
            self.peers.remove(&rule.peer);
        }
        Some(rule)
    }

    /// Handles a datagram from `from` on the N3 socket; replies are written into `out`.
    pub fn handle_n3(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        out: &mut [u8],
    ) -> N3Output {
        let Ok(message) = GtpuMessage::parse(datagram) else {
            self.counters.malformed += 1;
            return N3Output::Done;
        };
        match message {
            GtpuMessage::GPdu {
                teid,
                pdu_session,
                payload,
            } => self.uplink(now, from, teid, pdu_session, payload, datagram, out),
            GtpuMessage::EchoRequest { sequence_number } => {
                self.counters.echo_requests_received += 1;
                reply(from, write_echo_response(out, sequence_number))
            }
            GtpuMessage::EchoResponse {
                sequence_number, ..
            } => {
                self.counters.echo_responses_received += 1;
                if let Some(peer) = self.peers.get_mut(&from)
                    && peer.outstanding == Some(sequence_number)
                {
                    peer.outstanding = None;
                }
                N3Output::Done
            }
            GtpuMessage::ErrorIndication(_) => {
                self.counters.error_indications_received += 1;
                N3Output::Done
            }
            GtpuMessage::EndMarker { .. } => {
                self.counters.end_markers += 1;
                N3Output::Done
            }
            _ => {
                self.counters.other_messages += 1;
                N3Output::Done
            }
        }
    }

    /// Handles a packet from N6: writes the downlink G-PDU for its destination's rule into `out`
    /// and says where it goes, or counts it and returns `None`.
    pub fn handle_n6(&mut self, packet: &[u8], out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        let Some(rule) = destination(packet).and_then(|a| self.rules.by_ue_address(a)) else {
            self.counters.no_rule_for_n6 += 1;
            return None;
        };
        let session = PduSessionInfo::downlink(rule.qfi, rule.rqi);
        let (peer, teid, qfi) = (rule.peer, rule.dl_teid, rule.qfi);
        let header = write_gpdu_header(out, teid, Some(session), packet.len()).ok()?;
        out.get_mut(header..header + packet.len())?
            .copy_from_slice(packet);
        self.counters.dl_packets += 1;
        self.counters.dl_octets += packet.len() as u64;
        self.counters.dl_per_qfi[usize::from(qfi.get())] += 1;
        Some((peer, header + packet.len()))
    }

    /// Writes the next due Echo Request into `out` and says where it goes; `None` when none is
    /// due at `now`.
    pub fn poll_echo(&mut self, now: Instant, out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        if self.config.echo_interval.is_zero() {
            return None;
        }
        let (&to, peer) = self.peers.iter_mut().find(|(_, p)| p.next_echo <= now)?;
        if peer.outstanding.is_some() {
            self.counters.echo_timeouts += 1;
        }
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        peer.outstanding = Some(sequence);
        peer.next_echo = now + self.config.echo_interval;
        let len = write_echo_request(out, sequence).ok()?;
        self.counters.echo_requests_sent += 1;
        Some((to, len))
    }

    /// When [`Upf::poll_echo`] has something to send next.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.config.echo_interval.is_zero() {
            return None;
        }
        self.peers.values().map(|p| p.next_echo).min()
    }

    /// Counts an N6 packet the driver's reflector did not answer.
    pub fn count_not_reflected(&mut self) {
        self.counters.not_reflected += 1;
    }

    /// What happened so far.
    pub fn counters(&self) -> &UpfCounters {
        &self.counters
    }

    /// The installed rules, in no order.
    pub fn rules(&self) -> impl Iterator<Item = &SessionRule> {
        self.rules.iter()
    }

    /// How many rules are installed.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Checks a G-PDU against its rule: a known TEID, a QFI, the UE's source address.
    #[allow(clippy::too_many_arguments)]
    fn uplink(
        &mut self,
        now: Instant,
        from: SocketAddr,
        teid: Teid,
        pdu_session: Option<PduSessionInfo>,
        payload: &[u8],
        datagram: &[u8],
        out: &mut [u8],
    ) -> N3Output {
        let Some(rule) = self.rules.by_ul_teid(teid) else {
            self.counters.unknown_teid += 1;
            return self.error_indication(now, from, teid, out);
        };
        let Some(session) = pdu_session else {
            self.counters.missing_qfi += 1;
            return N3Output::Done;
        };
        if source(payload) != Some(rule.ue_address) {
            self.counters.source_mismatch += 1;
            return N3Output::Done;
        }
        self.counters.ul_packets += 1;
        self.counters.ul_octets += payload.len() as u64;
        self.counters.ul_per_qfi[usize::from(session.qfi().get())] += 1;
        N3Output::Uplink(datagram.len() - payload.len()..datagram.len())
    }

    /// An Error Indication for a G-PDU from `from` to the unknown `teid`, if the rate allows.
    fn error_indication(
        &mut self,
        now: Instant,
        from: SocketAddr,
        teid: Teid,
        out: &mut [u8],
    ) -> N3Output {
        if !self.error_indications.take(now) {
            self.counters.error_indications_suppressed += 1;
            return N3Output::Done;
        }
        let indication = ErrorIndication {
            teid_data: teid,
            peer_address: self.config.n3_address,
            udp_port: Some(from.port()),
        };
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        let to = if self.config.error_indication_to_source_port {
            from
        } else {
            SocketAddr::new(from.ip(), GTPU_PORT)
        };
        self.counters.error_indications_sent += 1;
        reply(to, write_error_indication(out, sequence, &indication))
    }
}

fn reply(to: SocketAddr, written: Result<usize, userplane::Error>) -> N3Output {
    match written {
        Ok(len) => N3Output::Reply { to, len },
        Err(_) => N3Output::Done,
    }
}

/// The source address of an IPv4 or IPv6 packet.
fn source(packet: &[u8]) -> Option<IpAddr> {
    address_at(packet, 12, 8)
}

/// The destination address of an IPv4 or IPv6 packet.
fn destination(packet: &[u8]) -> Option<IpAddr> {
    address_at(packet, 16, 24)
}

fn address_at(packet: &[u8], v4: usize, v6: usize) -> Option<IpAddr> {
    match packet.first()? >> 4 {
        4 => Some(IpAddr::from(*packet.get(v4..)?.first_chunk::<4>()?)),
        6 => Some(IpAddr::from(*packet.get(v6..)?.first_chunk::<16>()?)),
        _ => None,
    }
}

/// A token bucket of `rate` tokens a second, holding at most `rate`.
#[derive(Debug)]
struct TokenBucket {
    rate: u32,
    tokens: u32,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(rate: u32) -> Self {
        Self {
            rate,
            tokens: rate,
            last: None,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let last = *self.last.get_or_insert(now);
        let elapsed = now.saturating_duration_since(last).as_millis();
        let earned = elapsed * u128::from(self.rate) / 1000;
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(earned).min(self.rate);
            self.last = Some(now);
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

#[cfg(test)]
mod tests;
