//! The first Child SA, negotiated inside IKE_AUTH (RFC 7296 §1.2, §2.9, §2.17).

use super::{Ctx, IkeSa, random_bytes};
use crate::config::ChildConfig;
use crate::error::Error;
use crate::event::ChildSa;
use crate::keys::child_keymat;
use crate::proposal::Negotiated;
use crate::ts::{all_within, narrow};
use crate::wire::{IpSelector, NotifyType, Payload, Proposal, ProtocolId, TrafficSelector};

/// What the initiator proposed for the first Child SA.
pub(crate) struct ChildRequest {
    child_index: usize,
    inbound_spi: u32,
}

impl IkeSa {
    /// Initiator: SA, TSi and TSr payloads for the first child of the connection.
    pub(super) fn child_request(&self, ctx: &Ctx<'_>) -> Option<(ChildRequest, Vec<Payload>)> {
        let child = self.conn.children.first()?;
        let inbound_spi = new_spi(ctx)?;
        let spi = inbound_spi.to_be_bytes().to_vec();
        let proposals = child.esp_proposals.iter().enumerate().map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::ESP, spi.clone())).collect();
        let payloads = vec![
            Payload::Sa(proposals),
            Payload::TsI(child.local_ts.iter().cloned().map(TrafficSelector::Ip).collect()),
            Payload::TsR(child.remote_ts.iter().cloned().map(TrafficSelector::Ip).collect()),
        ];
        Some((ChildRequest { child_index: 0, inbound_spi }, payloads))
    }

    /// Initiator: the Child SA from the IKE_AUTH response.
    pub(super) fn child_from_response(&self, req: ChildRequest, payloads: &[Payload], ctx: &Ctx<'_>) -> Result<ChildSa, Error> {
        if let Some(n) = super::first_error_notify(payloads) {
            return Err(Error::PeerError(n));
        }
        let child = self.conn.children.get(req.child_index).ok_or(Error::Internal("child config"))?;
        let (answer, tsi, tsr) = child_payloads(payloads).ok_or(Error::InvalidSyntax("Child SA payloads missing"))?;
        let [proposal] = answer else { return Err(Error::InvalidSyntax("responder must choose one ESP proposal")) };
        let suite = Negotiated::from_response(&child.esp_proposals, proposal, false).ok_or(Error::InvalidSyntax("responder chose an ESP proposal we did not offer"))?;
        let outbound_spi = esp_spi(proposal).ok_or(Error::InvalidSyntax("bad ESP SPI"))?;
        let local_ts = ip_selectors(tsi);
        let remote_ts = ip_selectors(tsr);
        if local_ts.is_empty() || remote_ts.is_empty() || !all_within(&local_ts, &child.local_ts) || !all_within(&remote_ts, &child.remote_ts) {
            return Err(Error::TsUnacceptable);
        }
        self.make_child(child, suite, req.inbound_spi, outbound_spi, local_ts, remote_ts, ctx)
    }

    /// Responder: negotiates the Child SA and returns it with the SA, TSi and TSr to send.
    pub(super) fn child_respond(&self, payloads: &[Payload], ctx: &Ctx<'_>) -> Result<(ChildSa, Vec<Payload>), NotifyType> {
        let (offered, tsi, tsr) = child_payloads(payloads).ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
        let mut ts_failed = false;
        for child in &self.conn.children {
            let Some((number, suite, spi)) = offered.iter().find_map(|o| {
                let spi = esp_spi(o)?;
                child.esp_proposals.iter().find_map(|s| s.select(o, false)).map(|n| (o.number, n, spi))
            }) else {
                continue;
            };
            let remote_ts = narrow(tsi, &child.remote_ts);
            let local_ts = narrow(tsr, &child.local_ts);
            if remote_ts.is_empty() || local_ts.is_empty() {
                ts_failed = true;
                continue;
            }
            let inbound_spi = new_spi(ctx).ok_or(NotifyType::TEMPORARY_FAILURE)?;
            let out = vec![
                Payload::Sa(vec![suite.to_wire(number, ProtocolId::ESP, inbound_spi.to_be_bytes().to_vec())]),
                Payload::TsI(remote_ts.iter().cloned().map(TrafficSelector::Ip).collect()),
                Payload::TsR(local_ts.iter().cloned().map(TrafficSelector::Ip).collect()),
            ];
            let sa = self.make_child(child, suite, inbound_spi, spi, local_ts, remote_ts, ctx).map_err(|_| NotifyType::TEMPORARY_FAILURE)?;
            return Ok((sa, out));
        }
        Err(if ts_failed { NotifyType::TS_UNACCEPTABLE } else { NotifyType::NO_PROPOSAL_CHOSEN })
    }

    /// KEYMAT = prf+(SK_d, Ni | Nr), split into the two directions (RFC 7296 §2.17).
    #[allow(clippy::too_many_arguments)]
    fn make_child(
        &self,
        child: &ChildConfig,
        suite: Negotiated,
        inbound_spi: u32,
        outbound_spi: u32,
        local_ts: Vec<IpSelector>,
        remote_ts: Vec<IpSelector>,
        ctx: &Ctx<'_>,
    ) -> Result<ChildSa, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let per_direction = esp_keymat_len(&suite, ctx).ok_or(Error::Internal("ESP cipher not in provider"))?;
        let (i_to_r, r_to_i) = child_keymat(prf, &keys.sk_d, &[], &self.ni, &self.nr, per_direction).ok_or(Error::Internal("KEYMAT"))?;
        let (outbound_keys, inbound_keys) = if self.initiator { (i_to_r, r_to_i) } else { (r_to_i, i_to_r) };
        Ok(ChildSa { name: child.name.clone(), suite, inbound_spi, outbound_spi, inbound_keys, outbound_keys, local_ts, remote_ts })
    }
}

/// Key material per direction: cipher key (+ salt for an AEAD) then integrity key.
fn esp_keymat_len(suite: &Negotiated, ctx: &Ctx<'_>) -> Option<usize> {
    if let Some(a) = suite.aead() {
        return Some(ctx.provider.aead(a)?.keymat_len());
    }
    let (c, i) = suite.cbc()?;
    Some(ctx.provider.cbc(c)?.key_len() + ctx.provider.integ(i)?.key_len())
}

/// A random ESP SPI outside the reserved range 1..=255 (RFC 4303 §2.1).
fn new_spi(ctx: &Ctx<'_>) -> Option<u32> {
    // A random u32 is in the reserved range with probability 2^-24; a few tries suffice.
    for _ in 0..8 {
        let b = random_bytes(ctx.provider, 4)?;
        let spi = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if spi > 255 {
            return Some(spi);
        }
    }
    None
}

fn esp_spi(p: &Proposal) -> Option<u32> {
    (p.protocol == ProtocolId::ESP).then_some(())?;
    let b: [u8; 4] = p.spi.as_slice().try_into().ok()?;
    Some(u32::from_be_bytes(b)).filter(|s| *s > 255)
}

fn child_payloads(p: &[Payload]) -> Option<(&[Proposal], &[TrafficSelector], &[TrafficSelector])> {
    let sa = p.iter().find_map(|x| if let Payload::Sa(v) = x { Some(v.as_slice()) } else { None })?;
    let tsi = p.iter().find_map(|x| if let Payload::TsI(v) = x { Some(v.as_slice()) } else { None })?;
    let tsr = p.iter().find_map(|x| if let Payload::TsR(v) = x { Some(v.as_slice()) } else { None })?;
    Some((sa, tsi, tsr))
}

fn ip_selectors(ts: &[TrafficSelector]) -> Vec<IpSelector> {
    ts.iter().filter_map(|t| if let TrafficSelector::Ip(s) = t { Some(s.clone()) } else { None }).collect()
}
