//! The first Child SA, negotiated inside IKE_AUTH (RFC 7296 §1.2, §2.9, §2.17), and the key
//! derivation shared with CREATE_CHILD_SA.

use ipsec_crypto::SecretBytes;

use super::new_child::RequestId;
use super::state::Handshake;
use super::{Ctx, IkeSa};
use crate::auth_reply::StatusNotify;
use crate::child_request::ChildTag;
use crate::error::Error;
use crate::event::ChildSa;
use crate::keys::child_keymat;
use crate::proposal::Negotiated;
use crate::ts::{all_within, narrow};
use crate::wire::{EspSpi, IpSelector, NotifyType, Payload, Proposal, ProtocolId, TrafficSelector};

/// What the initiator proposed for the first Child SA.
pub(crate) struct FirstChildOffer {
    child_index: usize,
    inbound_spi: EspSpi,
}

/// Everything that defines a new Child SA except its keys.
pub(crate) struct ChildParams {
    pub(crate) config: usize,
    pub(crate) suite: Negotiated,
    pub(crate) inbound_spi: EspSpi,
    pub(crate) outbound_spi: EspSpi,
    pub(crate) local_ts: Vec<IpSelector>,
    pub(crate) remote_ts: Vec<IpSelector>,
    pub(crate) replaces: Option<EspSpi>,
    /// Initiator of a new Child SA: the request it serves.
    pub(crate) request: Option<RequestId>,
    /// The owner's tag (a rekey inherits the old SA's when installed).
    pub(crate) tag: Option<ChildTag>,
    /// Responder of a new Child SA: the request's private-use status notifies.
    pub(crate) peer_notifies: Vec<StatusNotify>,
}

/// Our side's and the peer's traffic selectors of an offer.
pub(crate) struct Selectors {
    pub(crate) local: Vec<IpSelector>,
    pub(crate) remote: Vec<IpSelector>,
}

/// What a responder's [`IkeSa::select_child`] may choose from.
pub(crate) struct ChildWanted<'a> {
    /// Only this template (a rekey).
    pub(crate) only: Option<usize>,
    /// Whether the proposals carry key exchanges (CREATE_CHILD_SA).
    pub(crate) with_ke: bool,
    /// The remote selectors must lie within this one (an application's narrowing).
    pub(crate) remote_limit: Option<&'a IpSelector>,
    /// A rekey: the selectors of the SA it replaces, which bound the new one in place of the
    /// template's (RFC 7296 §2.9.2; a peer cannot widen an SA by rekeying it).
    pub(crate) keep: Option<&'a Selectors>,
}

/// The SA, TSi and TSr payloads that offer or answer a Child SA, in that order on the wire
/// (a CREATE_CHILD_SA puts the nonce and KE between SA and TSi).
pub(crate) struct ChildPayloads {
    pub(crate) sa: Payload,
    pub(crate) tsi: Payload,
    pub(crate) tsr: Payload,
}

impl ChildPayloads {
    fn into_vec(self) -> Vec<Payload> {
        vec![self.sa, self.tsi, self.tsr]
    }
}

/// The secrets and nonces of the exchange that created a Child SA.
pub(crate) struct ChildSeed<'a> {
    /// Whether we initiated that exchange (it decides the key order).
    pub(crate) we_initiated: bool,
    pub(crate) ni: &'a [u8],
    pub(crate) nr: &'a [u8],
    pub(crate) ke: Option<&'a [u8]>,
    pub(crate) additional: &'a [&'a [u8]],
    /// RFC 9867: the `SK_d'` with this exchange's PPK, in place of the IKE SA's SK_d.
    pub(crate) sk_d: Option<&'a SecretBytes>,
}

impl IkeSa {
    /// Initiator: SA, TSi and TSr payloads for the first child of the connection.
    pub(super) fn child_request(
        &self,
        ctx: &mut Ctx<'_>,
    ) -> Option<(FirstChildOffer, Vec<Payload>)> {
        let child = self.conn.children.first()?;
        let inbound_spi = new_spi(ctx)?;
        let payloads = child_offer(child, inbound_spi, false).into_vec();
        Some((
            FirstChildOffer {
                child_index: 0,
                inbound_spi,
            },
            payloads,
        ))
    }

    /// Initiator: the Child SA from the IKE_AUTH response.
    pub(super) fn child_from_response(
        &mut self,
        now: std::time::Instant,
        req: FirstChildOffer,
        hs: &Handshake,
        payloads: &[Payload],
        ctx: &Ctx<'_>,
    ) -> Result<ChildSa, Error> {
        let child =
            (self.conn.children.get(req.child_index)).ok_or(Error::Internal("child config"))?;
        let offered = Selectors {
            local: child.local_ts.clone(),
            remote: child.remote_ts.clone(),
        };
        let params =
            self.accept_child_answer(req.child_index, req.inbound_spi, &offered, false, payloads)?;
        let seed = ChildSeed {
            we_initiated: true,
            ni: &hs.ni,
            nr: &hs.nr,
            ke: None,
            additional: &[],
            sk_d: None,
        };
        self.install_child(now, params, seed, ctx)
    }

    /// Initiator of an exchange: checks the responder's SA, TSi and TSr for a Child SA; the
    /// selectors must lie within those `offered`.
    pub(super) fn accept_child_answer(
        &self,
        config: usize,
        inbound_spi: EspSpi,
        offered: &Selectors,
        with_ke: bool,
        payloads: &[Payload],
    ) -> Result<ChildParams, Error> {
        if let Some(n) = super::first_error_notify(payloads) {
            return Err(Error::PeerError(n));
        }
        let child = self
            .conn
            .children
            .get(config)
            .ok_or(Error::Internal("child config"))?;
        let (answer, tsi, tsr) =
            child_payloads(payloads).ok_or(Error::InvalidSyntax("Child SA payloads missing"))?;
        let [proposal] = answer else {
            return Err(Error::InvalidSyntax(
                "responder must choose one ESP proposal",
            ));
        };
        let suite = Negotiated::from_response(&specs(child, with_ke), proposal, false).ok_or(
            Error::InvalidSyntax("responder chose an ESP proposal we did not offer"),
        )?;
        let outbound_spi = esp_spi(proposal).ok_or(Error::InvalidSyntax("bad ESP SPI"))?;
        let local_ts = ip_selectors(tsi);
        let remote_ts = ip_selectors(tsr);
        if local_ts.is_empty()
            || remote_ts.is_empty()
            || !all_within(&local_ts, &offered.local)
            || !all_within(&remote_ts, &offered.remote)
        {
            return Err(Error::TsUnacceptable);
        }
        Ok(ChildParams {
            config,
            suite,
            inbound_spi,
            outbound_spi,
            local_ts,
            remote_ts,
            replaces: None,
            request: None,
            tag: None,
            peer_notifies: Vec::new(),
        })
    }

    /// Responder: negotiates the first Child SA and returns it with the SA, TSi and TSr to send;
    /// its remote selectors lie within `remote_limit` when given.
    pub(super) fn child_respond(
        &mut self,
        now: std::time::Instant,
        hs: &Handshake,
        payloads: &[Payload],
        remote_limit: Option<&IpSelector>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(ChildSa, Vec<Payload>), NotifyType> {
        let wanted = ChildWanted {
            only: None,
            with_ke: false,
            remote_limit,
            keep: None,
        };
        let (params, out) = self.select_child(payloads, wanted, ctx)?;
        let out = out.into_vec();
        let seed = ChildSeed {
            we_initiated: false,
            ni: &hs.ni,
            nr: &hs.nr,
            ke: None,
            additional: &[],
            sk_d: None,
        };
        let sa = self
            .install_child(now, params, seed, ctx)
            .map_err(|_| NotifyType::TEMPORARY_FAILURE)?;
        Ok((sa, out))
    }

    /// Responder of an exchange: picks a child template, proposal and narrowed selectors.
    pub(super) fn select_child(
        &self,
        payloads: &[Payload],
        wanted: ChildWanted<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(ChildParams, ChildPayloads), NotifyType> {
        let (offered, tsi, tsr) = child_payloads(payloads).ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
        let mut ts_failed = false;
        let templates = self.conn.children.iter().enumerate();
        let only = wanted.only;
        for (config, child) in templates.filter(|(i, _)| only.is_none_or(|o| o == *i)) {
            let Some((number, suite, outbound_spi)) = choose_esp(child, offered, wanted.with_ke)
            else {
                continue;
            };
            let (allowed_local, allowed_remote) = match wanted.keep {
                Some(old) => (&old.local, &old.remote),
                None => (&child.local_ts, &child.remote_ts),
            };
            let mut remote_ts = narrow(tsi, allowed_remote);
            if let Some(limit) = wanted.remote_limit {
                remote_ts = narrow(&wire_selectors(&remote_ts), std::slice::from_ref(limit));
            }
            let local_ts = narrow(tsr, allowed_local);
            if remote_ts.is_empty() || local_ts.is_empty() {
                ts_failed = true;
                continue;
            }
            let inbound_spi = new_spi(ctx).ok_or(NotifyType::TEMPORARY_FAILURE)?;
            let spi = inbound_spi.to_be_bytes().to_vec();
            let out = ChildPayloads {
                sa: Payload::Sa(vec![suite.to_wire(number, ProtocolId::ESP, spi)]),
                tsi: Payload::TsI(wire_selectors(&remote_ts)),
                tsr: Payload::TsR(wire_selectors(&local_ts)),
            };
            let params = ChildParams {
                config,
                suite,
                inbound_spi,
                outbound_spi,
                local_ts,
                remote_ts,
                replaces: None,
                request: None,
                tag: None,
                peer_notifies: Vec::new(),
            };
            return Ok((params, out));
        }
        Err(if ts_failed {
            NotifyType::TS_UNACCEPTABLE
        } else {
            NotifyType::NO_PROPOSAL_CHOSEN
        })
    }

    /// Derives the keys of a Child SA, records it, and returns the event payload.
    pub(super) fn install_child(
        &mut self,
        now: std::time::Instant,
        p: ChildParams,
        seed: ChildSeed<'_>,
        ctx: &Ctx<'_>,
    ) -> Result<ChildSa, Error> {
        let (outbound_keys, inbound_keys) = self.child_keys(&p.suite, &seed, ctx)?;
        let config = (self.conn.children.get(p.config)).ok_or(Error::Internal("child config"))?;
        let (rekey_at, expire_at) = super::children::deadlines(now, &config.lifetime, ctx.provider);
        let name = config.name.clone();
        // A successor keeps its owner, whoever rekeyed it.
        let tag = p.tag.or_else(|| {
            let old = p.replaces?;
            self.children.iter().find(|c| c.inbound_spi == old)?.tag
        });
        // Most IKE SAs carry one Child SA: no spare capacity.
        self.children.reserve_exact(1);
        self.children.push(super::children::ChildEntry {
            config: p.config,
            inbound_spi: p.inbound_spi,
            outbound_spi: p.outbound_spi,
            suite: p.suite.clone(),
            local_ts: p.local_ts.clone(),
            remote_ts: p.remote_ts.clone(),
            rekey_at,
            expire_at,
            rekeying: false,
            rekeyed_by_peer: None,
            tag,
        });
        Ok(ChildSa {
            name,
            suite: p.suite,
            inbound_spi: p.inbound_spi,
            outbound_spi: p.outbound_spi,
            inbound_keys,
            outbound_keys,
            local_ts: p.local_ts,
            remote_ts: p.remote_ts,
            replaces: p.replaces,
            we_initiated: seed.we_initiated,
            local: self.local,
            remote: self.remote,
            udp_encapsulation: self.nat_detected(),
            tag,
            peer_notifies: p.peer_notifies,
        })
    }

    /// KEYMAT (RFC 7296 §2.17) as `(outbound, inbound)` key material.
    fn child_keys(
        &self,
        suite: &Negotiated,
        seed: &ChildSeed<'_>,
        ctx: &Ctx<'_>,
    ) -> Result<(SecretBytes, SecretBytes), Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let per_direction =
            esp_keymat_len(suite, ctx).ok_or(Error::Internal("ESP cipher not in provider"))?;
        let sk_d = seed.sk_d.unwrap_or(&keys.sk_d);
        let (i_to_r, r_to_i) = child_keymat(
            prf,
            sk_d,
            seed.ke,
            seed.ni,
            seed.nr,
            seed.additional,
            per_direction,
        )
        .ok_or(Error::Internal("KEYMAT"))?;
        Ok(if seed.we_initiated {
            (i_to_r, r_to_i)
        } else {
            (r_to_i, i_to_r)
        })
    }
}

/// The first offered ESP proposal the template accepts: its number, the suite and the
/// peer's SPI.
fn choose_esp(
    child: &crate::config::ChildConfig,
    offered: &[Proposal],
    with_ke: bool,
) -> Option<(u8, Negotiated, EspSpi)> {
    offered.iter().find_map(|o| {
        let spi = esp_spi(o)?;
        specs(child, with_ke)
            .iter()
            .find_map(|s| s.select(o, false))
            .map(|n| (o.number, n, spi))
    })
}

pub(super) fn wire_selectors(ts: &[IpSelector]) -> Vec<TrafficSelector> {
    ts.iter().cloned().map(TrafficSelector::Ip).collect()
}

/// SA (with our inbound SPI in every proposal), TSi and TSr for a child template.
pub(super) fn child_offer(
    child: &crate::config::ChildConfig,
    inbound_spi: EspSpi,
    with_ke: bool,
) -> ChildPayloads {
    let spi = inbound_spi.to_be_bytes().to_vec();
    let proposals = specs(child, with_ke)
        .iter()
        .enumerate()
        .map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::ESP, spi.clone()))
        .collect();
    ChildPayloads {
        sa: Payload::Sa(proposals),
        tsi: Payload::TsI(wire_selectors(&child.local_ts)),
        tsr: Payload::TsR(wire_selectors(&child.remote_ts)),
    }
}

/// The ESP proposals of a template; without KE methods for the first Child SA, which takes its
/// keys from IKE_AUTH (RFC 7296 §1.2; peers strip them too).
pub(super) fn specs(
    child: &crate::config::ChildConfig,
    with_ke: bool,
) -> Vec<crate::proposal::ProposalSpec> {
    child
        .esp_proposals
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if !with_ke {
                p.ke = Default::default();
            }
            p
        })
        .collect()
}

/// Key material per direction: cipher key (+ salt for an AEAD) then integrity key.
fn esp_keymat_len(suite: &Negotiated, ctx: &Ctx<'_>) -> Option<usize> {
    if let Some(a) = suite.aead() {
        return Some(ctx.provider.aead(a)?.keymat_len());
    }
    let (c, i) = suite.cbc()?;
    Some(ctx.provider.cbc(c)?.key_len() + ctx.provider.integ(i)?.key_len())
}

/// A fresh inbound ESP SPI outside the reserved range 1..=255 (RFC 4303 §2.1), unique across
/// the endpoint (see `spi_book.rs`).
pub(super) fn new_spi(ctx: &mut Ctx<'_>) -> Option<EspSpi> {
    ctx.spis.allocate(ctx.provider)
}

/// The peer's SPI in an ESP proposal, if it is one an SA may use.
fn esp_spi(p: &Proposal) -> Option<EspSpi> {
    (p.protocol == ProtocolId::ESP).then_some(())?;
    EspSpi::from_slice(&p.spi).filter(|s| s.is_assignable())
}

pub(super) fn child_payloads(
    p: &[Payload],
) -> Option<(&[Proposal], &[TrafficSelector], &[TrafficSelector])> {
    let sa = p.iter().find_map(|x| {
        if let Payload::Sa(v) = x {
            Some(v.as_slice())
        } else {
            None
        }
    })?;
    let tsi = p.iter().find_map(|x| {
        if let Payload::TsI(v) = x {
            Some(v.as_slice())
        } else {
            None
        }
    })?;
    let tsr = p.iter().find_map(|x| {
        if let Payload::TsR(v) = x {
            Some(v.as_slice())
        } else {
            None
        }
    })?;
    Some((sa, tsi, tsr))
}

fn ip_selectors(ts: &[TrafficSelector]) -> Vec<IpSelector> {
    ts.iter()
        .filter_map(|t| {
            if let TrafficSelector::Ip(s) = t {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect()
}
