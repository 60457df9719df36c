//! CREATE_CHILD_SA (RFC 7296 §1.3): a new Child SA, a Child SA rekey and an IKE SA rekey, each
//! with PFS and the RFC 9370 additional key exchanges run in IKE_FOLLOWUP_KE (§2.2.4).
//!
//! One exchange goes through these states; each holds only what that stage has:
//!
//! ```text
//! initiator: (CcKind) -> RequestSent -> Agreement -> [FollowupSent -> Agreement ...] -> done
//! responder:   request -> Agreement -> [followup slot -> Agreement ...]              -> done
//! ```
//!
//! - `request.rs`: the initiator's request for each kind, and the response that agrees on it;
//! - `answer.rs`: the responder's answer for each kind;
//! - `followup.rs`: IKE_FOLLOWUP_KE in both roles;
//! - `complete.rs`: keys and installation once every key exchange is done;
//! - `child_rekey.rs`: which rekey survives when both peers rekey one SA (RFC 7296 §2.8).

mod answer;
mod child_rekey;
mod complete;
mod followup;
mod request;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ipsec_crypto::SecretBytes;

use super::child::ChildParams;
use super::children::lowest;
use super::new_child::RequestId;
use super::{Ctx, IkeSa};
use crate::error::Error;
use crate::proposal::Negotiated;
use crate::wire::{EspSpi, IkeSpi, KeId};

pub(crate) use followup::FollowupSent;
pub(crate) use request::RequestSent;

/// What a CREATE_CHILD_SA exchange creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CcKind {
    /// With the request it serves when we initiate.
    NewChild {
        request: Option<RequestId>,
    },
    RekeyChild {
        config: usize,
        old_inbound: EspSpi,
    },
    RekeyIke,
}

/// The nonces of one exchange.
pub(crate) struct Nonces {
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
}

impl Nonces {
    /// The lowest nonce of the exchange, which settles a rekey collision (RFC 7296 §2.8.1).
    pub(crate) fn lowest(&self) -> Vec<u8> {
        lowest(&self.ni, &self.nr).to_vec()
    }
}

/// The SA both sides agreed on, before its keys.
pub(crate) enum Agreed {
    Child(ChildParams),
    Ike {
        suite: Negotiated,
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    },
}

impl Agreed {
    fn suite(&self) -> &Negotiated {
        match self {
            Self::Child(p) => &p.suite,
            Self::Ike { suite, .. } => suite,
        }
    }

    fn kind(&self) -> CcKind {
        match self {
            Self::Child(p) => match p.replaces {
                Some(old_inbound) => CcKind::RekeyChild {
                    config: p.config,
                    old_inbound,
                },
                None => CcKind::NewChild { request: p.request },
            },
            Self::Ike { .. } => CcKind::RekeyIke,
        }
    }
}

/// The key exchanges of one exchange: the one in CREATE_CHILD_SA (SK(0)), then the RFC 9370
/// additional ones, one per IKE_FOLLOWUP_KE (SK(1)…), in ADDKE order.
pub(crate) struct KeProgress {
    first: Option<SecretBytes>,
    additional: Vec<SecretBytes>,
    /// The additional exchanges still to run.
    remaining: VecDeque<KeId>,
    /// The ADDITIONAL_KEY_EXCHANGE link of the next IKE_FOLLOWUP_KE.
    link: Vec<u8>,
}

impl KeProgress {
    fn new(first: Option<SecretBytes>, suite: &Negotiated, link: Vec<u8>) -> Self {
        Self {
            first,
            additional: Vec::new(),
            remaining: suite.additional_kes().into(),
            link,
        }
    }

    fn is_done(&self) -> bool {
        self.remaining.is_empty()
    }
}

/// Our role in the exchange, with what only the initiator keeps.
pub(crate) enum Side {
    Initiator {
        /// We required the PPK and the responder did not take it.
        ppk_refused: bool,
        /// A Child SA rekey: the lowest nonce of the peer's simultaneous rekey of the same SA,
        /// noted when we answered it (RFC 7296 §2.8.1).
        peer_collision: Option<Vec<u8>>,
    },
    Responder,
}

/// An exchange whose SA is agreed; what remains are its additional key exchanges.
pub(crate) struct Agreement {
    side: Side,
    nonces: Nonces,
    agreed: Agreed,
    kes: KeProgress,
    /// The RFC 9867 PPK of this exchange (`ppk_child.rs`), when both use one.
    ppk: Option<SecretBytes>,
}

impl Agreement {
    pub(crate) fn kind(&self) -> CcKind {
        self.agreed.kind()
    }

    pub(crate) fn we_initiated(&self) -> bool {
        matches!(self.side, Side::Initiator { .. })
    }

    pub(crate) fn lowest_nonce(&self) -> Vec<u8> {
        self.nonces.lowest()
    }

    /// Where the initiator notes the peer's colliding rekey (`None` as responder).
    fn peer_collision_mut(&mut self) -> Option<&mut Option<Vec<u8>>> {
        match &mut self.side {
            Side::Initiator { peer_collision, .. } => Some(peer_collision),
            Side::Responder => None,
        }
    }
}

impl IkeSa {
    /// Initiator: give up an exchange of `kind` (the IKE SA stays); retry a rekey later, after
    /// a random delay so that two peers refusing each other's simultaneous rekeys do not
    /// collide again.
    pub(crate) fn abandon_kind(&mut self, now: Instant, kind: CcKind, e: Error, ctx: &mut Ctx<'_>) {
        tracing::warn!(sa = %self.id, ?kind, error = %e, "CREATE_CHILD_SA failed");
        let retry = retry_at(now, ctx);
        match kind {
            CcKind::RekeyChild { old_inbound, .. } => {
                if let Some(c) = self
                    .children
                    .iter_mut()
                    .find(|c| c.inbound_spi == old_inbound)
                {
                    c.rekeying = false;
                    c.rekey_at = Some(retry);
                }
            }
            CcKind::RekeyIke if self.ike_collision.is_some() => self.give_way(now, ctx),
            CcKind::RekeyIke => self.timers.ike_rekey = Some(retry),
            CcKind::NewChild { request: Some(id) } => self.child_request_failed(now, id, e, ctx),
            CcKind::NewChild { request: None } => {}
        }
    }
}

/// When a failed, refused or deferred rekey is tried again.
pub(crate) fn retry_at(now: Instant, ctx: &Ctx<'_>) -> Instant {
    let delay = RETRY_MIN + super::children::random_below(ctx.provider, RETRY_JITTER);
    now.checked_add(delay).unwrap_or(now)
}

/// A failed or refused rekey is retried after `RETRY_MIN` plus up to `RETRY_JITTER`.
const RETRY_MIN: Duration = Duration::from_secs(2);
const RETRY_JITTER: Duration = Duration::from_secs(10);
