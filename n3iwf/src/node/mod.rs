//! The N3IWF node: configuration, AMF associations, UE contexts and the inputs and outputs
//! that join them. Sans-IO: the daemon turns what the IKE engine, the N2 transport and the NAS
//! TCP endpoint report into `handle_*` calls, and acts on the [`Output`]s.
//!
//! # Call order
//!
//! 1. (A) Getters any time: [`N3iwf::stats`], [`N3iwf::ues`], [`N3iwf::amfs`].
//! 2. (B) `handle_*` for each input, with `now`:
//!    - N2: [`N3iwf::handle_n2_up`] when an association is up (NG Setup goes out),
//!      [`N3iwf::handle_ngap`] for each received PDU, [`N3iwf::handle_n2_restarted`],
//!      [`N3iwf::handle_n2_down`];
//!    - IKE engine: [`N3iwf::handle_eap_started`] (`Event::EapStarted`, with the UE's outer
//!      address), [`N3iwf::handle_eap_message`] (`Event::EapMessage`),
//!      [`N3iwf::handle_signalling_sa_up`] (the IKE SA and its first Child SA established),
//!      [`N3iwf::handle_ike_sa_closed`], [`N3iwf::handle_ike_sa_rekeyed`],
//!      [`N3iwf::handle_ue_address_changed`];
//!    - NAS TCP: [`N3iwf::handle_nas_tcp_connected`], [`N3iwf::handle_nas_tcp_data`],
//!      [`N3iwf::handle_nas_tcp_closed`];
//!    - time: [`N3iwf::handle_timeout`] once [`N3iwf::poll_timeout`] has passed.
//! 3. (C) Commands: [`N3iwf::close_ue`], [`N3iwf::reset_amf`].
//! 4. (D) Drain [`N3iwf::poll_output`] after every input, acting on each output in order, then
//!    arm a timer for [`N3iwf::poll_timeout`].
//!
//! Every input is total: unknown IKE SAs, connections and AMFs are counted and ignored, and
//! octets from the network never panic the core.

mod amf;
mod config;
mod ctx;
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
mod handles;
mod n2;
mod output;
mod pool;
mod ran_ids;
mod sessions;
mod stats;
mod teids;
mod timers;
mod user_plane;
mod view;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub use config::{AmfPeer, ConfigError, GuardTimers, InnerPoolConfig, Limits, N3iwfConfig};
pub use handles::{AmfRef, IkeSaRef, NasConnId, StreamId};
pub use output::{EapAnswer, EapSuccess, Event, IkeSaGone, Output};
pub use stats::{Direction, EndCause, Stats};
pub use user_plane::{ChildRequestId, UserPlaneChild, UserPlaneChildRequest, UserPlaneSession};
pub use view::{AmfView, PhaseTimings, UeView};

pub(crate) use ctx::Ctx;
pub(crate) use handles::UeId;

use amf::Amfs;
use ctx::UlTunnels;
use pool::InnerPool;
use ran_ids::RanIds;
use teids::TeidPool;
use timers::Timers;

use crate::ngap::AmfUeNgapId;
use crate::ue::{AwaitRegistration, Step, Ue, UeCommon, UeKeys, UeState};
use crate::wire::eap5g::Eap5g;

/// A sans-IO N3IWF: the AMF associations and every UE context. See the module documentation
/// for the call order.
pub struct N3iwf {
    shared: Shared,
    ues: UeTable,
}

/// Everything a UE transition may touch besides the UE table.
struct Shared {
    config: N3iwfConfig,
    out: VecDeque<Output>,
    stats: Stats,
    amfs: Amfs,
    ran_ids: RanIds,
    pool: InnerPool,
    teids: TeidPool,
    ul_tunnels: UlTunnels,
    next_child_request: u64,
}

/// The UE contexts and their indexes, kept in step with each UE's [`UeKeys`].
#[derive(Default)]
struct UeTable {
    ues: HashMap<UeId, Ue>,
    by_sa: HashMap<IkeSaRef, UeId>,
    by_conn: HashMap<NasConnId, UeId>,
    by_amf_ue: HashMap<(AmfRef, AmfUeNgapId), UeId>,
    timers: Timers,
    next_id: u64,
}

impl N3iwf {
    /// # Errors
    /// The configuration's first [`ConfigError`].
    pub fn new(config: N3iwfConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let shared = Shared {
            amfs: Amfs::new(&config.amfs),
            pool: InnerPool::new(config.inner_pool, config.nas_address),
            teids: TeidPool::new(config.limits.max_pdu_sessions),
            ul_tunnels: UlTunnels::new(),
            next_child_request: 0,
            config,
            out: VecDeque::new(),
            stats: Stats::default(),
            ran_ids: RanIds::default(),
        };
        Ok(Self {
            shared,
            ues: UeTable::default(),
        })
    }

    /// The engine's `Event::EapStarted`: the UE's first IKE_AUTH request had no AUTH. Answers
    /// with EAP-Request/5G-Start, or EAP-Failure when the UE limit is reached or no AMF is
    /// ready.
    pub fn handle_eap_started(&mut self, sa: IkeSaRef, outer: SocketAddr, now: Instant) {
        if self.ues.by_sa.contains_key(&sa) {
            self.shared.stats.eap_duplicates += 1;
            return;
        }
        self.shared.stats.eap_started += 1;
        let refusal = if self.ues.ues.len() >= self.shared.config.limits.max_ues {
            Some(EndCause::UeLimit)
        } else if !self.shared.amfs.any_ready() {
            Some(EndCause::NoAmf)
        } else {
            None
        };
        if let Some(cause) = refusal {
            let mut ctx = self.shared.ctx(now);
            ctx.eap(sa, EapAnswer::Failure);
            ctx.stats.count_end(cause, false);
            ctx.event(Event::UeEnded {
                sa,
                ran_ue_ngap_id: None,
                registered: false,
                cause,
            });
            return;
        }
        self.ues.start(&mut self.shared, sa, outer, now);
    }

    /// The engine's `Event::EapMessage`: an EAP packet from the UE.
    pub fn handle_eap_message(&mut self, sa: IkeSaRef, message: &[u8], now: Instant) {
        self.step_by_sa(sa, now, |state, common, ctx| {
            state.on_eap(common, message, ctx)
        });
    }

    /// The final IKE_AUTH completed: the IKE SA and the signalling Child SA are up.
    pub fn handle_signalling_sa_up(&mut self, sa: IkeSaRef, now: Instant) {
        self.step_by_sa(sa, now, |state, common, ctx| {
            state.on_signalling_up(common, ctx)
        });
    }

    /// The IKE SA is gone (`Event::IkeSaClosed`, with the failure that preceded it). The SA of
    /// a UE context that already ended is no news, and is not counted as unknown.
    pub fn handle_ike_sa_closed(&mut self, sa: IkeSaRef, why: IkeSaGone, now: Instant) {
        if let Some(&id) = self.ues.by_sa.get(&sa) {
            self.ues
                .step(&mut self.shared, now, id, |state, common, ctx| {
                    state.on_ike_gone(common, why, ctx)
                });
        }
    }

    /// The IKE SA was rekeyed: the UE now goes by `new`.
    pub fn handle_ike_sa_rekeyed(&mut self, old: IkeSaRef, new: IkeSaRef, now: Instant) {
        self.step_by_sa(old, now, |state, common, _| {
            state.on_ike_rekeyed(common, new)
        });
    }

    /// The UE's outer address or port changed (a NAT rebinding seen by the engine): later
    /// User Location Information carries the new one.
    pub fn handle_ue_address_changed(&mut self, sa: IkeSaRef, outer: SocketAddr, now: Instant) {
        self.step_by_sa(sa, now, |state, common, _| {
            common.outer = outer;
            Step::Next(state)
        });
    }

    /// A TCP connection to the NAS address and port, from `peer` (the UE's inner address). It is
    /// refused (closed) unless a registered UE holds that address.
    pub fn handle_nas_tcp_connected(&mut self, conn: NasConnId, peer: IpAddr, now: Instant) {
        let owner = match peer {
            IpAddr::V4(v4) => self.shared.pool.owner(v4),
            IpAddr::V6(_) => None,
        };
        let Some(id) = owner.filter(|_| !self.ues.by_conn.contains_key(&conn)) else {
            let mut ctx = self.shared.ctx(now);
            ctx.stats.nas_tcp_refused += 1;
            ctx.tcp_close(conn);
            return;
        };
        self.ues
            .step(&mut self.shared, now, id, |state, common, ctx| {
                state.on_tcp_connected(common, conn, ctx)
            });
    }

    /// Octets read from a NAS TCP connection.
    pub fn handle_nas_tcp_data(&mut self, conn: NasConnId, octets: &[u8], now: Instant) {
        let Some(&id) = self.ues.by_conn.get(&conn) else {
            self.shared.stats.unknown_references += 1;
            return;
        };
        self.ues
            .step(&mut self.shared, now, id, |state, common, ctx| {
                state.on_tcp_data(common, octets, ctx)
            });
    }

    /// A NAS TCP connection closed (by the UE, or after [`Output::NasTcpClose`]).
    pub fn handle_nas_tcp_closed(&mut self, conn: NasConnId, now: Instant) {
        let Some(&id) = self.ues.by_conn.get(&conn) else {
            return;
        };
        self.ues
            .step(&mut self.shared, now, id, |state, common, _| {
                state.on_tcp_closed(common, conn)
            });
    }

    /// Acts on every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(id) = self.ues.timers.pop_due(now) {
            self.ues
                .step(&mut self.shared, now, id, |state, common, ctx| {
                    state.on_timeout(common, ctx)
                });
        }
        self.ng_setup_due(now);
    }

    /// The operator closes a UE: its IKE SA is deleted and the AMF asked to release it.
    pub fn close_ue(&mut self, sa: IkeSaRef, now: Instant) {
        self.step_by_sa(sa, now, |state, common, ctx| state.close(common, ctx));
    }

    /// The next output, in the order they happened.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.shared.out.pop_front()
    }

    /// The earliest deadline; call [`N3iwf::handle_timeout`] when it has passed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ue = self.ues.timers.next();
        let amf = self.shared.amfs.next_deadline();
        ue.into_iter().chain(amf).min()
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    pub fn config(&self) -> &N3iwfConfig {
        &self.shared.config
    }

    /// Every UE context, in no particular order.
    pub fn ues(&self) -> impl Iterator<Item = UeView> + '_ {
        self.ues.ues.values().map(UeView::of)
    }

    /// The UE context of an IKE SA.
    pub fn ue(&self, sa: IkeSaRef) -> Option<UeView> {
        let id = self.ues.by_sa.get(&sa)?;
        self.ues.ues.get(id).map(UeView::of)
    }

    pub fn ue_count(&self) -> usize {
        self.ues.ues.len()
    }

    /// Inner addresses handed out.
    pub fn inner_addresses_in_use(&self) -> usize {
        self.shared.pool.in_use()
    }

    /// PDU sessions holding a DL TEID (set up or being set up), over every UE.
    pub fn pdu_sessions_in_use(&self) -> usize {
        self.shared.teids.in_use()
    }

    /// Every configured AMF.
    pub fn amfs(&self) -> impl Iterator<Item = AmfView> + '_ {
        self.shared
            .amfs
            .iter()
            .map(|(amf, link)| AmfView::of(amf, link))
    }

    fn step_by_sa(
        &mut self,
        sa: IkeSaRef,
        now: Instant,
        f: impl FnOnce(UeState, &mut UeCommon, &mut Ctx<'_>) -> Step,
    ) {
        let Some(&id) = self.ues.by_sa.get(&sa) else {
            self.shared.stats.unknown_references += 1;
            return;
        };
        self.ues.step(&mut self.shared, now, id, f);
    }
}

/// Moves `id`'s entry from the `old` key to the `new` one. The old entry goes only if it still
/// names `id`, not another UE that took the key since.
fn move_key<K: Eq + std::hash::Hash>(
    map: &mut HashMap<K, UeId>,
    old: Option<K>,
    new: Option<K>,
    id: UeId,
) {
    if old == new {
        return;
    }
    if let Some(old) = old
        && map.get(&old) == Some(&id)
    {
        map.remove(&old);
    }
    if let Some(new) = new {
        map.insert(new, id);
    }
}

impl Shared {
    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
            stats: &mut self.stats,
            amfs: &self.amfs,
            ran_ids: &mut self.ran_ids,
            pool: &mut self.pool,
            teids: &mut self.teids,
            ul_tunnels: &mut self.ul_tunnels,
            next_child_request: &mut self.next_child_request,
        }
    }
}

impl UeTable {
    /// A new UE context answering with EAP-Request/5G-Start.
    fn start(&mut self, shared: &mut Shared, sa: IkeSaRef, outer: SocketAddr, now: Instant) {
        let id = UeId(self.next_id);
        self.next_id += 1;
        let mut common = UeCommon::new(id, sa, outer, now);
        let request = common.next_eap_id();
        let mut ctx = shared.ctx(now);
        // A 5G-Start packet has no variable field: it always emits.
        let start = Eap5g::Start { id: request }.to_bytes().unwrap_or_default();
        ctx.eap(sa, EapAnswer::Request(start));
        let state = UeState::AwaitRegistration(AwaitRegistration {
            sa,
            request,
            deadline: now + ctx.config.timers.ue_answer,
        });
        let ue = Ue { common, state };
        self.by_sa.insert(sa, id);
        self.timers.set(id, ue.deadline());
        self.ues.insert(id, ue);
    }

    /// Runs one transition of a UE and brings the indexes, allocations and timer in line with
    /// its outcome. Returns false for an unknown UE.
    fn step(
        &mut self,
        shared: &mut Shared,
        now: Instant,
        id: UeId,
        f: impl FnOnce(UeState, &mut UeCommon, &mut Ctx<'_>) -> Step,
    ) -> bool {
        let Some(Ue { mut common, state }) = self.ues.remove(&id) else {
            return false;
        };
        let before = common.keys;
        let mut ctx = shared.ctx(now);
        let step = f(state, &mut common, &mut ctx);
        // Only a registered UE has sessions: leaving that state (or ending) releases them.
        if !matches!(step, Step::Next(UeState::Established(_))) && !common.sessions.is_empty() {
            common.sessions.clear(id, common.ike_sa, &mut ctx);
        }
        match step {
            Step::Next(state) => {
                let mut ue = Ue { common, state };
                ue.settle_keys();
                self.reindex(id, before, ue.common.keys, &mut ctx);
                self.timers.set(id, ue.deadline());
                self.ues.insert(id, ue);
            }
            Step::End(cause) => {
                self.forget(id, before, common.keys, &mut ctx);
                self.timers.set(id, None);
                ctx.stats.count_end(cause, common.registered);
                ctx.event(Event::UeEnded {
                    sa: common.ike_sa,
                    ran_ue_ngap_id: before.ran.or(common.keys.ran),
                    registered: common.registered,
                    cause,
                });
            }
        }
        true
    }

    /// Moves the UE's index entries from `before` to `after`, and frees the RAN UE NGAP ID and
    /// inner address it no longer holds (both were recorded when allocated).
    fn reindex(&mut self, id: UeId, before: UeKeys, after: UeKeys, ctx: &mut Ctx<'_>) {
        move_key(&mut self.by_sa, before.sa, after.sa, id);
        move_key(&mut self.by_conn, before.conn, after.conn, id);
        let amf_ue = |keys: UeKeys| keys.amf.zip(keys.amf_ue);
        move_key(&mut self.by_amf_ue, amf_ue(before), amf_ue(after), id);
        if let Some(ran) = before.ran.filter(|r| Some(*r) != after.ran) {
            ctx.ran_ids.release(ran, id);
        }
        if let Some(inner) = before.inner.filter(|i| Some(*i) != after.inner) {
            ctx.pool.release(inner, id);
        }
    }

    /// Drops every index entry and allocation of an ended UE: those it had before its last
    /// transition and those the transition took.
    fn forget(&mut self, id: UeId, before: UeKeys, last: UeKeys, ctx: &mut Ctx<'_>) {
        self.reindex(id, before, UeKeys::default(), ctx);
        self.reindex(id, last, UeKeys::default(), ctx);
    }

    /// The UEs whose NGAP context is on `amf`.
    fn on_amf(&self, amf: AmfRef) -> Vec<UeId> {
        let mut ids: Vec<_> = self
            .ues
            .iter()
            .filter(|(_, ue)| ue.common.keys.amf == Some(amf))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }
}
