//! One IKE SA: its state (`state.rs`), message layer (`message.rs`) and exchanges, one file
//! per exchange and role:
//!
//! - the initial exchanges: `init.rs` and `init_answer.rs` (IKE_SA_INIT as initiator and
//!   responder), `intermediate.rs` (IKE_INTERMEDIATE), `auth.rs` (IKE_AUTH as initiator),
//!   `auth_answer.rs` (as responder: the place for the final response's extra payloads),
//!   `credentials.rs` (AUTH payloads both ways), `eap.rs` (EAP in IKE_AUTH), `ppk.rs`;
//! - the established SA: `tasks.rs` (our queued exchanges and lifetimes), `create_child/`,
//!   `ike_collision.rs`, `informational.rs`, `children.rs` and `child.rs`, `ppk_child.rs`.

mod auth;
mod auth_answer;
mod child;
mod children;
mod config_payload;
#[cfg(fuzzing)]
pub use config_payload::{read_child_notifies, read_final_reply};
mod create_child;
mod credentials;
mod dispatch;
mod eap;
mod ike_collision;
mod informational;
mod init;
mod init_answer;
mod intermediate;
mod memory;
mod message;
mod nat;
mod new_child;
mod ppk;
mod ppk_child;
mod reject;
mod state;
mod tasks;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::{CryptoProvider, Prf, SecretBytes};

use crate::config::{ConnectionConfig, EndpointConfig};
use crate::endpoint::Transmit;
use crate::error::Error;
use crate::event::{CloseReason, Event, SaId};
use crate::keys::IkeKeys;
use crate::proposal::Negotiated;
use crate::protect::Protection;
use crate::stats::Stats;
use crate::wire::{
    EspSpi, Header, Identification, IkeSpi, Notify, NotifyType, Payload, PayloadType,
};

pub use eap::EapStep;
pub(crate) use init::reject_init;
pub(crate) use init_answer::{InitReject, RespondInit};
pub(crate) use new_child::ChildAsk;
pub(crate) use reject::cookie_demanded;
pub(crate) use tasks::Task;

use children::ChildEntry;
use create_child::Agreement;
use message::MessageWindow;
use state::State;
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

/// The lifetimes and liveness timers of an established IKE SA.
#[derive(Default)]
struct Timers {
    /// When the IKE SA is rekeyed and when it expires.
    ike_rekey: Option<Instant>,
    ike_expire: Option<Instant>,
    /// The next liveness check (RFC 7296 §2.4), and when we last heard from the peer.
    dpd: Option<Instant>,
    last_heard: Option<Instant>,
    /// The next NAT keepalive, when we are behind a NAT (RFC 3948 §2.3).
    keepalive: Option<Instant>,
}

/// An IKE SA.
pub(crate) struct IkeSa {
    pub(crate) id: SaId,
    pub(crate) conn: Arc<ConnectionConfig>,
    pub(crate) initiator: bool,
    pub(crate) spi_i: IkeSpi,
    pub(crate) spi_r: IkeSpi,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    /// The peer address the SA was created with (the endpoint's index key).
    pub(crate) origin: SocketAddr,
    state: State,
    window: MessageWindow,
    suite: Option<Negotiated>,
    keys: Option<IkeKeys>,
    prot_out: Option<Protection>,
    prot_in: Option<Protection>,
    peer: PeerCaps,
    /// We are behind a NAT: the peer saw another address than ours (we send keepalives).
    nat_local: bool,
    /// The peer is behind a NAT (or forces encapsulation).
    nat_peer: bool,
    timers: Timers,
    ppk_used: bool,
    ppk_state: ppk::PpkState,
    /// Whether the endpoint counts this SA as half-open.
    pub(crate) counted_half_open: bool,
    /// Bytes the endpoint charged to this SA while it is half-open.
    pub(crate) charged: usize,
    /// The deadline the endpoint's timer heap holds for this SA.
    pub(crate) scheduled: Option<Instant>,
    /// Notifies waiting for an INFORMATIONAL of ours.
    pending_notifies: Vec<Payload>,
    /// SPIs we already reported as INVALID_SPI (bounded).
    invalid_spis_sent: Vec<EspSpi>,
    /// Failure already reported.
    failed: bool,
    children: Vec<ChildEntry>,
    tasks: VecDeque<Task>,
    active: Option<Active>,
    /// The new Child SAs we asked for, until their outcome (`new_child.rs`).
    child_requests: Vec<new_child::PendingChild>,
    /// The id of the next one.
    next_child_request: u32,
    /// Once rekeyed: the IKE SA that replaced this one (commands for new Child SAs follow it).
    pub(crate) successor: Option<SaId>,
    /// Responder: the peer's CREATE_CHILD_SA exchange waiting for its next IKE_FOLLOWUP_KE.
    followup: Option<Box<Agreement>>,
    /// Responder: the CREATE_CHILD_SA request waiting for an external PPK (RFC 9867).
    parked_cc: Option<Vec<Payload>>,
    /// This SA was replaced by a rekey and only waits to be deleted.
    rekeyed: bool,
    /// A simultaneous IKE SA rekey being resolved (RFC 7296 §2.8.2).
    ike_collision: Option<Box<ike_collision::IkeCollision>>,
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
        spi_i: IkeSpi,
        spi_r: IkeSpi,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Self {
        let own = if initiator { spi_i } else { spi_r };
        Self {
            id: SaId(own),
            conn,
            initiator,
            spi_i,
            spi_r,
            local,
            remote,
            origin: remote,
            state: State::Dead,
            window: MessageWindow::default(),
            suite: None,
            keys: None,
            prot_out: None,
            prot_in: None,
            peer: PeerCaps::default(),
            nat_local: false,
            nat_peer: false,
            timers: Timers::default(),
            ppk_used: false,
            ppk_state: ppk::PpkState::Idle,
            counted_half_open: false,
            charged: 0,
            scheduled: None,
            pending_notifies: Vec::new(),
            invalid_spis_sent: Vec::new(),
            failed: false,
            children: Vec::new(),
            tasks: VecDeque::new(),
            child_requests: Vec::new(),
            next_child_request: 0,
            successor: None,
            active: None,
            followup: None,
            parked_cc: None,
            rekeyed: false,
            ike_collision: None,
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
            self.spi_r == IkeSpi(0) || header.spi_r == self.spi_r
        } else {
            header.spi_i == self.spi_i
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
        tracing::info!(sa = %self.id, "peer sent INITIAL_CONTACT in a new IKE SA: this one is gone at the peer");
        self.close(CloseReason::PeerRestarted, ctx);
    }

    /// Whether the endpoint should remove this SA.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// Whether the SA is still in its initial handshake as responder (counts as half-open).
    pub(crate) fn is_half_open(&self) -> bool {
        self.half_open_deadline().is_some()
    }

    /// The earliest deadline of this SA.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [
            self.window.pending.as_ref().map(|p| p.deadline),
            self.half_open_deadline(),
            self.window.reassembly.as_ref().map(|r| r.deadline),
            self.lifecycle_deadline(),
            self.ppk_deadline(),
            self.timers.keepalive,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires expired timers: retransmission, give-up, half-open expiry, reassembly expiry.
    pub(crate) fn handle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self
            .window
            .reassembly
            .as_ref()
            .is_some_and(|r| r.deadline <= now)
        {
            self.window.reassembly = None;
        }
        if self.half_open_deadline().is_some_and(|d| d <= now) {
            self.fail(Error::Timeout, ctx);
            return;
        }
        self.ppk_timeout(now, ctx);
        self.keepalive_timeout(now, ctx);
        self.lifecycle_timeout(now, ctx);
        self.retransmit_timeout(now, ctx);
    }

    /// Marks the SA failed and tells the driver.
    fn fail(&mut self, error: Error, ctx: &mut Ctx<'_>) {
        // The state may be a `Dead` placeholder while a handler runs; `failed` is the truth.
        if self.failed {
            return;
        }
        self.failed = true;
        tracing::info!(sa = %self.id, %error, "IKE SA failed");
        self.note_auth_failure(&error, ctx);
        let pending = match error {
            Error::Timeout => crate::ChildFailure::Timeout,
            _ => crate::ChildFailure::IkeSaClosed(CloseReason::Failed),
        };
        self.fail_child_requests(&pending, ctx);
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
    /// established (their messages, nonces and IntAuth chain went with the handshake state):
    /// SK_pi/SK_pr (AUTH inputs, RFC 7296 §2.15), the initial PPK, and the SK_e/SK_a copies
    /// that the message protection already holds. Only SK_d stays for CREATE_CHILD_SA; the
    /// cached response stays too (RFC 7296 §2.1).
    pub(super) fn forget_handshake_state(&mut self) {
        if let Some(k) = self.keys.as_mut() {
            k.keep_only_sk_d();
        }
        self.ppk_state = ppk::PpkState::Idle;
        self.window.reassembly_first = None;
    }

    fn prf(&self, ctx: &Ctx<'_>) -> Option<&'static dyn Prf> {
        ctx.provider.prf(self.suite.as_ref()?.prf_algorithm()?)
    }
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

#[cfg(test)]
mod cfg_request_tests;

#[cfg(test)]
mod new_child_tests;
