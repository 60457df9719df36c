//! One IKE SA: the message layer (Message IDs, retransmission, cached responses, reassembly)
//! and the exchanges of the initial handshake.

mod auth;
mod child;
mod children;
mod create_child;
mod eap;
mod ike_collision;
mod informational;
mod init;
mod intermediate;
mod memory;
mod nat;
mod ppk;
mod ppk_child;
mod reject;
mod tasks;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, CryptoProvider, Prf, SecretBytes};

use crate::config::{ConnectionConfig, EndpointConfig};
use crate::endpoint::Transmit;
use crate::error::Error;
use crate::event::{CloseReason, Event, SaId};
use crate::fragment::{Added, Reassembly};
use crate::keys::{IkeKeys, IntAuthChain};
use crate::proposal::Negotiated;
use crate::protect::{Protection, seal_fragments};
use crate::stats::Stats;
use crate::wire::{
    ExchangeType, Flags, Header, IKE_VERSION, Identification, IkeSpi, Message, MessageId, Notify,
    NotifyType, Payload, PayloadType, emit_payloads, parse_payloads,
};

pub use eap::EapStep;
pub(crate) use init::{InitReject, RespondInit, reject_init};
pub(crate) use reject::cookie_demanded;
pub(crate) use tasks::Task;

use children::ChildEntry;
use create_child::Agreement;
use tasks::Active;

/// What a handler needs from the endpoint.
pub(crate) struct Ctx<'a> {
    pub(crate) provider: &'static dyn CryptoProvider,
    pub(crate) config: &'a EndpointConfig,
    pub(crate) transmits: &'a mut VecDeque<Transmit>,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) stats: &'a mut Stats,
    /// IKE SAs created by a rekey, for the endpoint to adopt.
    pub(crate) spawned: &'a mut Vec<IkeSa>,
    /// The driver's wall-clock time, for certificate validity.
    pub(crate) wall_clock: Option<crate::cert::WallClock>,
    /// Inbound ESP SPIs in use across the endpoint.
    pub(crate) spis: &'a mut crate::spi_book::SpiBook,
    /// Bytes a half-open SA may still add (its cap and the endpoint's budget).
    pub(crate) half_open_room: usize,
}

/// Where the handshake is.
enum State {
    /// Initiator: IKE_SA_INIT sent.
    InitSent {
        ke: Box<dyn ActiveKeyExchange>,
        cookie: Option<Vec<u8>>,
        ke_retries: u8,
    },
    /// Initiator: IKE_INTERMEDIATE sent.
    IntermediateSent(intermediate::IntermediateSent),
    /// Initiator: IKE_AUTH waits for the PPK from an external source.
    AwaitPpk,
    /// Initiator: IKE_AUTH sent.
    AuthSent(auth::AuthSent),
    /// Responder: waiting for the IKE_INTERMEDIATE of additional exchange `index`.
    AwaitIntermediate {
        index: usize,
    },
    /// Responder: waiting for IKE_AUTH.
    AwaitAuth,
    Established,
    /// Failed or closed; the endpoint removes the SA.
    Dead,
}

/// What the peer announced in IKE_SA_INIT.
#[derive(Clone, Copy, Debug, Default)]
struct PeerCaps {
    fragmentation: bool,
    intermediate: bool,
    /// RFC 8784 PPK in IKE_AUTH.
    use_ppk: bool,
    /// RFC 9867 PPK in IKE_INTERMEDIATE (then `use_ppk` is false).
    use_ppk_int: bool,
}

/// Our outstanding request.
struct Pending {
    message_id: u32,
    /// Only a response of this exchange type answers it (RFC 7296 §2.2).
    exchange: ExchangeType,
    datagrams: Vec<Vec<u8>>,
    retransmits: u32,
    deadline: Instant,
}

/// Our last response, resent when the request is retransmitted (RFC 7296 §2.1).
struct CachedResponse {
    message_id: u32,
    datagrams: Vec<Vec<u8>>,
    /// SHA-1 of the request as received (fragment 1 if fragmented): a retransmission is
    /// byte-identical. Comparing bytes works across the RFC 9370 key update, after which the
    /// old request no longer verifies with the current keys; a digest keeps that without
    /// keeping the request (a collision would only resend a response).
    request: [u8; 20],
}

/// An IKE SA.
pub(crate) struct IkeSa {
    pub(crate) id: SaId,
    pub(crate) conn: Arc<ConnectionConfig>,
    pub(crate) initiator: bool,
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    /// The peer address the SA was created with (the endpoint's index key).
    pub(crate) origin: SocketAddr,
    state: State,
    suite: Option<Negotiated>,
    ni: Vec<u8>,
    nr: Vec<u8>,
    keys: Option<IkeKeys>,
    prot_out: Option<Protection>,
    prot_in: Option<Protection>,
    int_auth: IntAuthChain,
    intermediate_count: u8,
    /// RealMessage1 and RealMessage2 of RFC 7296 §2.15.
    msg1: Vec<u8>,
    msg2: Vec<u8>,
    peer: PeerCaps,
    /// We are behind a NAT: the peer saw another address than ours (we send keepalives).
    nat_local: bool,
    /// The peer is behind a NAT (or forces encapsulation).
    nat_peer: bool,
    keepalive_at: Option<Instant>,
    next_message_id: u32,
    pending: Option<Pending>,
    expected_request_id: u32,
    cached_response: Option<CachedResponse>,
    reassembly: Option<Reassembly>,
    /// Responder: when a half-open SA is given up.
    half_open_deadline: Option<Instant>,
    ppk_used: bool,
    /// Whether the endpoint counts this SA as half-open.
    pub(crate) counted_half_open: bool,
    /// Bytes the endpoint charged to this SA while it is half-open.
    pub(crate) charged: usize,
    /// The deadline the endpoint's timer heap holds for this SA.
    pub(crate) scheduled: Option<Instant>,
    /// Notifies waiting for an INFORMATIONAL of ours.
    pending_notifies: Vec<Payload>,
    /// SPIs we already reported as INVALID_SPI (bounded).
    invalid_spis_sent: Vec<u32>,
    /// The digest of the request being answered, as received (fragment 1 if fragmented).
    current_request: [u8; 20],
    /// The digest of fragment 1 of the message being reassembled.
    reassembly_first: Option<[u8; 20]>,
    /// Failure already reported.
    failed: bool,
    children: Vec<ChildEntry>,
    tasks: VecDeque<Task>,
    active: Option<Active>,
    /// Responder: the peer's CREATE_CHILD_SA exchange waiting for its next IKE_FOLLOWUP_KE.
    followup: Option<Box<Agreement>>,
    /// This SA was replaced by a rekey and only waits to be deleted.
    rekeyed: bool,
    /// A simultaneous IKE SA rekey being resolved (RFC 7296 §2.8.2).
    ike_collision: Option<Box<ike_collision::IkeCollision>>,
    ike_rekey_at: Option<Instant>,
    ike_expire_at: Option<Instant>,
    dpd_at: Option<Instant>,
    last_heard: Option<Instant>,
    ppk_state: ppk::PpkState,
    /// Initiator: IKE_AUTH waits for an external PPK.
    auth_paused: bool,
    /// Responder: the IKE_AUTH request waiting for an external PPK.
    parked: Option<Vec<Payload>>,
    /// Responder: the IKE_INTERMEDIATE request (header, first inner type, plaintext) waiting
    /// for an external PPK (RFC 9867).
    parked_intermediate: Option<(Header, PayloadType, Vec<u8>)>,
    /// Responder: the CREATE_CHILD_SA request waiting for an external PPK (RFC 9867).
    parked_cc: Option<Vec<Payload>>,
    /// Responder: EAP authentication of the initiator in progress (RFC 7296 §2.16).
    eap: Option<Box<eap::EapServer>>,
    /// Why the SA ended, once it has.
    close_reason: Option<CloseReason>,
    /// The peer's identity from IKE_AUTH (authenticated once the SA is established).
    peer_id: Option<Identification>,
    /// Initiator: send INITIAL_CONTACT in IKE_AUTH (no other IKE SA to this peer exists).
    pub(crate) initial_contact: bool,
    /// The peer sent INITIAL_CONTACT in IKE_AUTH; acted on once the SA is established.
    peer_initial_contact: bool,
}

impl IkeSa {
    fn blank(
        conn: Arc<ConnectionConfig>,
        initiator: bool,
        spi_i: u64,
        spi_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Self {
        let own = if initiator { spi_i } else { spi_r };
        Self {
            id: SaId(IkeSpi(own)),
            conn,
            initiator,
            spi_i,
            spi_r,
            local,
            remote,
            origin: remote,
            state: State::Dead,
            suite: None,
            ni: Vec::new(),
            nr: Vec::new(),
            keys: None,
            prot_out: None,
            prot_in: None,
            int_auth: IntAuthChain::new(),
            intermediate_count: 0,
            msg1: Vec::new(),
            msg2: Vec::new(),
            peer: PeerCaps::default(),
            nat_local: false,
            nat_peer: false,
            keepalive_at: None,
            next_message_id: 0,
            pending: None,
            expected_request_id: 0,
            cached_response: None,
            reassembly: None,
            half_open_deadline: None,
            ppk_used: false,
            counted_half_open: false,
            charged: 0,
            scheduled: None,
            pending_notifies: Vec::new(),
            invalid_spis_sent: Vec::new(),
            current_request: [0; 20],
            reassembly_first: None,
            failed: false,
            children: Vec::new(),
            tasks: VecDeque::new(),
            active: None,
            followup: None,
            rekeyed: false,
            ike_collision: None,
            ike_rekey_at: None,
            ike_expire_at: None,
            dpd_at: None,
            last_heard: None,
            ppk_state: ppk::PpkState::Idle,
            auth_paused: false,
            parked: None,
            parked_intermediate: None,
            parked_cc: None,
            eap: None,
            close_reason: None,
            peer_id: None,
            initial_contact: false,
            peer_initial_contact: false,
        }
    }

    /// Whether the SA is established and not replaced by a rekey.
    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, State::Established) && !self.rekeyed
    }

    /// Whether a message's header fits this SA: the peer's role flag and, once known, the
    /// peer's SPI. Our own SPI already selected the SA; the other one is checked too so that a
    /// message naming only one of the two SPIs is not ours (RFC 7296 §2.2).
    pub(crate) fn is_addressed_by(&self, header: &Header) -> bool {
        let from_original_initiator = header.flags.is_initiator();
        if from_original_initiator == self.initiator {
            return false;
        }
        if self.initiator {
            self.spi_r == 0 || header.spi_r.0 == self.spi_r
        } else {
            header.spi_i.0 == self.spi_i
        }
    }

    /// Why the SA ended (`Local` if it never said).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.close_reason.unwrap_or(CloseReason::Local)
    }

    /// The peer's identity, once this SA is established.
    pub(crate) fn authenticated_peer(&self) -> Option<&Identification> {
        self.peer_id.as_ref().filter(|_| self.is_established())
    }

    /// Whether the peer asserted with INITIAL_CONTACT that this is its only IKE SA with us
    /// (RFC 7296 §2.4); true once, after establishment.
    pub(crate) fn take_initial_contact(&mut self) -> bool {
        self.is_established() && std::mem::take(&mut self.peer_initial_contact)
    }

    /// Drops the SA without a DELETE: the peer restarted and no longer has it.
    pub(crate) fn drop_for_peer_restart(&mut self, ctx: &mut Ctx<'_>) {
        tracing::info!(sa = ?self.id, "peer sent INITIAL_CONTACT in a new IKE SA: this one is gone at the peer");
        self.close(CloseReason::PeerRestarted, ctx);
    }

    /// Whether the endpoint should remove this SA.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// Whether the SA is still in its initial handshake as responder (counts as half-open).
    pub(crate) fn is_half_open(&self) -> bool {
        self.half_open_deadline.is_some()
    }

    /// The earliest deadline of this SA.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [
            self.pending.as_ref().map(|p| p.deadline),
            self.half_open_deadline,
            self.reassembly.as_ref().map(|r| r.deadline),
            self.lifecycle_deadline(),
            self.ppk_deadline(),
            self.keepalive_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires expired timers: retransmission, give-up, half-open expiry, reassembly expiry.
    pub(crate) fn handle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.reassembly.as_ref().is_some_and(|r| r.deadline <= now) {
            self.reassembly = None;
        }
        if self.half_open_deadline.is_some_and(|d| d <= now) {
            self.fail(Error::Timeout, ctx);
            return;
        }
        self.ppk_timeout(now, ctx);
        self.keepalive_timeout(now, ctx);
        self.lifecycle_timeout(now, ctx);
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        if p.deadline > now {
            return;
        }
        let rt = &self.conn.retransmit;
        if p.retransmits >= rt.max_retransmits {
            self.fail(Error::Timeout, ctx);
            return;
        }
        p.retransmits += 1;
        p.deadline = now + rt.interval(p.retransmits);
        ctx.stats.retransmits += 1;
        for d in &p.datagrams {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
    }

    /// Handles a datagram addressed to this SA (`header` is its parsed header).
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        datagram: &[u8],
        header: &Header,
        ctx: &mut Ctx<'_>,
    ) {
        let mid = header.message_id.0;
        if header.flags.is_response() {
            // A response belongs to our outstanding request of the same Message ID and
            // exchange; anything else is dropped before it can touch the state.
            let answers = |p: &Pending| p.message_id == mid && p.exchange == header.exchange;
            if !self.pending.as_ref().is_some_and(answers) {
                ctx.stats.dropped_unexpected += 1;
                return;
            }
            if header.exchange == ExchangeType::IKE_SA_INIT {
                self.handle_init_response(now, datagram, ctx);
                return;
            }
            let Some((first, plain)) = self.open(now, datagram, ctx) else {
                return;
            };
            self.pending = None;
            self.last_heard = Some(now);
            self.follow_peer(local, remote, ctx);
            self.dispatch_response(now, header, first, plain, ctx);
            self.kick(now, ctx);
            return;
        }
        if mid.wrapping_add(1) == self.expected_request_id {
            self.resend_response(datagram, header, ctx);
            return;
        }
        if mid != self.expected_request_id
            || header.exchange == ExchangeType::IKE_SA_INIT
            || self.parked.is_some()
            || self.parked_intermediate.is_some()
            || self.parked_cc.is_some()
        {
            ctx.stats.dropped_unexpected += 1;
            return;
        }
        let Some((first, plain)) = self.open(now, datagram, ctx) else {
            return;
        };
        self.last_heard = Some(now);
        self.follow_peer(local, remote, ctx);
        self.current_request = self
            .reassembly_first
            .take()
            .unwrap_or_else(|| digest(datagram));
        self.dispatch_request(now, header, first, plain, ctx);
        self.kick(now, ctx);
    }

    fn dispatch_response(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let Ok(payloads) = parse_payloads(first, &plain) else {
            ctx.stats.dropped_malformed += 1;
            self.fail(Error::InvalidSyntax("malformed protected response"), ctx);
            return;
        };
        if header.exchange == ExchangeType::IKE_AUTH {
            self.note_auth_payloads(&payloads);
        }
        let state = std::mem::replace(&mut self.state, State::Dead);
        match (header.exchange, state) {
            (ExchangeType::IKE_INTERMEDIATE, State::IntermediateSent(sent)) => {
                self.handle_intermediate_response(now, header, first, &plain, &payloads, sent, ctx);
            }
            (ExchangeType::IKE_AUTH, State::AuthSent(sent)) => {
                self.handle_auth_response(now, &payloads, sent, ctx);
            }
            (ex, State::Established) => {
                self.state = State::Established;
                match (ex, self.active.take()) {
                    (ExchangeType::CREATE_CHILD_SA, Some(Active::CreateChild(cc))) => {
                        self.handle_create_child_response(now, &payloads, *cc, ctx)
                    }
                    (ExchangeType::IKE_FOLLOWUP_KE, Some(Active::Followup(sent))) => {
                        self.handle_followup_response(now, &payloads, *sent, ctx)
                    }
                    (ExchangeType::INFORMATIONAL, Some(Active::Informational(kind))) => {
                        self.handle_informational_response(kind, ctx)
                    }
                    (_, active) => {
                        self.active = active;
                        ctx.stats.dropped_unexpected += 1;
                    }
                }
            }
            (_, other) => {
                self.state = other;
                ctx.stats.dropped_unexpected += 1;
            }
        }
    }

    fn dispatch_request(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let Ok(payloads) = parse_payloads(first, &plain) else {
            ctx.stats.dropped_malformed += 1;
            // RFC 7296 §2.21.2: a protected request that is malformed gets INVALID_SYNTAX.
            self.respond(
                now,
                header.exchange,
                vec![notify(NotifyType::INVALID_SYNTAX, vec![])],
                ctx,
            );
            self.fail(Error::InvalidSyntax("malformed protected request"), ctx);
            return;
        };
        if let Some(t) = unsupported_critical(&payloads) {
            self.respond(
                now,
                header.exchange,
                vec![notify(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![t.0])],
                ctx,
            );
            return;
        }
        if header.exchange == ExchangeType::IKE_AUTH {
            self.note_auth_payloads(&payloads);
        }
        let state = std::mem::replace(&mut self.state, State::Dead);
        match (header.exchange, state) {
            (ExchangeType::IKE_INTERMEDIATE, State::AwaitIntermediate { index }) => {
                self.handle_intermediate_request(now, header, first, &plain, &payloads, index, ctx);
            }
            (ExchangeType::IKE_AUTH, State::AwaitAuth) => {
                self.handle_auth_request(now, &payloads, ctx);
            }
            (ex, State::Established) => {
                self.state = State::Established;
                match ex {
                    ExchangeType::INFORMATIONAL => {
                        self.handle_informational_request(now, &payloads, ctx)
                    }
                    ExchangeType::CREATE_CHILD_SA => {
                        self.handle_create_child_request(now, &payloads, ctx)
                    }
                    ExchangeType::IKE_FOLLOWUP_KE => {
                        self.handle_followup_request(now, &payloads, ctx)
                    }
                    _ => ctx.stats.dropped_unexpected += 1,
                }
            }
            (ex, other) => {
                self.state = other;
                if matches!(
                    ex,
                    ExchangeType::CREATE_CHILD_SA
                        | ExchangeType::INFORMATIONAL
                        | ExchangeType::IKE_FOLLOWUP_KE
                ) {
                    // CVE-2026-78135's class: nothing is created or deleted before IKE_AUTH.
                    tracing::debug!(sa = ?self.id, exchange = ?ex, "request before IKE_AUTH completed dropped");
                    ctx.stats.dropped_before_auth += 1;
                } else {
                    ctx.stats.dropped_unexpected += 1;
                }
            }
        }
    }

    /// Keeps the peer's identity and INITIAL_CONTACT from an IKE_AUTH message (they count only
    /// once the SA is established, that is, authenticated).
    fn note_auth_payloads(&mut self, payloads: &[Payload]) {
        let id = payloads.iter().find_map(|p| match (p, self.initiator) {
            (Payload::IdI(id), false) | (Payload::IdR(id), true) => Some(id),
            _ => None,
        });
        if let Some(id) = id.filter(|_| !self.is_established()) {
            self.peer_id = Some(id.clone());
        }
        if find_notify(payloads, NotifyType::INITIAL_CONTACT).is_some() && !self.is_established() {
            self.peer_initial_contact = true;
        }
    }

    /// Verifies and decrypts an SK or SKF message; `None` when dropped or still reassembling.
    fn open(
        &mut self,
        now: Instant,
        datagram: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Option<(PayloadType, Vec<u8>)> {
        let Ok(msg) = Message::parse(datagram) else {
            ctx.stats.dropped_malformed += 1;
            return None;
        };
        let prot = self.prot_in.as_ref()?;
        match msg.payloads.last() {
            Some(Payload::Sk(sk)) => match prot.open(datagram, sk.body.len()) {
                Ok(plain) => Some((sk.first_inner, plain)),
                Err(_) => {
                    ctx.stats.dropped_integrity += 1;
                    None
                }
            },
            Some(Payload::Skf(f)) if self.peer.fragmentation => {
                // RFC 7383 §2.6: verify each fragment before it is stored.
                let Ok(plain) = prot.open(datagram, f.body.len()) else {
                    ctx.stats.dropped_integrity += 1;
                    return None;
                };
                let limits = self.reassembly_limits(ctx);
                let part = (f.fragment_number, f.total_fragments);
                if f.fragment_number == 1 && !msg.header.flags.is_response() {
                    self.reassembly_first = Some(digest(datagram));
                }
                match Reassembly::add(
                    &mut self.reassembly,
                    now,
                    &limits,
                    msg.header.message_id.0,
                    part,
                    f.first_inner,
                    plain,
                ) {
                    Added::Complete(first, whole) => Some((first, whole)),
                    Added::Pending => None,
                    Added::Dropped => {
                        ctx.stats.dropped_fragments += 1;
                        None
                    }
                    Added::TooLarge => self.reassembly_too_large(ctx),
                }
            }
            _ => {
                ctx.stats.dropped_malformed += 1;
                None
            }
        }
    }

    /// Resends the cached response for a retransmitted request: only for a byte-identical copy
    /// of the request, so for a fragmented request only on fragment 1 (RFC 7383 §2.6.1).
    fn resend_response(&mut self, datagram: &[u8], header: &Header, ctx: &mut Ctx<'_>) {
        let cached = self
            .cached_response
            .as_ref()
            .filter(|c| c.message_id == header.message_id.0 && c.request == digest(datagram));
        let Some(cached) = cached else {
            ctx.stats.dropped_unexpected += 1;
            return;
        };
        ctx.stats.responses_resent += 1;
        for d in &cached.datagrams {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
    }

    /// RFC 7296 §2.23: with a NAT in the path, the peer's address is the one of its latest
    /// authenticated message (NAT bindings change; the initiator floats to port 4500).
    fn follow_peer(&mut self, local: SocketAddr, remote: SocketAddr, ctx: &mut Ctx<'_>) {
        if (local, remote) == (self.local, self.remote)
            || !(self.nat_detected() || local.port() == NAT_T_PORT)
        {
            return;
        }
        tracing::info!(sa = ?self.id, from = %self.remote, to = %remote, "peer address changed");
        self.local = local;
        self.remote = remote;
        if self.is_established() {
            ctx.events.push_back(Event::PeerAddressChanged {
                sa: self.id,
                local,
                remote,
            });
        }
    }

    /// Whether either side is behind a NAT (or encapsulation is forced).
    pub(crate) fn nat_detected(&self) -> bool {
        self.nat_local || self.nat_peer
    }

    /// Moves IKE to port 4500 after NAT detection (RFC 7296 §2.23, RFC 3948).
    fn float_to_nat_t(&mut self) {
        if self.nat_detected() && self.local.port() != NAT_T_PORT {
            self.local.set_port(NAT_T_PORT);
            if self.remote.port() == IKE_PORT {
                self.remote.set_port(NAT_T_PORT);
            }
        }
    }

    /// Sends a NAT keepalive when due (we are behind the NAT).
    fn keepalive_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.keepalive_at.is_some_and(|t| t <= now) {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: vec![0xff],
            });
            self.keepalive_at = Some(now + self.conn.nat_keepalive);
        }
    }

    fn header(&self, exchange: ExchangeType, response: bool, message_id: u32) -> Header {
        Header {
            spi_i: IkeSpi(self.spi_i),
            spi_r: IkeSpi(self.spi_r),
            next_payload: PayloadType::NONE,
            version: IKE_VERSION,
            exchange,
            flags: Flags::new(self.initiator, response),
            message_id: MessageId(message_id),
            length: 0,
        }
    }

    /// Protects `payloads` into one datagram, or into fragments when it is too large and the
    /// peer supports RFC 7383. Returns the datagrams and the plaintext (for IntAuth).
    fn protect(
        &self,
        header: &Header,
        payloads: &[Payload],
        ctx: &Ctx<'_>,
    ) -> Option<(Vec<Vec<u8>>, PayloadType, Vec<u8>)> {
        let prot = self.prot_out.as_ref()?;
        let mut plain = Vec::new();
        let first = emit_payloads(payloads, &mut plain);
        let whole = prot.seal(ctx.provider, header, first, None, &plain)?;
        let limit = self.conn.fragment_size.filter(|_| self.peer.fragmentation);
        let datagrams = match limit {
            Some(max) if whole.len() > max => {
                seal_fragments(prot, ctx.provider, header, first, &plain, max)?
            }
            _ => vec![whole],
        };
        Some((datagrams, first, plain))
    }

    /// Sends a protected request; returns its header, first inner type and plaintext.
    fn send_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Option<(Header, PayloadType, Vec<u8>)> {
        let header = self.header(exchange, false, self.next_message_id);
        let Some((datagrams, first, plain)) = self.protect(&header, payloads, ctx) else {
            self.fail(Error::Internal("could not protect a request"), ctx);
            return None;
        };
        self.queue_request(now, exchange, datagrams, ctx);
        Some((header, first, plain))
    }

    /// Records and sends request datagrams with the next Message ID.
    fn queue_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        datagrams: Vec<Vec<u8>>,
        ctx: &mut Ctx<'_>,
    ) {
        for d in &datagrams {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
        self.pending = Some(Pending {
            message_id: self.next_message_id,
            exchange,
            datagrams,
            retransmits: 0,
            deadline: now + self.conn.retransmit.interval(0),
        });
        self.next_message_id = self.next_message_id.wrapping_add(1);
    }

    /// Sends a protected response to the current request and caches it.
    fn respond(
        &mut self,
        _now: Instant,
        exchange: ExchangeType,
        payloads: Vec<Payload>,
        ctx: &mut Ctx<'_>,
    ) -> Option<(Header, PayloadType, Vec<u8>)> {
        let header = self.header(exchange, true, self.expected_request_id);
        let (datagrams, first, plain) = self.protect(&header, &payloads, ctx)?;
        self.cache_and_send_response(datagrams, ctx);
        Some((header, first, plain))
    }

    fn cache_and_send_response(&mut self, datagrams: Vec<Vec<u8>>, ctx: &mut Ctx<'_>) {
        for d in &datagrams {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
        self.cached_response = Some(CachedResponse {
            message_id: self.expected_request_id,
            datagrams,
            request: self.current_request,
        });
        self.expected_request_id = self.expected_request_id.wrapping_add(1);
    }

    /// Marks the SA failed and tells the driver.
    fn fail(&mut self, error: Error, ctx: &mut Ctx<'_>) {
        // The state may be a `Dead` placeholder while a handler runs; `failed` is the truth.
        if self.failed {
            return;
        }
        self.failed = true;
        tracing::info!(sa = ?self.id, %error, "IKE SA failed");
        self.note_auth_failure(&error, ctx);
        self.close(CloseReason::Failed, ctx);
        ctx.stats.ike_sas_failed += 1;
        ctx.events
            .push_back(Event::IkeSaFailed { sa: self.id, error });
    }

    /// Installs keys of a new generation for both directions.
    fn install_keys(&mut self, keys: IkeKeys, ctx: &Ctx<'_>) -> Option<()> {
        let suite = self.suite.as_ref()?;
        let (out_e, out_a, in_e, in_a) = if self.initiator {
            (&keys.sk_ei, &keys.sk_ai, &keys.sk_er, &keys.sk_ar)
        } else {
            (&keys.sk_er, &keys.sk_ar, &keys.sk_ei, &keys.sk_ai)
        };
        self.prot_out = Some(Protection::new(ctx.provider, suite, out_e, out_a)?);
        self.prot_in = Some(Protection::new(ctx.provider, suite, in_e, in_a)?);
        self.keys = Some(keys);
        Some(())
    }

    /// Drops what only the initial exchanges needed once the SA and its first Child SA are
    /// established: the IKE_SA_INIT messages, nonces and SK_pi/SK_pr (AUTH and KEYMAT inputs,
    /// RFC 7296 §2.15, §2.17), the RFC 9242 IntAuth chain, the initial PPK, and the SK_e/SK_a
    /// copies that the message protection already holds. Only SK_d stays for CREATE_CHILD_SA;
    /// the cached response stays too (RFC 7296 §2.1).
    pub(super) fn forget_handshake_state(&mut self) {
        self.msg1 = Vec::new();
        self.msg2 = Vec::new();
        self.ni = Vec::new();
        self.nr = Vec::new();
        self.int_auth = IntAuthChain::new();
        if let Some(k) = self.keys.as_mut() {
            k.keep_only_sk_d();
        }
        self.ppk_state = ppk::PpkState::Idle;
        self.reassembly_first = None;
    }

    fn prf(&self, ctx: &Ctx<'_>) -> Option<&'static dyn Prf> {
        ctx.provider.prf(self.suite.as_ref()?.prf_algorithm()?)
    }
}

/// The digest a cached response is matched with.
fn digest(request: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(request).into()
}

/// A notify payload with no SPI.
pub(crate) fn notify(t: NotifyType, data: Vec<u8>) -> Payload {
    Payload::Notify(Notify::new(t, data))
}

/// The first notify of type `t` in `payloads`.
pub(crate) fn find_notify(payloads: &[Payload], t: NotifyType) -> Option<&Notify> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type == t => Some(n),
        _ => None,
    })
}

/// The first error notify in `payloads`.
pub(crate) fn first_error_notify(payloads: &[Payload]) -> Option<NotifyType> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type.is_error() => Some(n.notify_type),
        _ => None,
    })
}

/// RFC 7296 §2.5: an unknown payload with the critical bit set must be rejected.
pub(crate) fn unsupported_critical(payloads: &[Payload]) -> Option<PayloadType> {
    payloads.iter().find_map(|p| match p {
        Payload::Unknown {
            payload_type,
            critical: true,
            ..
        } => Some(*payload_type),
        _ => None,
    })
}

/// A random value from the provider.
pub(crate) fn random_bytes(provider: &dyn CryptoProvider, n: usize) -> Option<Vec<u8>> {
    let mut v = vec![0; n];
    provider.fill_random(&mut v).ok()?;
    Some(v)
}

/// IKE's port and the NAT-T port (RFC 3948).
pub(crate) const IKE_PORT: u16 = 500;
pub(crate) const NAT_T_PORT: u16 = 4500;

/// Nonce length we send: at least half the PRF key size and at least 128 bits (RFC 7296 §2.10).
pub(crate) const NONCE_LEN: usize = 32;

/// A secret copy that travels into a Child SA or fallback state.
pub(crate) fn dup(s: &SecretBytes) -> SecretBytes {
    s.dangerous_duplicate()
}

#[cfg(test)]
mod tests;
