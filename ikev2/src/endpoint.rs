//! The endpoint: demultiplexes datagrams to IKE SAs by SPI, answers new IKE_SA_INIT requests
//! (with COOKIE under load), and collects transmits, deadlines and events.
//!
//! Call order, as in quinn-proto: feed inputs with [`Endpoint::handle_datagram`],
//! [`Endpoint::handle_timeout`] and commands such as [`Endpoint::connect`]; then drain
//! [`Endpoint::poll_transmit`] and [`Endpoint::poll_event`], and arm a timer for
//! [`Endpoint::poll_timeout`]. `now` must never go backwards.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsec_crypto::{CryptoProvider, SecretBytes};

use crate::cert::WallClock;
use crate::child_request::ChildRequest;
use crate::command_error::CommandError;
use crate::config::{ChildConfig, ConnectionConfig, EndpointConfig};
use crate::cookie::{CookieInput, CookieJar};
use crate::error::Error;
use crate::event::{Event, SaId, SaSnapshot};
use crate::half_open::{HalfOpen, Refusal, source_key};
use crate::sa::reject_init;
use crate::sa::{
    ChildAsk, Ctx, EapStep, IkeSa, InitReject, RespondInit, Task, find_notify, random_bytes,
};
use crate::spi_book::SpiBook;
use crate::stats::Stats;
use crate::wire::{EspSpi, ExchangeType, Header, IkeSpi, Message, NotifyType, Payload};

/// Most half-open SAs given up to admit one request.
const MAX_EVICTIONS: usize = 4;

/// Builds a [`Ctx`] borrowing the endpoint's queues (a macro so the SA map stays borrowable).
macro_rules! ctx {
    ($ep:ident) => {
        Ctx {
            provider: $ep.provider,
            config: &$ep.config,
            transmits: &mut $ep.transmits,
            events: &mut $ep.events,
            stats: &mut $ep.stats,
            spawned: &mut $ep.spawned,
            wall_clock: $ep.wall_clock,
            spis: &mut $ep.spis,
            half_open_room: usize::MAX,
        }
    };
}

/// A datagram to send from `local` to `remote`.
///
/// On port 4500 the driver prepends the 4-octet non-ESP marker to IKE messages (RFC 3948 §2.2);
/// a NAT keepalive ([`Transmit::is_nat_keepalive`]) is sent as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub data: Vec<u8>,
}

impl Transmit {
    /// The one-octet 0xFF NAT keepalive of RFC 3948 §2.3 (no IKE message is that short).
    pub fn is_nat_keepalive(&self) -> bool {
        self.data == [0xff]
    }
}

/// A sans-IO IKEv2 endpoint holding any number of IKE SAs.
pub struct Endpoint {
    config: EndpointConfig,
    provider: &'static dyn CryptoProvider,
    /// Boxed: the map's spare capacity then costs a pointer per slot, not a whole SA.
    sas: HashMap<IkeSpi, Box<IkeSa>>,
    /// Responder SAs by the initiator's SPI and address, to spot retransmitted or replayed
    /// IKE_SA_INIT requests.
    by_initiator: HashMap<(IkeSpi, SocketAddr), IkeSpi>,
    /// Responder SAs still in their initial exchanges: count, bytes, count per source.
    half_open: HalfOpen,
    cookies: CookieJar,
    /// Inbound ESP SPIs in use across all IKE SAs and reserved by the driver.
    spis: SpiBook,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
    spawned: Vec<IkeSa>,
    wall_clock: Option<WallClock>,
    /// Each SA's earliest deadline, as recorded in [`IkeSa::scheduled`]; entries whose SA has
    /// moved on are stale and skipped (lazy invalidation), so both timer calls are O(log n).
    timers: BinaryHeap<Reverse<(Instant, IkeSpi)>>,
}

impl Endpoint {
    /// A new endpoint using `provider` for all crypto and randomness.
    pub fn new(config: EndpointConfig, provider: &'static dyn CryptoProvider) -> Self {
        Self {
            config,
            provider,
            sas: HashMap::new(),
            by_initiator: HashMap::new(),
            half_open: HalfOpen::default(),
            cookies: CookieJar::default(),
            spis: SpiBook::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            spawned: Vec::new(),
            wall_clock: None,
            timers: BinaryHeap::new(),
        }
    }

    /// Starts an IKE SA as initiator.
    ///
    /// # Errors
    /// When the connection has no usable proposal or the provider lacks an algorithm.
    pub fn connect(
        &mut self,
        now: Instant,
        conn: Arc<ConnectionConfig>,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<SaId, Error> {
        let spi = self.fresh_spi().ok_or(Error::Internal("rng"))?;
        let mut ctx = ctx!(self);
        let mut sa = IkeSa::initiate(now, conn, spi, local, remote, &mut ctx)?;
        // RFC 7296 §2.4: INITIAL_CONTACT only when no other IKE SA reaches this peer (of any
        // connection: the peer may know several of ours by one identity).
        sa.initial_contact = !self
            .sas
            .values()
            .any(|s| s.remote.ip() == remote.ip() && !s.is_dead());
        let id = sa.id;
        self.sas.insert(spi, Box::new(sa));
        self.settle(spi, now);
        Ok(id)
    }

    /// Handles one received datagram (without any non-ESP marker).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.stats.datagrams_received += 1;
        let Ok(header) = Header::parse(data) else {
            self.stats.dropped_malformed += 1;
            return;
        };
        let new_request = header.exchange == ExchangeType::IKE_SA_INIT
            && !header.flags.is_response()
            && header.spi_r == IkeSpi(0);
        if new_request {
            self.handle_init_request(now, local, remote, &header, data);
            return;
        }
        // The original initiator sets the I flag; our SPI is the other side's.
        let ours = if header.flags.is_initiator() {
            header.spi_r
        } else {
            header.spi_i
        };
        let room = self.half_open_room(ours);
        let mut ctx = ctx!(self);
        ctx.half_open_room = room;
        let Some(sa) = self.sas.get_mut(&ours) else {
            ctx.stats.dropped_unknown_spi += 1;
            return;
        };
        if !sa.is_addressed_by(&header) {
            ctx.stats.dropped_unknown_spi += 1;
            return;
        }
        sa.handle(now, local, remote, data, &header, &mut ctx);
        self.settle(ours, now);
    }

    /// Bytes a half-open SA may still add: its own cap and the budget's room, whichever is
    /// less (unbounded for other SAs, which are authenticated or ours).
    fn half_open_room(&self, spi: IkeSpi) -> usize {
        match self.sas.get(&spi) {
            Some(sa) if sa.counted_half_open => self
                .config
                .half_open_sa_memory
                .saturating_sub(sa.charged)
                .min(self.half_open.room(&self.config)),
            _ => usize::MAX,
        }
    }

    /// Fires expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = Vec::new();
        while let Some(&Reverse((t, spi))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            if let Some(sa) = self.sas.get_mut(&spi).filter(|s| s.scheduled == Some(t)) {
                sa.scheduled = None;
                due.push(spi);
            }
        }
        for spi in due {
            let mut ctx = ctx!(self);
            if let Some(sa) = self.sas.get_mut(&spi) {
                sa.handle_timeout(now, &mut ctx);
            }
            self.settle(spi, now);
        }
        self.spis.expire(now, self.config.spi_reuse_delay);
        self.prune_timers();
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmits.pop_front()?;
        self.stats.datagrams_sent += 1;
        Some(t)
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline; call [`Endpoint::handle_timeout`] then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        // Every mutation ends with `schedule`, which leaves a live entry on top.
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Records the SA's current earliest deadline in the timer heap (after anything that may
    /// have changed it), then drops stale entries from the top.
    fn schedule(&mut self, spi: IkeSpi) {
        if let Some(sa) = self.sas.get_mut(&spi) {
            let next = sa.poll_timeout();
            if next != sa.scheduled {
                sa.scheduled = next;
                if let Some(t) = next {
                    self.timers.push(Reverse((t, spi)));
                }
            }
        }
        self.prune_timers();
    }

    /// Pops stale entries off the top; rebuilds the heap when stale ones dominate it, so its
    /// size stays proportional to the number of SAs.
    fn prune_timers(&mut self) {
        while let Some(&Reverse((t, spi))) = self.timers.peek() {
            if self.sas.get(&spi).is_some_and(|s| s.scheduled == Some(t)) {
                break;
            }
            self.timers.pop();
        }
        if self.timers.len() > 2 * self.sas.len() + 64 {
            self.timers = self
                .sas
                .iter()
                .filter_map(|(k, s)| s.scheduled.map(|t| Reverse((t, *k))))
                .collect();
        }
    }

    /// Replaces the connections (configuration reload). New IKE SAs use the new list; existing
    /// ones keep the configuration they were made with until the driver closes them.
    pub fn set_connections(&mut self, connections: Vec<Arc<ConnectionConfig>>) {
        self.config.connections = connections;
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Number of IKE SAs, half-open ones included.
    pub fn sa_count(&self) -> usize {
        self.sas.len()
    }

    /// Snapshots of every IKE SA, ordered by id.
    pub fn sas(&self) -> Vec<SaSnapshot> {
        let mut v: Vec<SaSnapshot> = self.sas.values().map(|s| s.snapshot()).collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// A snapshot of one IKE SA (without building every other one).
    pub fn sa(&self, id: SaId) -> Option<SaSnapshot> {
        self.sas.get(&id.0).map(|s| s.snapshot())
    }

    /// Whether an IKE SA with this id exists.
    pub fn has_sa(&self, id: SaId) -> bool {
        self.sas.contains_key(&id.0)
    }

    fn handle_init_request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        header: &Header,
        data: &[u8],
    ) {
        let spi_i = header.spi_i;
        if let Some(ours) = self.by_initiator.get(&(spi_i, remote)).copied() {
            let mut ctx = ctx!(self);
            if let Some(sa) = self.sas.get_mut(&ours) {
                // A retransmitted IKE_SA_INIT gets the cached response; a replay is dropped.
                sa.handle(now, local, remote, data, header, &mut ctx);
            }
            self.schedule(ours);
            return;
        }
        let source = source_key(remote.ip(), &self.config);
        if !self.admit(now, source, IkeSa::half_open_floor(data.len())) {
            return;
        }
        let Ok(msg) = Message::parse(data) else {
            self.stats.dropped_malformed += 1;
            return;
        };
        let busy = self.half_open.count() >= self.config.cookie_threshold
            || self.half_open.of_source(source) >= self.config.cookie_threshold_per_source;
        if busy && !self.cookie_ok(now, &msg, remote) {
            self.send_cookie(now, &msg, local, remote);
            return;
        }
        let Some(spi_r) = self.fresh_spi() else {
            return;
        };
        let req = RespondInit {
            msg: &msg,
            datagram: data,
            local,
            remote,
            spi_r,
        };
        self.respond_init(now, header, req, source);
    }

    /// Whether a new half-open SA from `source` holding `bytes` fits the limits (counted if
    /// not). Over the byte budget, half-open SAs of heavier sources make room.
    fn admit(&mut self, now: Instant, source: IpAddr, bytes: usize) -> bool {
        for _ in 0..MAX_EVICTIONS {
            match self.half_open.check(source, bytes, &self.config) {
                Ok(()) => return true,
                Err(Refusal::Count) => {
                    self.stats.dropped_half_open_limit += 1;
                    return false;
                }
                Err(Refusal::TooLarge) => break,
                Err(Refusal::Budget) => {
                    let Some(victim) = self.half_open.eviction_for(source) else {
                        break;
                    };
                    self.evict(now, victim);
                }
            }
        }
        self.stats.dropped_half_open_memory += 1;
        false
    }

    /// Gives up half-open SA `spi` (see [`HalfOpen::eviction_for`]).
    fn evict(&mut self, now: Instant, spi: IkeSpi) {
        let mut ctx = ctx!(self);
        if let Some(sa) = self.sas.get_mut(&spi) {
            tracing::debug!(sa = %sa.id, "half-open SA evicted for a lighter source");
            sa.evict(&mut ctx);
            ctx.stats.half_open_evicted += 1;
        }
        self.settle(spi, now);
    }

    fn respond_init(
        &mut self,
        now: Instant,
        header: &Header,
        req: RespondInit<'_>,
        source: IpAddr,
    ) {
        let conns = self.config.connections.clone();
        let queued = self.transmits.len();
        let mut ctx = ctx!(self);
        match IkeSa::respond_init(now, &conns, req, &mut ctx) {
            Ok(mut sa) => {
                // The exact size is known only now: over a limit, the SA and its response go.
                let bytes = sa.held_bytes();
                if !self.admit(now, source, bytes) {
                    self.transmits.truncate(queued);
                    return;
                }
                sa.charged = bytes;
                self.half_open.add(source, req.spi_r, bytes);
                self.by_initiator
                    .insert((req.msg.header.spi_i, req.remote), req.spi_r);
                self.sas.insert(req.spi_r, Box::new(sa));
                self.schedule(req.spi_r);
            }
            Err(InitReject::Notify(t, d)) => {
                tracing::debug!(remote = %req.remote, notify = ?t, "IKE_SA_INIT rejected");
                reject_init(header, req.local, req.remote, t, d, &mut ctx);
            }
            Err(InitReject::Drop) => ctx.stats.dropped_malformed += 1,
        }
    }

    fn cookie_input<'m>(msg: &'m Message, remote: SocketAddr) -> Option<CookieInput<'m>> {
        let ni = msg.payloads.iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.as_slice()),
            _ => None,
        })?;
        Some(CookieInput {
            ni,
            ip: remote.ip(),
            spi_i: msg.header.spi_i,
        })
    }

    fn cookie_periods(&self) -> (Duration, Duration) {
        (self.config.cookie_secret_lifetime, self.config.cookie_grace)
    }

    fn cookie_ok(&mut self, now: Instant, msg: &Message, remote: SocketAddr) -> bool {
        let (Some(got), Some(input)) = (
            find_notify(&msg.payloads, NotifyType::COOKIE),
            Self::cookie_input(msg, remote),
        ) else {
            return false;
        };
        let periods = self.cookie_periods();
        self.cookies
            .check(self.provider, now, periods, &input, &got.data)
    }

    fn send_cookie(&mut self, now: Instant, msg: &Message, local: SocketAddr, remote: SocketAddr) {
        let periods = self.cookie_periods();
        let cookie = Self::cookie_input(msg, remote)
            .and_then(|input| self.cookies.make(self.provider, now, periods, &input));
        let Some(cookie) = cookie else {
            return;
        };
        self.stats.cookies_sent += 1;
        crate::sa::cookie_demanded(remote, &mut self.events);
        let mut ctx = ctx!(self);
        reject_init(
            &msg.header,
            local,
            remote,
            NotifyType::COOKIE,
            cookie,
            &mut ctx,
        );
    }

    /// After anything ran on an SA: SPIs it took, IKE SAs a rekey created, its half-open
    /// accounting, removal when dead, and its deadline.
    fn settle(&mut self, spi: IkeSpi, now: Instant) {
        self.after_initial_contact(spi, now);
        let owner = self.sas.contains_key(&spi).then_some(spi);
        self.spis.claim(owner, now);
        self.adopt(now);
        if let Some(sa) = self.sas.get(&spi) {
            let live = sa.inbound_spis();
            self.spis.reconcile(spi, &live, now);
        }
        self.reap(spi, now);
        self.spis.expire(now, self.config.spi_reuse_delay);
        self.schedule(spi);
    }

    /// Keeps the half-open accounting true and removes a dead SA with its index entry.
    fn reap(&mut self, spi: IkeSpi, now: Instant) {
        let Some(sa) = self.sas.get_mut(&spi) else {
            return;
        };
        if sa.counted_half_open {
            let source = source_key(sa.origin.ip(), &self.config);
            if !sa.is_half_open() || sa.is_dead() {
                sa.counted_half_open = false;
                self.half_open
                    .remove(source, spi, std::mem::take(&mut sa.charged));
            } else {
                let bytes = sa.held_bytes();
                self.half_open.recharge(sa.charged, bytes);
                sa.charged = bytes;
            }
        }
        if sa.is_dead() {
            self.spis.orphan(spi, now);
            let key = (sa.spi_i, sa.origin);
            if self.by_initiator.get(&key) == Some(&spi) {
                self.by_initiator.remove(&key);
            }
            let (id, reason) = (sa.id, sa.close_reason());
            self.sas.remove(&spi);
            self.events.push_back(Event::IkeSaClosed { sa: id, reason });
        }
    }

    /// RFC 7296 §2.4: once an IKE SA whose peer sent INITIAL_CONTACT is established, every
    /// other IKE SA with that authenticated identity is gone at the peer; drop them (no DELETE).
    fn after_initial_contact(&mut self, spi: IkeSpi, now: Instant) {
        let Some(sa) = self.sas.get_mut(&spi) else {
            return;
        };
        if !sa.take_initial_contact() {
            return;
        }
        let Some(peer) = sa.authenticated_peer().cloned() else {
            return;
        };
        let stale: Vec<IkeSpi> = self
            .sas
            .iter()
            .filter(|(k, s)| **k != spi && s.authenticated_peer() == Some(&peer))
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            let mut ctx = ctx!(self);
            if let Some(s) = self.sas.get_mut(&k) {
                s.drop_for_peer_restart(&mut ctx);
            }
            self.reap(k, now);
        }
    }

    /// Takes in the IKE SAs that rekeys created, with the SPIs of the Child SAs they took
    /// over.
    fn adopt(&mut self, now: Instant) {
        for sa in std::mem::take(&mut self.spawned) {
            let own = if sa.initiator { sa.spi_i } else { sa.spi_r };
            if !sa.initiator {
                self.by_initiator.insert((sa.spi_i, sa.origin), own);
            }
            let live = sa.inbound_spis();
            self.spis.reconcile(own, &live, now);
            self.sas.insert(own, Box::new(sa));
            let mut ctx = ctx!(self);
            if let Some(sa) = self.sas.get_mut(&own) {
                sa.resume_tasks(now, &mut ctx);
            }
            self.spis.claim(Some(own), now);
            self.schedule(own);
        }
    }

    /// Runs `f` on an SA (a command), then settles it.
    fn command(
        &mut self,
        now: Instant,
        sa: SaId,
        f: impl FnOnce(&mut IkeSa, &mut Ctx<'_>),
    ) -> Result<(), CommandError> {
        let spi = sa.0;
        let mut ctx = ctx!(self);
        let Some(s) = self.sas.get_mut(&spi) else {
            return Err(CommandError::UnknownSa(sa));
        };
        f(s, &mut ctx);
        self.settle(spi, now);
        Ok(())
    }

    /// Deletes an IKE SA and its Child SAs (INFORMATIONAL with DELETE).
    pub fn close(&mut self, now: Instant, sa: SaId) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| s.queue(now, Task::DeleteIke, ctx))
    }

    /// Rekeys an IKE SA now (CREATE_CHILD_SA, RFC 7296 §1.3.2).
    pub fn rekey_ike(&mut self, now: Instant, sa: SaId) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| s.queue(now, Task::RekeyIke, ctx))
    }

    /// Rekeys the Child SA whose inbound SPI is `inbound_spi` (RFC 7296 §1.3.3).
    pub fn rekey_child(
        &mut self,
        now: Instant,
        sa: SaId,
        inbound_spi: EspSpi,
    ) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| {
            s.queue(now, Task::RekeyChild { inbound_spi }, ctx)
        })
    }

    /// Deletes one Child SA.
    pub fn close_child(
        &mut self,
        now: Instant,
        sa: SaId,
        inbound_spi: EspSpi,
    ) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| {
            s.queue(now, Task::DeleteChild { inbound_spi }, ctx)
        })
    }

    /// Creates another Child SA from the connection's template `name` (RFC 7296 §1.3.1), with
    /// the template's selectors. The outcome is [`Event::ChildSaEstablished`] or
    /// [`Event::ChildSaFailed`] (with no tag). While one from the same template is pending,
    /// another call adds nothing.
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`], [`CommandError::UnknownChildTemplate`], and
    /// [`CommandError::TooManyChildRequests`].
    pub fn create_child(&mut self, now: Instant, sa: SaId, name: &str) -> Result<(), CommandError> {
        let sa = self.current(sa);
        let (config, template) = self.template(sa, name)?;
        let ask = ChildAsk {
            config,
            local_ts: template.local_ts.clone(),
            remote_ts: template.remote_ts.clone(),
            notifies: Vec::new(),
            tag: None,
        };
        self.request_child(now, sa, ask)
    }

    /// Creates another Child SA from the template `request.template`, with the request's
    /// traffic selectors and private-use status notifies, whoever started the IKE SA (as the
    /// original responder our request carries I=0 and our own Message ID, RFC 7296 §2.2). The
    /// outcome is [`Event::ChildSaEstablished`] whose [`ChildSa::tag`](crate::ChildSa::tag) is
    /// `request.tag`, or [`Event::ChildSaFailed`] with that tag; a refusal with
    /// TEMPORARY_FAILURE is retried a few times first. A request queued when the IKE SA is
    /// rekeyed moves to the new one; a command naming the old one follows it. While a request
    /// with the same tag is pending, another adds nothing.
    ///
    /// # Errors
    /// An unknown SA or template; selectors that are empty, more than
    /// [`MAX_REQUEST_SELECTORS`](crate::MAX_REQUEST_SELECTORS) or wider than the template's;
    /// notifies outside the private-use status range, more than
    /// [`MAX_STATUS_NOTIFIES`](crate::MAX_STATUS_NOTIFIES) or larger than
    /// [`MAX_STATUS_NOTIFY_DATA`](crate::MAX_STATUS_NOTIFY_DATA); more than
    /// [`MAX_PENDING_CHILD_REQUESTS`](crate::MAX_PENDING_CHILD_REQUESTS) pending. Nothing is
    /// queued then.
    pub fn create_child_with(
        &mut self,
        now: Instant,
        sa: SaId,
        request: ChildRequest,
    ) -> Result<(), CommandError> {
        let sa = self.current(sa);
        let (config, template) = self.template(sa, &request.template)?;
        request.check(template)?;
        let ask = ChildAsk {
            config,
            local_ts: request.local_ts,
            remote_ts: request.remote_ts,
            notifies: request.notifies,
            tag: Some(request.tag),
        };
        self.request_child(now, sa, ask)
    }

    fn request_child(&mut self, now: Instant, sa: SaId, ask: ChildAsk) -> Result<(), CommandError> {
        let mut result = Ok(());
        self.command(now, sa, |s, ctx| result = s.request_child(now, ask, ctx))?;
        result
    }

    /// The IKE SA that now stands for `sa`: its successor if a rekey replaced it.
    fn current(&self, mut sa: SaId) -> SaId {
        // Each rekey adds one link; the old SAs go soon, so chains are short.
        for _ in 0..8 {
            match self.sas.get(&sa.0).and_then(|s| s.successor) {
                Some(next) if self.sas.contains_key(&next.0) => sa = next,
                _ => break,
            }
        }
        sa
    }

    /// The index and template of the child `name` of the SA's connection.
    fn template(&self, sa: SaId, name: &str) -> Result<(usize, &ChildConfig), CommandError> {
        let s = self.sas.get(&sa.0).ok_or(CommandError::UnknownSa(sa))?;
        (s.conn.children.iter().enumerate())
            .find(|(_, c)| c.name == name)
            .ok_or_else(|| CommandError::UnknownChildTemplate {
                sa,
                name: name.to_owned(),
            })
    }

    /// The datapath reports a byte or packet lifetime: soft starts a rekey, hard deletes.
    pub fn child_sa_expired(
        &mut self,
        now: Instant,
        sa: SaId,
        inbound_spi: EspSpi,
        hard: bool,
    ) -> Result<(), CommandError> {
        let task = if hard {
            Task::DeleteChild { inbound_spi }
        } else {
            Task::RekeyChild { inbound_spi }
        };
        self.command(now, sa, |s, ctx| s.queue(now, task, ctx))
    }

    /// Supplies the PPK asked for with [`Event::PpkNeeded`]: its ID and key, or `None` when the
    /// source could not provide it (the connection's policy then fails closed or falls back).
    pub fn provide_ppk(
        &mut self,
        now: Instant,
        sa: SaId,
        ppk: Option<(Vec<u8>, SecretBytes)>,
    ) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| s.provide_ppk(now, ppk, ctx))
    }

    /// The driver's EAP step for [`Event::EapStarted`] or [`Event::EapMessage`] (RFC 7296
    /// §2.16): the next EAP packet, or, when the method is done, success with its MSK or
    /// failure.
    pub fn eap_respond(
        &mut self,
        now: Instant,
        sa: SaId,
        step: EapStep,
    ) -> Result<(), CommandError> {
        self.command(now, sa, |s, ctx| s.eap_respond(now, step, ctx))
    }

    /// Tells the engine the wall-clock time, `unix_secs` seconds since the Unix epoch, at
    /// `now`. Certificate validity periods are checked against this time advanced by each
    /// later `now`; call it at start and after the system clock is stepped. Until it is
    /// called, certificate authentication fails.
    pub fn set_unix_time(&mut self, now: Instant, unix_secs: u64) {
        self.wall_clock = Some(WallClock::new(now, unix_secs));
    }

    /// The datapath received ESP from `remote` for an SPI it does not know: report INVALID_SPI
    /// to that peer in its established IKE SA (RFC 7296 §1.5).
    pub fn report_invalid_spi(
        &mut self,
        now: Instant,
        remote: IpAddr,
        spi: EspSpi,
    ) -> Result<(), CommandError> {
        let found = self
            .sas
            .iter()
            .find(|(_, s)| s.remote.ip() == remote && s.is_established())
            .map(|(k, _)| *k);
        let Some(own) = found else {
            return Err(CommandError::NoSaWithPeer(remote));
        };
        self.command(now, SaId(own), |s, ctx| s.send_invalid_spi(now, spi, ctx))
    }

    /// Queues a new Child SA without the command's checks, for the engine's own tests.
    #[cfg(test)]
    pub(crate) fn request_child_unchecked(&mut self, now: Instant, sa: SaId, ask: ChildAsk) {
        self.request_child(now, sa, ask).expect("queued");
    }

    /// The SA with this id, for the engine's own tests.
    #[cfg(test)]
    pub(crate) fn sa_mut(&mut self, id: SaId) -> Option<&mut IkeSa> {
        self.sas.get_mut(&id.0).map(|b| &mut **b)
    }

    /// The driver installed an ESP SA with inbound `spi` by other means (a manual SA): the
    /// engine will not choose it for a Child SA. Refused in the reserved range (0-255) and
    /// when taken, by the engine or an earlier reservation.
    pub fn reserve_spi(&mut self, spi: EspSpi) -> Result<(), CommandError> {
        if !spi.is_assignable() {
            return Err(CommandError::ReservedSpi(spi));
        }
        if !self.spis.reserve(spi) {
            return Err(CommandError::SpiTaken(spi));
        }
        Ok(())
    }

    /// Ends a reservation made with [`Endpoint::reserve_spi`].
    pub fn release_spi(&mut self, spi: EspSpi) -> Result<(), CommandError> {
        if self.spis.release(spi) {
            Ok(())
        } else {
            Err(CommandError::NotReserved(spi))
        }
    }

    /// Whether inbound `spi` is taken, by a Child SA of any IKE SA (or one gone less than
    /// `spi_reuse_delay` ago), an offer in flight, or a driver reservation.
    pub fn spi_in_use(&self, spi: EspSpi) -> bool {
        self.spis.is_taken(spi)
    }

    /// Half-open IKE SAs and the bytes charged to them (see `half_open_memory`).
    pub fn half_open(&self) -> (usize, usize) {
        (self.half_open.count(), self.half_open.bytes())
    }

    fn fresh_spi(&self) -> Option<IkeSpi> {
        for _ in 0..8 {
            let spi = IkeSpi::from_slice(&random_bytes(self.provider, 8)?)?;
            if spi != IkeSpi(0) && !self.sas.contains_key(&spi) {
                return Some(spi);
            }
        }
        None
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("sas", &self.sas.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
