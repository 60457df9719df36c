//! IKE_SA_INIT as initiator (RFC 7296 §1.2), with COOKIE (§2.6), INVALID_KE_PAYLOAD (§1.2),
//! NAT detection (§2.23) and the capability notifies of RFC 7383, RFC 9242 and RFC 8784; and
//! what both roles share: the first keys and the way to IKE_AUTH.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::nat::nat_hash;
use super::state::{Handshake, InitSent, State, Step};
use super::{
    Ctx, IkeSa, NONCE_LEN, PeerCaps, find_notify, first_error_notify, notify, random_bytes,
};
use crate::config::ConnectionConfig;
use crate::endpoint::Transmit;
use crate::error::Error;
use crate::keys::{IkeKeys, KeyLengths};
use crate::proposal::{Negotiated, ke_group};
use crate::wire::{
    ExchangeType, Flags, Header, IKE_VERSION, IkeSpi, KeId, KeyExchangePayload, Message, MessageId,
    NotifyType, Payload, PayloadType, ProtocolId,
};

/// Most INVALID_KE_PAYLOAD round trips an initiator follows.
const MAX_KE_RETRIES: u8 = 2;

impl IkeSa {
    /// Creates an initiator SA and queues its IKE_SA_INIT request.
    pub(crate) fn initiate(
        now: Instant,
        conn: Arc<ConnectionConfig>,
        spi_i: IkeSpi,
        local: SocketAddr,
        remote: SocketAddr,
        ctx: &mut Ctx<'_>,
    ) -> Result<Self, Error> {
        let mut sa = Self::blank(conn, true, spi_i, IkeSpi(0), local, remote);
        let group = (sa.conn.ike_proposals.first())
            .and_then(|p| p.first_ke())
            .ok_or(Error::Internal("no key exchange configured"))?;
        let ni = random_bytes(ctx.provider, NONCE_LEN).ok_or(Error::Internal("rng"))?;
        sa.start_init(now, Box::new(Handshake::new(ni)), group, None, 0, ctx)?;
        sa.request_initiator_ppk(now, ctx);
        Ok(sa)
    }

    fn start_init(
        &mut self,
        now: Instant,
        mut hs: Box<Handshake>,
        group: KeId,
        cookie: Option<Vec<u8>>,
        ke_retries: u8,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let kex = ke_group(group)
            .and_then(|g| ctx.provider.key_exchange(g))
            .ok_or(Error::Internal("key exchange not in provider"))?;
        let ke = kex
            .start()
            .map_err(|_| Error::Internal("key generation failed"))?;
        let mut payloads: Vec<Payload> = cookie
            .iter()
            .map(|c| notify(NotifyType::COOKIE, c.clone()))
            .collect();
        payloads.extend(self.init_request_payloads(&hs.ni, group, ke.as_ref(), ctx));
        let header = self.header(ExchangeType::IKE_SA_INIT, false, MessageId(0));
        hs.msg1 = Message { header, payloads }.emit();
        self.window.next_id = MessageId(0);
        self.queue_request(now, ExchangeType::IKE_SA_INIT, vec![hs.msg1.clone()], ctx);
        let sent = InitSent {
            ke,
            cookie,
            ke_retries,
        };
        self.state = State::Handshake(hs, Step::InitSent(sent));
        Ok(())
    }

    /// SA, KE, Ni, the NAT detection hashes and our capabilities.
    fn init_request_payloads(
        &self,
        ni: &[u8],
        group: KeId,
        ke: &dyn ActiveKeyExchange,
        ctx: &Ctx<'_>,
    ) -> Vec<Payload> {
        let proposals = (self.conn.ike_proposals.iter().enumerate())
            .map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::IKE, Vec::new()))
            .collect();
        let source = source_hash(
            self.conn.force_encap,
            self.spi_i,
            IkeSpi(0),
            self.local,
            ctx,
        );
        let mut payloads = vec![
            Payload::Sa(proposals),
            Payload::Ke(KeyExchangePayload {
                group,
                data: ke.public().to_vec(),
            }),
            Payload::Nonce(ni.to_vec()),
            notify(NotifyType::NAT_DETECTION_SOURCE_IP, source),
            notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                nat_hash(self.spi_i, IkeSpi(0), self.remote),
            ),
        ];
        let c = &self.conn;
        let announced = [
            (
                c.fragment_size.is_some(),
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
            ),
            (
                c.wants_intermediate(),
                NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED,
            ),
            (c.wants_ppk_int(), NotifyType::USE_PPK_INT),
            // Also for RFC 9867: peers without it fall back to RFC 8784.
            (c.ppk.is_some(), NotifyType::USE_PPK),
        ];
        payloads.extend(
            announced
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, t)| notify(t, Vec::new())),
        );
        payloads.extend(super::credentials::init_auth_payloads(&self.conn, false));
        payloads
    }

    /// Initiator: the IKE_SA_INIT response.
    pub(super) fn handle_init_response(
        &mut self,
        now: Instant,
        datagram: &[u8],
        ctx: &mut Ctx<'_>,
    ) {
        let Ok(msg) = Message::parse(datagram) else {
            ctx.stats.dropped_malformed += 1;
            return;
        };
        // Unauthenticated: only the state that sent IKE_SA_INIT may act on it; any other
        // state stays exactly as it was.
        let state = std::mem::replace(&mut self.state, State::Dead);
        let State::Handshake(mut hs, Step::InitSent(sent)) = state else {
            self.state = state;
            ctx.stats.dropped_unexpected += 1;
            return;
        };
        let p = &msg.payloads;
        if let Some(c) = find_notify(p, NotifyType::COOKIE) {
            return self.retry_with_cookie(now, hs, sent, c.data.clone(), ctx);
        }
        if let Some(n) = find_notify(p, NotifyType::INVALID_KE_PAYLOAD) {
            return self.retry_with_group(now, hs, sent, &n.data, ctx);
        }
        if let Some(e) = first_error_notify(p) {
            return self.fail(Error::PeerError(e), ctx);
        }
        if let Err(e) = self.accept_init_response(&msg, datagram, &mut hs, sent.ke, ctx) {
            return self.fail(e, ctx);
        }
        self.window.pending = None;
        self.float_to_nat_t();
        self.next_step_after_keys(now, hs, ctx);
    }

    /// RFC 7296 §2.6: repeat the request with the cookie first. Only once per request.
    fn retry_with_cookie(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        sent: InitSent,
        cookie: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        if sent.cookie.is_some() {
            return self.fail(Error::PeerError(NotifyType::COOKIE), ctx);
        }
        let Some(id) = self.first_id_for(sent.ke.group()) else {
            return self.fail(Error::Internal("group"), ctx);
        };
        if let Err(e) = self.start_init(now, hs, id, Some(cookie), sent.ke_retries, ctx) {
            self.fail(e, ctx);
        }
    }

    /// RFC 7296 §1.2: start over with the method the responder wants, if we offered it.
    fn retry_with_group(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        sent: InitSent,
        data: &[u8],
        ctx: &mut Ctx<'_>,
    ) {
        let wanted = data
            .get(..2)
            .map(|b| KeId(u16::from_be_bytes([b[0], b[1]])));
        let acceptable =
            wanted.filter(|w| self.conn.ike_proposals.iter().any(|s| s.accepts_ke(*w)));
        let result = match acceptable {
            Some(w) if sent.ke_retries < MAX_KE_RETRIES => {
                self.start_init(now, hs, w, sent.cookie, sent.ke_retries + 1, ctx)
            }
            _ => Err(Error::PeerError(NotifyType::INVALID_KE_PAYLOAD)),
        };
        if let Err(e) = result {
            self.fail(e, ctx);
        }
    }

    fn first_id_for(&self, group: ipsec_crypto::KeGroup) -> Option<KeId> {
        self.conn
            .ike_proposals
            .iter()
            .flat_map(|p| p.ke[0].iter())
            .copied()
            .find(|k| ke_group(*k) == Some(group))
    }

    fn accept_init_response(
        &mut self,
        msg: &Message,
        datagram: &[u8],
        hs: &mut Handshake,
        ke: Box<dyn ActiveKeyExchange>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let p = &msg.payloads;
        let syntax = Error::InvalidSyntax;
        let [answer] = sa_payload(p).ok_or_else(|| syntax("IKE_SA_INIT response without SA"))?
        else {
            return Err(syntax("responder must choose exactly one proposal"));
        };
        let suite = Negotiated::from_response(&self.conn.ike_proposals, answer, true)
            .ok_or_else(|| syntax("responder chose a proposal we did not offer"))?;
        let kep = ke_payload(p).ok_or_else(|| syntax("IKE_SA_INIT response without KE"))?;
        if Some(kep.group) != suite.ke[0] || ke_group(kep.group) != Some(ke.group()) {
            return Err(syntax("KE group does not match the chosen proposal"));
        }
        hs.nr = nonce(p)
            .ok_or_else(|| syntax("bad or missing nonce"))?
            .to_vec();
        self.spi_r = msg.header.spi_r;
        if self.spi_r == IkeSpi(0) {
            return Err(syntax("responder SPI is zero"));
        }
        self.accept_caps(p, &suite)?;
        (self.nat_local, self.nat_peer) =
            nat_detected(p, self.spi_i, self.spi_r, self.local, self.remote);
        self.nat_local |= self.conn.force_encap;
        let shared = ke
            .complete(&kep.data)
            .map_err(|e| ke_error(e, "responder KE"))?;
        hs.msg2 = datagram.to_vec();
        self.derive_initial(suite, &shared, hs, ctx)
    }

    /// What the responder announced, of what we asked for.
    fn accept_caps(&mut self, p: &[Payload], suite: &Negotiated) -> Result<(), Error> {
        self.peer = caps(p);
        self.peer.use_ppk_int &= self.conn.wants_ppk_int() && self.peer.intermediate;
        self.peer.use_ppk &= !self.peer.use_ppk_int;
        if !suite.additional_kes().is_empty() && !self.peer.intermediate {
            return Err(Error::InvalidSyntax(
                "additional key exchanges without INTERMEDIATE_EXCHANGE_SUPPORTED",
            ));
        }
        Ok(())
    }

    /// SKEYSEED and the first key generation (RFC 7296 §2.14).
    pub(super) fn derive_initial(
        &mut self,
        suite: Negotiated,
        shared: &SecretBytes,
        hs: &Handshake,
        ctx: &Ctx<'_>,
    ) -> Result<(), Error> {
        let internal = Error::Internal;
        let prf = ctx
            .provider
            .prf(suite.prf_algorithm().ok_or_else(|| internal("prf"))?)
            .ok_or_else(|| internal("prf not in provider"))?;
        let lengths = key_lengths(&suite, prf.output_len(), ctx)
            .ok_or_else(|| internal("cipher not in provider"))?;
        let keys = IkeKeys::initial(prf, lengths, shared, &hs.ni, &hs.nr, self.spi_i, self.spi_r)
            .ok_or_else(|| internal("key derivation"))?;
        self.suite = Some(suite);
        self.install_keys(keys, ctx)
            .ok_or_else(|| internal("cipher setup"))
    }

    /// After IKE_SA_INIT or an IKE_INTERMEDIATE: the next IKE_INTERMEDIATE, or IKE_AUTH.
    pub(super) fn next_step_after_keys(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        ctx: &mut Ctx<'_>,
    ) {
        let done = usize::from(hs.intermediate_count);
        if done < self.intermediate_total() {
            let group = self.expected_addke(done);
            self.send_intermediate(now, hs, done, group, ctx);
        } else {
            self.send_auth(now, hs, ctx);
        }
    }

    /// IKE_INTERMEDIATE exchanges of the initial handshake: one per additional key exchange,
    /// and at least one when the RFC 9867 PPK is mixed in.
    pub(super) fn intermediate_total(&self) -> usize {
        let adds = self.suite.as_ref().map_or(0, |s| s.additional_kes().len());
        adds.max(usize::from(self.peer.use_ppk_int))
    }
}

/// Sends an unprotected notify response to an IKE_SA_INIT request (no state kept).
pub(crate) fn reject_init(
    req: &Header,
    local: SocketAddr,
    remote: SocketAddr,
    t: NotifyType,
    data: Vec<u8>,
    ctx: &mut Ctx<'_>,
) {
    let header = Header {
        spi_i: req.spi_i,
        spi_r: IkeSpi(0),
        next_payload: PayloadType::NONE,
        version: IKE_VERSION,
        exchange: ExchangeType::IKE_SA_INIT,
        flags: Flags::new(false, true),
        message_id: MessageId(0),
        length: 0,
    };
    let data = Message {
        header,
        payloads: vec![notify(t, data)],
    }
    .emit();
    ctx.transmits.push_back(Transmit {
        local,
        remote,
        data,
    });
}

pub(crate) fn key_lengths(suite: &Negotiated, prf_len: usize, ctx: &Ctx<'_>) -> Option<KeyLengths> {
    if let Some(a) = suite.aead() {
        return Some(KeyLengths {
            prf: prf_len,
            integ: 0,
            encr: ctx.provider.aead(a)?.keymat_len(),
        });
    }
    let (c, i) = suite.cbc()?;
    Some(KeyLengths {
        prf: prf_len,
        integ: ctx.provider.integ(i)?.key_len(),
        encr: ctx.provider.cbc(c)?.key_len(),
    })
}

pub(crate) fn ke_error(e: KeError, what: &'static str) -> Error {
    match e {
        KeError::Internal => Error::Internal(what),
        _ => Error::InvalidSyntax(what),
    }
}

pub(super) fn sa_payload(p: &[Payload]) -> Option<&[crate::wire::Proposal]> {
    p.iter().find_map(|x| match x {
        Payload::Sa(v) => Some(v.as_slice()),
        _ => None,
    })
}

pub(crate) fn ke_payload(p: &[Payload]) -> Option<&KeyExchangePayload> {
    p.iter().find_map(|x| match x {
        Payload::Ke(k) => Some(k),
        _ => None,
    })
}

/// RFC 7296 §3.9: nonces are 16 to 256 octets.
pub(crate) fn nonce(p: &[Payload]) -> Option<&[u8]> {
    p.iter().find_map(|x| match x {
        Payload::Nonce(n) if (16..=256).contains(&n.len()) => Some(n.as_slice()),
        _ => None,
    })
}

/// What a peer announced in its IKE_SA_INIT message.
pub(super) fn caps(p: &[Payload]) -> PeerCaps {
    PeerCaps {
        fragmentation: find_notify(p, NotifyType::IKEV2_FRAGMENTATION_SUPPORTED).is_some(),
        intermediate: find_notify(p, NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED).is_some(),
        use_ppk: find_notify(p, NotifyType::USE_PPK).is_some(),
        use_ppk_int: find_notify(p, NotifyType::USE_PPK_INT).is_some(),
    }
}

/// RFC 7296 §2.23: `(we are behind a NAT, the peer is behind a NAT)` from the peer's hashes:
/// its DESTINATION hash is of our address as it saw it, its SOURCE hash of its own address.
pub(super) fn nat_detected(
    p: &[Payload],
    spi_i: IkeSpi,
    spi_r: IkeSpi,
    local: SocketAddr,
    remote: SocketAddr,
) -> (bool, bool) {
    let dst = find_notify(p, NotifyType::NAT_DETECTION_DESTINATION_IP);
    let sources: Vec<_> = p
        .iter()
        .filter_map(|x| match x {
            Payload::Notify(n) if n.notify_type == NotifyType::NAT_DETECTION_SOURCE_IP => {
                Some(&n.data)
            }
            _ => None,
        })
        .collect();
    match dst {
        Some(d) if !sources.is_empty() => {
            let ours = nat_hash(spi_i, spi_r, local);
            let theirs = nat_hash(spi_i, spi_r, remote);
            (d.data != ours, !sources.iter().any(|s| **s == theirs))
        }
        _ => (false, false),
    }
}

/// Our NAT_DETECTION_SOURCE_IP: the real hash, or a random one to force UDP encapsulation.
pub(super) fn source_hash(
    force: bool,
    spi_i: IkeSpi,
    spi_r: IkeSpi,
    local: SocketAddr,
    ctx: &Ctx<'_>,
) -> Vec<u8> {
    if force && let Some(r) = random_bytes(ctx.provider, 20) {
        return r;
    }
    nat_hash(spi_i, spi_r, local)
}
