//! IKE_INTERMEDIATE exchanges (RFC 9242): the RFC 9370 additional key exchanges, one per
//! negotiated ADDKE in order, each followed by a key update; and the RFC 9867 PPK, offered with
//! PPK_IDENTITY_KEY in the last one and mixed in after all updates. IntAuth covers every message.

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::init::{ke_error, ke_payload};
use super::ppk::{PpkLookup, ppk_identity, ppk_identity_key, ppk_identity_keys};
use super::{Ctx, IkeSa, State, find_notify, first_error_notify, notify};
use crate::error::Error;
use crate::event::PpkExchange;
use crate::proposal::ke_group;
use crate::protect::int_auth_a;
use crate::wire::{
    ExchangeType, Header, KeId, KeyExchangePayload, NotifyType, Payload, PayloadType,
};

/// Initiator state while an IKE_INTERMEDIATE is in flight.
pub(crate) struct IntermediateSent {
    index: usize,
    ke: Option<Box<dyn ActiveKeyExchange>>,
    /// The RFC 9867 PPK offered in this request.
    ppk: Option<SecretBytes>,
}

impl IkeSa {
    /// Initiator: sends `HDR(43), SK{[KEi(n)] [N(PPK_IDENTITY_KEY)]}` for exchange `index`.
    pub(super) fn send_intermediate(
        &mut self,
        now: Instant,
        index: usize,
        group: Option<KeId>,
        ctx: &mut Ctx<'_>,
    ) {
        let last = index + 1 == self.intermediate_total();
        let mut payloads = Vec::new();
        let mut ppk = None;
        if last && self.peer.use_ppk_int {
            match self.initiator_ppk() {
                PpkLookup::Wait => {
                    self.auth_paused = true;
                    self.state = State::AwaitPpk;
                    return;
                }
                PpkLookup::Use(id, key) => {
                    let Some(confirmation) = self.ppk_confirmation(&key, ctx) else {
                        return self.fail(Error::Internal("prf"), ctx);
                    };
                    payloads.push(ppk_identity_key(&id, &confirmation));
                    ppk = Some(key);
                }
                PpkLookup::Without if self.ppk_required() => return self.ppk_missing(ctx),
                PpkLookup::Without => {}
            }
        }
        let mut ke = None;
        if let Some(group) = group {
            let started = ke_group(group)
                .and_then(|g| ctx.provider.key_exchange(g))
                .ok_or(KeError::Internal)
                .and_then(|k| k.start());
            let Ok(k) = started else {
                return self.fail(Error::Internal("key generation failed"), ctx);
            };
            payloads.insert(
                0,
                Payload::Ke(KeyExchangePayload {
                    group,
                    data: k.public().to_vec(),
                }),
            );
            ke = Some(k);
        }
        let Some((header, first, plain)) =
            self.send_request(now, ExchangeType::IKE_INTERMEDIATE, &payloads, ctx)
        else {
            return;
        };
        self.fold_int_auth(true, &header, first, &plain, ctx);
        self.state = State::IntermediateSent(IntermediateSent { index, ke, ppk });
    }

    /// Initiator: the response; completes the key exchange, updates the keys, mixes the PPK.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_intermediate_response(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: &[u8],
        payloads: &[Payload],
        sent: IntermediateSent,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(e) = first_error_notify(payloads) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let shared = match (sent.ke, self.expected_addke(sent.index)) {
            (Some(ke), Some(group)) => {
                let Some(kep) = ke_payload(payloads).filter(|k| k.group == group) else {
                    return self.fail(
                        Error::InvalidSyntax("IKE_INTERMEDIATE response without the expected KE"),
                        ctx,
                    );
                };
                match ke.complete(&kep.data) {
                    Ok(s) => Some(s),
                    Err(e) => return self.fail(ke_error(e, "additional KE data"), ctx),
                }
            }
            _ => None,
        };
        self.fold_int_auth(false, header, first, plain, ctx);
        if self.update_keys(shared.as_ref(), ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        let accepted = find_notify(payloads, NotifyType::PPK_IDENTITY).is_some();
        let used = match sent.ppk {
            Some(ppk) if accepted => {
                if self.mix_ppk_int(&ppk, ctx).is_none() {
                    return self.fail(Error::Internal("PPK mixing"), ctx);
                }
                true
            }
            _ => false,
        };
        if !used && self.peer.use_ppk_int && self.ppk_required() && self.is_last_intermediate() {
            return self.fail(
                Error::AuthenticationFailed("responder did not use the required PPK"),
                ctx,
            );
        }
        self.next_step_after_keys(now, ctx);
    }

    /// Responder: an IKE_INTERMEDIATE request.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_intermediate_request(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: &[u8],
        payloads: &[Payload],
        index: usize,
        ctx: &mut Ctx<'_>,
    ) {
        let last = index + 1 == self.intermediate_total();
        let ppk = if last && self.peer.use_ppk_int {
            match self.pick_ppk_int(now, payloads, ctx) {
                Some(PpkLookup::Wait) => {
                    self.parked_intermediate = Some((header.clone(), first, plain.to_vec()));
                    self.state = State::AwaitIntermediate { index };
                    return;
                }
                Some(PpkLookup::Use(id, key)) => Some((id, key)),
                _ if self.ppk_required() => {
                    self.respond(
                        now,
                        ExchangeType::IKE_INTERMEDIATE,
                        vec![notify(NotifyType::AUTHENTICATION_FAILED, Vec::new())],
                        ctx,
                    );
                    return self.fail(
                        Error::AuthenticationFailed("PPK required but no PPK_IDENTITY_KEY matched"),
                        ctx,
                    );
                }
                _ => None,
            }
        } else {
            None
        };
        let mut out = Vec::new();
        let mut shared = None;
        if let Some(expected) = self.expected_addke(index) {
            let answered = ke_payload(payloads)
                .filter(|k| k.group == expected)
                .ok_or(KeError::InvalidLength)
                .and_then(|k| {
                    let kex = ke_group(k.group)
                        .and_then(|g| ctx.provider.key_exchange(g))
                        .ok_or(KeError::Internal)?;
                    kex.respond(&k.data)
                });
            match answered {
                Ok((data, secret)) => {
                    out.push(Payload::Ke(KeyExchangePayload {
                        group: expected,
                        data,
                    }));
                    shared = Some(secret);
                }
                Err(KeError::Internal) => {
                    return self.fail(Error::Internal("additional key exchange"), ctx);
                }
                Err(_) => {
                    // RFC 9370 §2.2.2 / FIPS 203 input checks: malformed KE data is INVALID_SYNTAX.
                    self.respond(
                        now,
                        ExchangeType::IKE_INTERMEDIATE,
                        vec![notify(NotifyType::INVALID_SYNTAX, Vec::new())],
                        ctx,
                    );
                    return self.fail(Error::InvalidSyntax("bad additional KE payload"), ctx);
                }
            }
        }
        if let Some((id, _)) = &ppk {
            out.push(ppk_identity(id));
        }
        self.fold_int_auth(true, header, first, plain, ctx);
        let Some((rh, rfirst, rplain)) =
            self.respond(now, ExchangeType::IKE_INTERMEDIATE, out, ctx)
        else {
            return self.fail(Error::Internal("could not protect a response"), ctx);
        };
        self.fold_int_auth(false, &rh, rfirst, &rplain, ctx);
        if self.update_keys(shared.as_ref(), ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        if let Some((_, key)) = ppk
            && self.mix_ppk_int(&key, ctx).is_none()
        {
            return self.fail(Error::Internal("PPK mixing"), ctx);
        }
        let done = usize::from(self.intermediate_count);
        self.state = if done < self.intermediate_total() {
            State::AwaitIntermediate { index: done }
        } else {
            State::AwaitAuth
        };
    }

    /// Responder: the first PPK_IDENTITY_KEY whose PPK we have and whose confirmation matches.
    fn pick_ppk_int(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Option<PpkLookup> {
        // Any PPK ID type: the ID is compared as opaque octets.
        for (_, ppk_id, confirmation) in ppk_identity_keys(payloads) {
            match self.responder_ppk(now, ppk_id, PpkExchange::Initial, ctx) {
                PpkLookup::Wait => return Some(PpkLookup::Wait),
                PpkLookup::Use(id, key) => {
                    if self
                        .ppk_confirmation(&key, ctx)
                        .is_some_and(|c| ipsec_crypto::ct_eq(&c, confirmation))
                    {
                        return Some(PpkLookup::Use(id, key));
                    }
                }
                PpkLookup::Without => {}
            }
        }
        None
    }

    fn is_last_intermediate(&self) -> bool {
        usize::from(self.intermediate_count) == self.intermediate_total()
    }

    /// RFC 9867 §3: all keys anew from `SKEYSEED' = prf+(PPK, SK_d)`.
    fn mix_ppk_int(&mut self, ppk: &SecretBytes, ctx: &Ctx<'_>) -> Option<()> {
        let prf = self.prf(ctx)?;
        let next = self
            .keys
            .as_ref()?
            .mix_ppk_rfc9867(prf, ppk, &self.ni, &self.nr, self.spi_i, self.spi_r)?;
        self.install_keys(next, ctx)?;
        self.ppk_used = true;
        Some(())
    }

    fn expected_addke(&self, index: usize) -> Option<KeId> {
        self.suite
            .as_ref()
            .and_then(|s| s.additional_kes().get(index).copied())
    }

    /// Adds one IKE_INTERMEDIATE message to the IntAuth chain, with the SK_p of the keys that
    /// protect it (RFC 9242 §3.3.2). `request` selects the initiator's chain.
    fn fold_int_auth(
        &mut self,
        request: bool,
        header: &Header,
        first: PayloadType,
        plain: &[u8],
        ctx: &Ctx<'_>,
    ) {
        let (Some(prf), Some(keys)) = (self.prf(ctx), self.keys.as_ref()) else {
            return;
        };
        let a = int_auth_a(header, first, plain.len());
        if request {
            self.int_auth.add_request(prf, &keys.sk_pi, &a, plain);
        } else {
            self.int_auth.add_response(prf, &keys.sk_pr, &a, plain);
        }
    }

    /// RFC 9370 §2.2.2: the key update after an additional exchange (none without one).
    fn update_keys(&mut self, shared: Option<&SecretBytes>, ctx: &Ctx<'_>) -> Option<()> {
        self.intermediate_count += 1;
        let Some(shared) = shared else {
            return Some(());
        };
        let prf = self.prf(ctx)?;
        let next = self
            .keys
            .as_ref()?
            .update_with_addke(prf, shared, &self.ni, &self.nr, self.spi_i, self.spi_r)?;
        self.install_keys(next, ctx)
    }
}
