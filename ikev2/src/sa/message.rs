//! The message layer of an IKE SA (RFC 7296 §2.1, §2.2; RFC 7383): Message IDs, our one
//! outstanding request and its retransmission, the cached response to the peer's last request,
//! protection, and reassembly of fragmented messages.

use std::net::SocketAddr;
use std::time::Instant;

use super::{Ctx, IkeSa};
use crate::endpoint::Transmit;
use crate::error::Error;
use crate::fragment::{Added, Reassembly};
use crate::protect::seal_fragments;
use crate::wire::{
    ExchangeType, Flags, Header, IKE_VERSION, Message, MessageId, Payload, PayloadType,
    emit_payloads,
};

/// Message IDs and what travels with them.
#[derive(Default)]
pub(crate) struct MessageWindow {
    /// The Message ID of our next request.
    pub(crate) next_id: MessageId,
    /// Our outstanding request.
    pub(crate) pending: Option<Pending>,
    /// The Message ID the peer's next request must carry.
    pub(crate) expected_id: MessageId,
    /// Our last response, resent when the request is retransmitted.
    cached: Option<CachedResponse>,
    pub(crate) reassembly: Option<Reassembly>,
    /// The digest of the request being answered, as received (fragment 1 if fragmented).
    current_request: [u8; 20],
    /// The digest of fragment 1 of the message being reassembled.
    pub(crate) reassembly_first: Option<[u8; 20]>,
}

/// Our outstanding request.
pub(crate) struct Pending {
    pub(crate) message_id: MessageId,
    /// Only a response of this exchange type answers it (RFC 7296 §2.2).
    exchange: ExchangeType,
    pub(crate) datagrams: Vec<Vec<u8>>,
    retransmits: u32,
    pub(crate) deadline: Instant,
}

/// Our last response, resent when the request is retransmitted (RFC 7296 §2.1).
struct CachedResponse {
    message_id: MessageId,
    datagrams: Vec<Vec<u8>>,
    /// SHA-1 of the request as received (fragment 1 if fragmented): a retransmission is
    /// byte-identical. Comparing bytes works across the RFC 9370 key update, after which the
    /// old request no longer verifies with the current keys; a digest keeps that without
    /// keeping the request (a collision would only resend a response).
    request: [u8; 20],
}

impl MessageWindow {
    /// Bytes of the datagrams held for retransmission and of a partial reassembly.
    pub(crate) fn held_bytes(&self) -> usize {
        let datagrams = |d: &[Vec<u8>]| d.iter().map(Vec::capacity).sum::<usize>();
        self.cached.as_ref().map_or(0, |c| datagrams(&c.datagrams))
            + self.pending.as_ref().map_or(0, |p| datagrams(&p.datagrams))
            + self.reassembly.as_ref().map_or(0, Reassembly::footprint)
    }
}

impl IkeSa {
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
        if header.flags.is_response() {
            return self.handle_response(now, (local, remote), datagram, header, ctx);
        }
        let mid = header.message_id;
        if mid.next() == self.window.expected_id {
            return self.resend_response(datagram, header, ctx);
        }
        if mid != self.window.expected_id
            || header.exchange == ExchangeType::IKE_SA_INIT
            || self.holds_parked_request()
        {
            ctx.stats.dropped_unexpected += 1;
            return;
        }
        let Some((first, plain)) = self.open(now, datagram, ctx) else {
            return;
        };
        self.timers.last_heard = Some(now);
        self.follow_peer(local, remote, ctx);
        self.window.current_request =
            (self.window.reassembly_first.take()).unwrap_or_else(|| digest(datagram));
        self.dispatch_request(now, header, first, plain, ctx);
        self.kick(now, ctx);
    }

    /// A response belongs to our outstanding request of the same Message ID and exchange;
    /// anything else is dropped before it can touch the state.
    fn handle_response(
        &mut self,
        now: Instant,
        (local, remote): (SocketAddr, SocketAddr),
        datagram: &[u8],
        header: &Header,
        ctx: &mut Ctx<'_>,
    ) {
        let answers =
            |p: &Pending| p.message_id == header.message_id && p.exchange == header.exchange;
        if !self.window.pending.as_ref().is_some_and(answers) {
            ctx.stats.dropped_unexpected += 1;
            return;
        }
        if header.exchange == ExchangeType::IKE_SA_INIT {
            return self.handle_init_response(now, datagram, ctx);
        }
        let Some((first, plain)) = self.open(now, datagram, ctx) else {
            return;
        };
        self.window.pending = None;
        self.timers.last_heard = Some(now);
        self.follow_peer(local, remote, ctx);
        self.dispatch_response(now, header, first, plain, ctx);
        self.kick(now, ctx);
    }

    /// Retransmits our request when its timer fires; gives up after the configured budget.
    pub(super) fn retransmit_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(p) = self.window.pending.as_mut() else {
            return;
        };
        if p.deadline > now {
            return;
        }
        let rt = &self.conn.retransmit;
        if p.retransmits >= rt.max_retransmits {
            return self.fail(Error::Timeout, ctx);
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

    /// Verifies and decrypts an SK or SKF message; `None` when dropped or still reassembling.
    pub(super) fn open(
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
            Some(Payload::Skf(_)) if self.peer.fragmentation => {
                self.open_fragment(now, datagram, &msg, ctx)
            }
            _ => {
                ctx.stats.dropped_malformed += 1;
                None
            }
        }
    }

    /// RFC 7383 §2.6: each fragment is verified before it is stored; the whole message once
    /// the last one is in.
    fn open_fragment(
        &mut self,
        now: Instant,
        datagram: &[u8],
        msg: &Message,
        ctx: &mut Ctx<'_>,
    ) -> Option<(PayloadType, Vec<u8>)> {
        let Some(Payload::Skf(f)) = msg.payloads.last() else {
            return None;
        };
        let Ok(plain) = self.prot_in.as_ref()?.open(datagram, f.body.len()) else {
            ctx.stats.dropped_integrity += 1;
            return None;
        };
        let limits = self.reassembly_limits(ctx);
        let part = (f.fragment_number, f.total_fragments);
        if f.fragment_number == 1 && !msg.header.flags.is_response() {
            self.window.reassembly_first = Some(digest(datagram));
        }
        let mid = msg.header.message_id;
        let reassembly = &mut self.window.reassembly;
        match Reassembly::add(reassembly, now, &limits, mid, part, f.first_inner, plain) {
            Added::Complete(first, whole) => Some((first, whole)),
            Added::Pending => None,
            Added::Dropped => {
                ctx.stats.dropped_fragments += 1;
                None
            }
            Added::TooLarge => self.reassembly_too_large(ctx),
        }
    }

    /// Resends the cached response for a retransmitted request: only for a byte-identical copy
    /// of the request, so for a fragmented request only on fragment 1 (RFC 7383 §2.6.1).
    fn resend_response(&mut self, datagram: &[u8], header: &Header, ctx: &mut Ctx<'_>) {
        let cached = self
            .window
            .cached
            .as_ref()
            .filter(|c| c.message_id == header.message_id && c.request == digest(datagram));
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

    pub(super) fn header(
        &self,
        exchange: ExchangeType,
        response: bool,
        message_id: MessageId,
    ) -> Header {
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: PayloadType::NONE,
            version: IKE_VERSION,
            exchange,
            flags: Flags::new(self.initiator, response),
            message_id,
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
    pub(super) fn send_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Option<(Header, PayloadType, Vec<u8>)> {
        let header = self.header(exchange, false, self.window.next_id);
        let Some((datagrams, first, plain)) = self.protect(&header, payloads, ctx) else {
            self.fail(Error::Internal("could not protect a request"), ctx);
            return None;
        };
        self.queue_request(now, exchange, datagrams, ctx);
        Some((header, first, plain))
    }

    /// Records and sends request datagrams with the next Message ID.
    pub(super) fn queue_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        datagrams: Vec<Vec<u8>>,
        ctx: &mut Ctx<'_>,
    ) {
        self.transmit(&datagrams, ctx);
        self.window.pending = Some(Pending {
            message_id: self.window.next_id,
            exchange,
            datagrams,
            retransmits: 0,
            deadline: now + self.conn.retransmit.interval(0),
        });
        self.window.next_id = self.window.next_id.next();
    }

    /// Sends a protected response to the current request and caches it.
    pub(super) fn respond(
        &mut self,
        _now: Instant,
        exchange: ExchangeType,
        payloads: Vec<Payload>,
        ctx: &mut Ctx<'_>,
    ) -> Option<(Header, PayloadType, Vec<u8>)> {
        let header = self.header(exchange, true, self.window.expected_id);
        let (datagrams, first, plain) = self.protect(&header, &payloads, ctx)?;
        self.cache_and_send_response(datagrams, ctx);
        Some((header, first, plain))
    }

    /// Sends the response to the current request, keeps it for retransmissions of that request
    /// and moves on to the next Message ID.
    pub(super) fn cache_and_send_response(&mut self, datagrams: Vec<Vec<u8>>, ctx: &mut Ctx<'_>) {
        self.transmit(&datagrams, ctx);
        self.window.cached = Some(CachedResponse {
            message_id: self.window.expected_id,
            datagrams,
            request: self.window.current_request,
        });
        self.window.expected_id = self.window.expected_id.next();
    }

    /// Notes the digest of the IKE_SA_INIT request a responder SA answers.
    pub(super) fn answering(&mut self, request: &[u8]) {
        self.window.current_request = digest(request);
    }

    fn transmit(&self, datagrams: &[Vec<u8>], ctx: &mut Ctx<'_>) {
        for d in datagrams {
            ctx.transmits.push_back(Transmit {
                local: self.local,
                remote: self.remote,
                data: d.clone(),
            });
        }
    }
}

/// The digest a cached response is matched with.
fn digest(request: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(request).into()
}
