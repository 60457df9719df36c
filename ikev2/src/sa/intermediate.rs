//! IKE_INTERMEDIATE exchanges carrying the RFC 9370 additional key exchanges, one per
//! negotiated ADDKE in order, each followed by a key update; RFC 9242 IntAuth over each message.

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError};

use super::init::{ke_error, ke_payload};
use super::{Ctx, IkeSa, State, first_error_notify, notify};
use crate::error::Error;
use crate::keys::IkeKeys;
use crate::proposal::ke_group;
use crate::protect::int_auth_a;
use crate::wire::{ExchangeType, Header, KeId, KeyExchangePayload, NotifyType, Payload, PayloadType};

impl IkeSa {
    /// Initiator: sends `HDR(43), SK{KEi(n)}` for additional exchange `index`.
    pub(super) fn send_intermediate(&mut self, now: Instant, index: usize, group: KeId, ctx: &mut Ctx<'_>) {
        let Some(kex) = ke_group(group).and_then(|g| ctx.provider.key_exchange(g)) else {
            return self.fail(Error::Internal("additional key exchange not in provider"), ctx);
        };
        let ke = match kex.start() {
            Ok(k) => k,
            Err(_) => return self.fail(Error::Internal("key generation failed"), ctx),
        };
        let payloads = [Payload::Ke(KeyExchangePayload { group, data: ke.public().to_vec() })];
        let Some((header, first, plain)) = self.send_request(now, ExchangeType::IKE_INTERMEDIATE, &payloads, ctx) else { return };
        self.fold_int_auth(true, &header, first, &plain, ctx);
        self.state = State::IntermediateSent { index, ke };
    }

    /// Initiator: the response with KEr(n); completes the exchange and updates the keys.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_intermediate_response(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: &[u8],
        payloads: &[Payload],
        index: usize,
        ke: Box<dyn ActiveKeyExchange>,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(e) = first_error_notify(payloads) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let expected = self.expected_addke(index);
        let Some(kep) = ke_payload(payloads).filter(|k| Some(k.group) == expected) else {
            return self.fail(Error::InvalidSyntax("IKE_INTERMEDIATE response without the expected KE"), ctx);
        };
        let shared = match ke.complete(&kep.data) {
            Ok(s) => s,
            Err(e) => return self.fail(ke_error(e, "additional KE data"), ctx),
        };
        self.fold_int_auth(false, header, first, plain, ctx);
        if self.update_keys(&shared, ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        self.next_step_after_keys(now, ctx);
    }

    /// Responder: an IKE_INTERMEDIATE request with KEi(n).
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
        let expected = self.expected_addke(index);
        let kep = ke_payload(payloads).filter(|k| Some(k.group) == expected);
        let result = kep.ok_or(KeError::InvalidLength).and_then(|k| {
            let kex = ke_group(k.group).and_then(|g| ctx.provider.key_exchange(g)).ok_or(KeError::Internal)?;
            kex.respond(&k.data).map(|(data, shared)| (k.group, data, shared))
        });
        let (group, data, shared) = match result {
            Ok(v) => v,
            Err(KeError::Internal) => return self.fail(Error::Internal("additional key exchange"), ctx),
            Err(_) => {
                // RFC 9370 §2.2.2 / FIPS 203 input checks: malformed KE data is INVALID_SYNTAX.
                self.respond(now, ExchangeType::IKE_INTERMEDIATE, vec![notify(NotifyType::INVALID_SYNTAX, Vec::new())], ctx);
                return self.fail(Error::InvalidSyntax("bad additional KE payload"), ctx);
            }
        };
        self.fold_int_auth(true, header, first, plain, ctx);
        let out = vec![Payload::Ke(KeyExchangePayload { group, data })];
        let Some((rh, rfirst, rplain)) = self.respond(now, ExchangeType::IKE_INTERMEDIATE, out, ctx) else {
            return self.fail(Error::Internal("could not protect a response"), ctx);
        };
        self.fold_int_auth(false, &rh, rfirst, &rplain, ctx);
        if self.update_keys(&shared, ctx).is_none() {
            return self.fail(Error::Internal("key update"), ctx);
        }
        let adds = self.suite.as_ref().map_or(0, |s| s.additional_kes().len());
        self.state = if usize::from(self.intermediate_count) < adds {
            State::AwaitIntermediate { index: usize::from(self.intermediate_count) }
        } else {
            State::AwaitAuth
        };
    }

    fn expected_addke(&self, index: usize) -> Option<KeId> {
        self.suite.as_ref().and_then(|s| s.additional_kes().get(index).copied())
    }

    /// Adds one IKE_INTERMEDIATE message to the IntAuth chain, with the SK_p of the keys that
    /// protect it (RFC 9242 §3.3.2). `request` selects the initiator's chain.
    fn fold_int_auth(&mut self, request: bool, header: &Header, first: PayloadType, plain: &[u8], ctx: &Ctx<'_>) {
        let (Some(prf), Some(keys)) = (self.prf(ctx), self.keys.as_ref()) else { return };
        let a = int_auth_a(header, first, plain.len());
        if request {
            self.int_auth.add_request(prf, &keys.sk_pi, &a, plain);
        } else {
            self.int_auth.add_response(prf, &keys.sk_pr, &a, plain);
        }
    }

    /// RFC 9370 §2.2.2: the key update after an additional exchange.
    fn update_keys(&mut self, shared: &ipsec_crypto::SecretBytes, ctx: &Ctx<'_>) -> Option<()> {
        let prf = self.prf(ctx)?;
        let next = self.keys.as_ref()?.update_with_addke(prf, shared, &self.ni, &self.nr, self.spi_i, self.spi_r)?;
        let next: IkeKeys = next;
        self.install_keys(next, ctx)?;
        self.intermediate_count += 1;
        Some(())
    }
}
