//! Refused IKE_SA_INIT requests and failed IKE_AUTH exchanges: counted in [`Stats`] and
//! reported to the driver as [`Event::Rejected`] with a short reason, so that an operator sees
//! why a peer cannot connect (the driver rate-limits the log lines).
//!
//! [`Stats`]: crate::Stats

use std::sync::Arc;

use super::init::{ke_payload, sa_payload};
use super::init_answer::RespondInit;
use super::{Ctx, IkeSa};
use crate::config::ConnectionConfig;
use crate::error::Error;
use crate::event::Event;
use crate::proposal::{describe, ke_name};
use crate::wire::{ExchangeType, NotifyType, Proposal, ProtocolId};

/// At most this many proposals of each side go into a reason.
const LISTED: usize = 3;

/// Counts and reports an IKE_SA_INIT request refused with notify `t`.
pub(super) fn init_rejected(
    t: NotifyType,
    conns: &[Arc<ConnectionConfig>],
    req: &RespondInit<'_>,
    ctx: &mut Ctx<'_>,
) {
    let offered = sa_payload(&req.msg.payloads).unwrap_or_default();
    let candidates: Vec<&Arc<ConnectionConfig>> = conns
        .iter()
        .filter(|c| c.remote_addrs.is_empty() || c.remote_addrs.contains(&req.remote.ip()))
        .collect();
    let matching = candidates.iter().find(|c| {
        offered
            .iter()
            .any(|o| c.ike_proposals.iter().any(|s| s.select(o, true).is_some()))
    });
    let connection = match (matching, candidates.as_slice()) {
        (Some(c), _) | (None, [c]) => Some(c.name.clone()),
        _ => None,
    };
    let reason = match t {
        NotifyType::NO_PROPOSAL_CHOSEN => {
            ctx.stats.init_no_proposal_chosen += 1;
            format!(
                "NO_PROPOSAL_CHOSEN: offered {}; configured {}",
                list(offered.iter()),
                configured(&candidates)
            )
        }
        NotifyType::INVALID_KE_PAYLOAD => {
            ctx.stats.init_invalid_ke += 1;
            let sent = ke_payload(&req.msg.payloads).map_or("none", |k| ke_name(k.group));
            format!("INVALID_KE_PAYLOAD: KE {sent} sent, another method selected")
        }
        other => {
            ctx.stats.init_rejected_other += 1;
            format!("{other:?}")
        }
    };
    ctx.events.push_back(Event::Rejected {
        remote: req.remote,
        connection,
        exchange: ExchangeType::IKE_SA_INIT,
        reason,
    });
}

/// Reports an IKE_SA_INIT answered with a COOKIE (counted as `cookies_sent` by the caller).
pub(crate) fn cookie_demanded(
    remote: std::net::SocketAddr,
    events: &mut std::collections::VecDeque<Event>,
) {
    events.push_back(Event::Rejected {
        remote,
        connection: None,
        exchange: ExchangeType::IKE_SA_INIT,
        reason: "COOKIE demanded (under load)".into(),
    });
}

fn list<'a>(proposals: impl Iterator<Item = &'a Proposal>) -> String {
    let (mut shown, mut more) = (Vec::new(), 0usize);
    for p in proposals {
        if shown.len() < LISTED {
            shown.push(describe(p));
        } else {
            more += 1;
        }
    }
    let mut out = shown.join(", ");
    if more > 0 {
        out.push_str(&format!(" (+{more} more)"));
    }
    if out.is_empty() {
        "nothing".into()
    } else {
        out
    }
}

fn configured(candidates: &[&Arc<ConnectionConfig>]) -> String {
    if candidates.is_empty() {
        return "no connection for this peer address".into();
    }
    let parts: Vec<String> = candidates
        .iter()
        .take(LISTED)
        .map(|c| {
            let wire: Vec<Proposal> = c
                .ike_proposals
                .iter()
                .map(|s| s.to_wire(1, ProtocolId::IKE, Vec::new()))
                .collect();
            format!("{}: {}", c.name, list(wire.iter()))
        })
        .collect();
    parts.join("; ")
}

impl IkeSa {
    /// Counts and reports an IKE SA that failed in IKE_AUTH.
    pub(super) fn note_auth_failure(&self, error: &Error, ctx: &mut Ctx<'_>) {
        let auth = matches!(
            error,
            Error::AuthenticationFailed(_) | Error::PeerError(NotifyType::AUTHENTICATION_FAILED)
        );
        if !auth {
            return;
        }
        ctx.stats.auth_failed += 1;
        ctx.events.push_back(Event::Rejected {
            remote: self.remote,
            connection: Some(self.conn.name.clone()),
            exchange: ExchangeType::IKE_AUTH,
            reason: error.to_string(),
        });
    }
}
