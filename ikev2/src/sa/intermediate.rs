//! IKE_INTERMEDIATE exchanges (RFC 9242): the RFC 9370 additional key exchanges, one per
//! negotiated ADDKE in order, each followed by a key update; and the RFC 9867 PPK, offered with
//! PPK_IDENTITY_KEY in the last one and mixed in after all updates. IntAuth covers every message.

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::dispatch::Inner;
use super::init::{ke_error, ke_payload};
use super::ppk::{PpkLookup, ppk_identity, ppk_identity_key, ppk_identity_keys};
use super::state::{AuthWait, Handshake, ParkedIntermediate, State, Step};
use super::{Ctx, IkeSa, find_notify, first_error_notify, notify};
use crate::error::Error;
use crate::event::PpkExchange;
use crate::proposal::ke_group;
use crate::protect::int_auth_a;
use crate::wire::{ExchangeType, KeId, KeyExchangePayload, NotifyType, Payload};

/// Initiator state while an IKE_INTERMEDIATE is in flight.
pub(crate) struct IntermediateSent {
    index: usize,
    ke: Option<Box<dyn ActiveKeyExchange>>,
    /// The RFC 9867 PPK offered in this request.
    ppk: Option<SecretBytes>,
}

/// Responder: the RFC 9867 PPK for the last IKE_INTERMEDIATE.
enum IntermediatePpk {
    Use(Vec<u8>, SecretBytes),
    Without,
    /// Asked the driver; the request waits.
    Park,
    /// Required and not matched: AUTHENTICATION_FAILED.
    Refuse,
}

impl IkeSa {
    /// Initiator: sends `HDR(43), SK{[KEi(n)] [N(PPK_IDENTITY_KEY)]}` for exchange `index`.
    pub(super) fn send_intermediate(
        &mut self,
        now: Instant,
        mut hs: Box<Handshake>,
        index: usize,
        group: Option<KeId>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut payloads = Vec::new();
        let mut ppk = None;
        if index + 1 == self.intermediate_total() && self.peer.use_ppk_int {
            match self.initiator_ppk() {
                PpkLookup::Wait => {
                    self.state = State::Handshake(hs, Step::AwaitPpk);
                    return;
                }
                PpkLookup::Use(id, key) => {
                    let Some(confirmation) = self.ppk_confirmation(&hs, &key, ctx) else {
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
            let Ok((k, payload)) = start_addke(group, ctx) else {
                return self.fail(Error::Internal("key generation failed"), ctx);
            };
            payloads.insert(0, payload);
            ke = Some(k);
        }
        let Some((header, first, plain)) =
            self.send_request(now, ExchangeType::IKE_INTERMEDIATE, &payloads, ctx)
        else {
            return;
        };
        let sent = Inner {
            header: &header,
            first,
            plain: &plain,
        };
        self.fold_int_auth(&mut hs, true, sent, ctx);
        let sent = IntermediateSent { index, ke, ppk };
        self.state = State::Handshake(hs, Step::IntermediateSent(sent));
    }

    /// Initiator: the response; completes the key exchange, updates the keys, mixes the PPK.
    pub(super) fn handle_intermediate_response(
        &mut self,
        now: Instant,
        inner: Inner<'_>,
        payloads: &[Payload],
        mut hs: Box<Handshake>,
        sent: IntermediateSent,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(e) = first_error_notify(payloads) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let shared = match self.complete_addke(sent.ke, sent.index, payloads) {
            Ok(shared) => shared,
            Err(e) => return self.fail(e, ctx),
        };
        self.fold_int_auth(&mut hs, false, inner, ctx);
        if self.update_keys(&mut hs, shared.as_ref(), ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        let accepted = find_notify(payloads, NotifyType::PPK_IDENTITY).is_some();
        let used = match sent.ppk {
            Some(ppk) if accepted => {
                if self.mix_ppk_int(&hs, &ppk, ctx).is_none() {
                    return self.fail(Error::Internal("PPK mixing"), ctx);
                }
                true
            }
            _ => false,
        };
        let last = usize::from(hs.intermediate_count) == self.intermediate_total();
        if !used && self.peer.use_ppk_int && self.ppk_required() && last {
            let e = Error::AuthenticationFailed("responder did not use the required PPK");
            return self.fail(e, ctx);
        }
        self.next_step_after_keys(now, hs, ctx);
    }

    /// Initiator: the shared secret of exchange `index` from the responder's KE.
    fn complete_addke(
        &self,
        ke: Option<Box<dyn ActiveKeyExchange>>,
        index: usize,
        payloads: &[Payload],
    ) -> Result<Option<SecretBytes>, Error> {
        let (Some(ke), Some(group)) = (ke, self.expected_addke(index)) else {
            return Ok(None);
        };
        let kep = ke_payload(payloads)
            .filter(|k| k.group == group)
            .ok_or(Error::InvalidSyntax(
                "IKE_INTERMEDIATE response without the expected KE",
            ))?;
        ke.complete(&kep.data)
            .map(Some)
            .map_err(|e| ke_error(e, "additional KE data"))
    }

    /// Responder: an IKE_INTERMEDIATE request.
    pub(super) fn handle_intermediate_request(
        &mut self,
        now: Instant,
        inner: Inner<'_>,
        payloads: &[Payload],
        mut hs: Box<Handshake>,
        index: usize,
        ctx: &mut Ctx<'_>,
    ) {
        let ppk = match self.intermediate_ppk(now, &hs, payloads, index, ctx) {
            IntermediatePpk::Park => {
                let parked = Some(ParkedIntermediate::from(inner));
                self.state = State::Handshake(hs, Step::AwaitIntermediate { index, parked });
                return;
            }
            IntermediatePpk::Refuse => {
                let e = Error::AuthenticationFailed("PPK required but no PPK_IDENTITY_KEY matched");
                return self.refuse_intermediate(now, NotifyType::AUTHENTICATION_FAILED, e, ctx);
            }
            IntermediatePpk::Use(id, key) => Some((id, key)),
            IntermediatePpk::Without => None,
        };
        let (mut out, shared) = match self.answer_addke(index, payloads, ctx) {
            Ok(answer) => answer,
            Err(KeError::Internal) => {
                return self.fail(Error::Internal("additional key exchange"), ctx);
            }
            Err(_) => {
                // RFC 9370 §2.2.2 / FIPS 203 input checks: malformed KE data is INVALID_SYNTAX.
                let e = Error::InvalidSyntax("bad additional KE payload");
                return self.refuse_intermediate(now, NotifyType::INVALID_SYNTAX, e, ctx);
            }
        };
        out.extend(ppk.as_ref().map(|(id, _)| ppk_identity(id)));
        self.fold_int_auth(&mut hs, true, inner, ctx);
        let Some((header, first, plain)) =
            self.respond(now, ExchangeType::IKE_INTERMEDIATE, out, ctx)
        else {
            return self.fail(Error::Internal("could not protect a response"), ctx);
        };
        let sent = Inner {
            header: &header,
            first,
            plain: &plain,
        };
        self.fold_int_auth(&mut hs, false, sent, ctx);
        self.rekey_after_intermediate(hs, shared, ppk.map(|(_, key)| key), ctx);
    }

    /// Responder: the key update (and RFC 9867 PPK) after answering, and the next step.
    fn rekey_after_intermediate(
        &mut self,
        mut hs: Box<Handshake>,
        shared: Option<SecretBytes>,
        ppk: Option<SecretBytes>,
        ctx: &mut Ctx<'_>,
    ) {
        if self.update_keys(&mut hs, shared.as_ref(), ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        if let Some(key) = ppk
            && self.mix_ppk_int(&hs, &key, ctx).is_none()
        {
            return self.fail(Error::Internal("PPK mixing"), ctx);
        }
        let done = usize::from(hs.intermediate_count);
        let step = if done < self.intermediate_total() {
            Step::AwaitIntermediate {
                index: done,
                parked: None,
            }
        } else {
            Step::AwaitAuth(AuthWait::Request)
        };
        self.state = State::Handshake(hs, step);
    }

    /// Responder: answers with notify `n` and fails with `e`.
    fn refuse_intermediate(&mut self, now: Instant, n: NotifyType, e: Error, ctx: &mut Ctx<'_>) {
        let out = vec![notify(n, Vec::new())];
        self.respond(now, ExchangeType::IKE_INTERMEDIATE, out, ctx);
        self.fail(e, ctx);
    }

    /// Responder: the PPK of the last IKE_INTERMEDIATE, when RFC 9867 was negotiated.
    fn intermediate_ppk(
        &mut self,
        now: Instant,
        hs: &Handshake,
        payloads: &[Payload],
        index: usize,
        ctx: &mut Ctx<'_>,
    ) -> IntermediatePpk {
        if index + 1 != self.intermediate_total() || !self.peer.use_ppk_int {
            return IntermediatePpk::Without;
        }
        match self.pick_ppk_int(now, hs, payloads, ctx) {
            Some(PpkLookup::Wait) => IntermediatePpk::Park,
            Some(PpkLookup::Use(id, key)) => IntermediatePpk::Use(id, key),
            _ if self.ppk_required() => IntermediatePpk::Refuse,
            _ => IntermediatePpk::Without,
        }
    }

    /// Responder: our KE for additional exchange `index` (none without one) and the secret.
    fn answer_addke(
        &self,
        index: usize,
        payloads: &[Payload],
        ctx: &Ctx<'_>,
    ) -> Result<(Vec<Payload>, Option<SecretBytes>), KeError> {
        let Some(expected) = self.expected_addke(index) else {
            return Ok((Vec::new(), None));
        };
        let k = ke_payload(payloads)
            .filter(|k| k.group == expected)
            .ok_or(KeError::InvalidLength)?;
        let kex = ke_group(k.group)
            .and_then(|g| ctx.provider.key_exchange(g))
            .ok_or(KeError::Internal)?;
        let (data, secret) = kex.respond(&k.data)?;
        let ke = Payload::Ke(KeyExchangePayload {
            group: expected,
            data,
        });
        Ok((vec![ke], Some(secret)))
    }

    /// Responder: the first PPK_IDENTITY_KEY whose PPK we have and whose confirmation matches.
    fn pick_ppk_int(
        &mut self,
        now: Instant,
        hs: &Handshake,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Option<PpkLookup> {
        // Any PPK ID type: the ID is compared as opaque octets.
        for (_, ppk_id, confirmation) in ppk_identity_keys(payloads) {
            match self.responder_ppk(now, ppk_id, PpkExchange::Initial, ctx) {
                PpkLookup::Wait => return Some(PpkLookup::Wait),
                PpkLookup::Use(id, key) => {
                    if self
                        .ppk_confirmation(hs, &key, ctx)
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

    /// RFC 9867 §3: all keys anew from `SKEYSEED' = prf+(PPK, SK_d)`.
    fn mix_ppk_int(&mut self, hs: &Handshake, ppk: &SecretBytes, ctx: &Ctx<'_>) -> Option<()> {
        let prf = self.prf(ctx)?;
        let next = self
            .keys
            .as_ref()?
            .mix_ppk_rfc9867(prf, ppk, &hs.ni, &hs.nr, self.spi_i, self.spi_r)?;
        self.install_keys(next, ctx)?;
        self.ppk_used = true;
        Some(())
    }

    pub(super) fn expected_addke(&self, index: usize) -> Option<KeId> {
        self.suite
            .as_ref()
            .and_then(|s| s.additional_kes().get(index).copied())
    }

    /// Adds one IKE_INTERMEDIATE message to the IntAuth chain, with the SK_p of the keys that
    /// protect it (RFC 9242 §3.3.2). `request` selects the initiator's chain.
    fn fold_int_auth(&self, hs: &mut Handshake, request: bool, msg: Inner<'_>, ctx: &Ctx<'_>) {
        let (Some(prf), Some(keys)) = (self.prf(ctx), self.keys.as_ref()) else {
            return;
        };
        let a = int_auth_a(msg.header, msg.first, msg.plain.len());
        if request {
            hs.int_auth.add_request(prf, &keys.sk_pi, &a, msg.plain);
        } else {
            hs.int_auth.add_response(prf, &keys.sk_pr, &a, msg.plain);
        }
    }

    /// RFC 9370 §2.2.2: the key update after an additional exchange (none without one).
    fn update_keys(
        &mut self,
        hs: &mut Handshake,
        shared: Option<&SecretBytes>,
        ctx: &Ctx<'_>,
    ) -> Option<()> {
        hs.intermediate_count += 1;
        let Some(shared) = shared else {
            return Some(());
        };
        let prf = self.prf(ctx)?;
        let next = self
            .keys
            .as_ref()?
            .update_with_addke(prf, shared, &hs.ni, &hs.nr, self.spi_i, self.spi_r)?;
        self.install_keys(next, ctx)
    }
}

/// A key exchange of method `group` and its KE payload.
fn start_addke(
    group: KeId,
    ctx: &Ctx<'_>,
) -> Result<(Box<dyn ActiveKeyExchange>, Payload), KeError> {
    let kex = ke_group(group)
        .and_then(|g| ctx.provider.key_exchange(g))
        .ok_or(KeError::Internal)?;
    let ke = kex.start()?;
    let payload = Payload::Ke(KeyExchangePayload {
        group,
        data: ke.public().to_vec(),
    });
    Ok((ke, payload))
}
