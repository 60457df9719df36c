//! IKE_FOLLOWUP_KE (RFC 9370 §2.2.4): one more key exchange per exchange, in ADDKE order,
//! linked to its CREATE_CHILD_SA by the responder's ADDITIONAL_KEY_EXCHANGE data.
//!
//! ```text
//! HDR(IKE_FOLLOWUP_KE), SK {KEi(n), N(ADDITIONAL_KEY_EXCHANGE)(link)}  -->
//!                   <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(n), [N(ADDITIONAL_KEY_EXCHANGE)(link')]}
//! ```

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::request::start_ke;
use super::{Agreement, KeProgress};
use crate::error::Error;
use crate::proposal::ke_group;
use crate::sa::init::{ke_error, ke_payload};
use crate::sa::tasks::Active;
use crate::sa::{Ctx, IkeSa, find_notify, first_error_notify, notify, random_bytes};
use crate::wire::{ExchangeType, KeId, KeyExchangePayload, NotifyType, Payload};

/// Initiator: our IKE_FOLLOWUP_KE request for the additional exchange `group` is out.
pub(crate) struct FollowupSent {
    pub(crate) cc: Agreement,
    group: KeId,
    ke: Box<dyn ActiveKeyExchange>,
}

impl IkeSa {
    /// Initiator: the next IKE_FOLLOWUP_KE, or completion.
    pub(super) fn continue_cc_initiator(
        &mut self,
        now: Instant,
        mut cc: Agreement,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(group) = cc.kes.remaining.pop_front() else {
            return self.complete_cc(now, cc, ctx);
        };
        let Ok((ke, payload)) = start_ke(group, ctx) else {
            let e = Error::Internal("additional key exchange");
            return self.abandon_kind(now, cc.kind(), e, ctx);
        };
        let link = notify(NotifyType::ADDITIONAL_KEY_EXCHANGE, cc.kes.link.clone());
        if self
            .send_request(now, ExchangeType::IKE_FOLLOWUP_KE, &[payload, link], ctx)
            .is_some()
        {
            let sent = FollowupSent { cc, group, ke };
            self.active = Some(Active::Followup(Box::new(sent)));
        }
    }

    /// Initiator: an IKE_FOLLOWUP_KE response.
    pub(crate) fn handle_followup_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        sent: FollowupSent,
        ctx: &mut Ctx<'_>,
    ) {
        let FollowupSent { mut cc, group, ke } = sent;
        match accept_followup(&mut cc.kes, group, ke, payloads) {
            Ok(()) => self.continue_cc_initiator(now, cc, ctx),
            Err(e) => self.abandon_kind(now, cc.kind(), e, ctx),
        }
    }

    /// Responder: an IKE_FOLLOWUP_KE request.
    pub(crate) fn handle_followup_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        let link =
            find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE).map(|n| n.data.clone());
        let Some(mut cc) = self
            .followup
            .take()
            .filter(|cc| Some(&cc.kes.link) == link.as_ref())
        else {
            // RFC 9370 §2.2.4: no exchange with that link (lost or never started).
            return self.refuse_followup(now, NotifyType::STATE_NOT_FOUND, ctx);
        };
        let answered = cc
            .kes
            .remaining
            .pop_front()
            .ok_or(KeError::Internal)
            .and_then(|group| respond_followup_ke(group, payloads, ctx));
        let Ok((ke, shared)) = answered else {
            return self.refuse_followup(now, NotifyType::INVALID_SYNTAX, ctx);
        };
        cc.kes.additional.push(shared);
        let mut out = vec![ke];
        if !cc.kes.is_done() {
            let Some(link) = random_bytes(ctx.provider, 8) else {
                return;
            };
            cc.kes.link = link;
            out.push(notify(
                NotifyType::ADDITIONAL_KEY_EXCHANGE,
                cc.kes.link.clone(),
            ));
        }
        if self
            .respond(now, ExchangeType::IKE_FOLLOWUP_KE, out, ctx)
            .is_none()
        {
            return;
        }
        if cc.kes.is_done() {
            self.complete_cc(now, *cc, ctx);
        } else {
            self.followup = Some(cc);
        }
    }

    /// Responder: the peer's exchange ends here with the error notify `n`.
    fn refuse_followup(&mut self, now: Instant, n: NotifyType, ctx: &mut Ctx<'_>) {
        self.peer_rekey_failed(now, ctx);
        let out = vec![notify(n, Vec::new())];
        self.respond(now, ExchangeType::IKE_FOLLOWUP_KE, out, ctx);
    }
}

/// Initiator: the responder's KE for `group` completes that exchange; the next link, if more
/// exchanges remain.
fn accept_followup(
    kes: &mut KeProgress,
    group: KeId,
    ke: Box<dyn ActiveKeyExchange>,
    payloads: &[Payload],
) -> Result<(), Error> {
    if let Some(n) = first_error_notify(payloads) {
        return Err(Error::PeerError(n));
    }
    let kep = ke_payload(payloads)
        .filter(|k| k.group == group)
        .ok_or(Error::InvalidSyntax(
            "IKE_FOLLOWUP_KE without the expected KE",
        ))?;
    let shared = ke
        .complete(&kep.data)
        .map_err(|e| ke_error(e, "IKE_FOLLOWUP_KE data"))?;
    kes.additional.push(shared);
    if let Some(n) = find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE) {
        kes.link = n.data.clone();
    } else if !kes.is_done() {
        return Err(Error::InvalidSyntax("ADDITIONAL_KEY_EXCHANGE missing"));
    }
    Ok(())
}

/// Responder: our KE payload for the initiator's KE of method `group`, and the shared secret.
fn respond_followup_ke(
    group: KeId,
    payloads: &[Payload],
    ctx: &Ctx<'_>,
) -> Result<(Payload, SecretBytes), KeError> {
    let k = ke_payload(payloads)
        .filter(|k| k.group == group)
        .ok_or(KeError::InvalidLength)?;
    let kex = ke_group(group)
        .and_then(|g| ctx.provider.key_exchange(g))
        .ok_or(KeError::Internal)?;
    let (data, shared) = kex.respond(&k.data)?;
    Ok((Payload::Ke(KeyExchangePayload { group, data }), shared))
}
