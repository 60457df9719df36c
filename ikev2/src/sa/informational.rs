//! INFORMATIONAL exchanges (RFC 7296 §1.4): DELETE of Child SAs and of the IKE SA, and the
//! empty request used as a liveness check (§2.4).

use std::time::Instant;

use super::tasks::{Active, InfoKind};
use super::{Ctx, IkeSa};
use crate::event::CloseReason;
use crate::wire::{Delete, EspSpi, ExchangeType, Notify, NotifyType, Payload, ProtocolId};

impl IkeSa {
    /// Sends an INFORMATIONAL request for `kind`.
    pub(super) fn send_informational(&mut self, now: Instant, kind: InfoKind, ctx: &mut Ctx<'_>) {
        let payloads = match kind {
            InfoKind::Dpd => Vec::new(),
            InfoKind::Notify => std::mem::take(&mut self.pending_notifies),
            InfoKind::DeleteChild { inbound_spi } => vec![esp_delete(&[inbound_spi])],
            InfoKind::DeleteIke => vec![Payload::Delete(Delete {
                protocol: ProtocolId::IKE,
                spi_size: 0,
                spis: Vec::new(),
            })],
        };
        if self
            .send_request(now, ExchangeType::INFORMATIONAL, &payloads, ctx)
            .is_some()
        {
            self.active = Some(Active::Informational(kind));
        }
    }

    /// The response to one of our INFORMATIONAL requests.
    pub(super) fn handle_informational_response(&mut self, kind: InfoKind, ctx: &mut Ctx<'_>) {
        match kind {
            InfoKind::Dpd | InfoKind::Notify => {}
            InfoKind::DeleteChild { inbound_spi } => {
                self.remove_child(inbound_spi, CloseReason::Local, ctx);
            }
            InfoKind::DeleteIke => self.close(CloseReason::Local, ctx),
        }
    }

    /// An INFORMATIONAL request from the peer.
    pub(super) fn handle_informational_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        self.handle_invalid_spi(payloads, ctx);
        let deletes = payloads.iter().filter_map(|p| match p {
            Payload::Delete(d) => Some(d),
            _ => None,
        });
        let mut ours = Vec::new();
        let mut delete_ike = false;
        for d in deletes {
            match d.protocol {
                ProtocolId::IKE => delete_ike = true,
                ProtocolId::ESP => ours.extend(self.peer_deleted_children(d, ctx)),
                _ => {}
            }
        }
        if delete_ike {
            self.respond(now, ExchangeType::INFORMATIONAL, Vec::new(), ctx);
            tracing::info!(sa = %self.id, "peer deleted the IKE SA");
            // RFC 7296 §2.8.2: a peer that did not notice our crossing rekey deletes the old SA;
            // the new SA of its rekey takes the Child SAs before this one closes.
            self.collision_old_deleted(ctx);
            self.close(CloseReason::Peer, ctx);
            return;
        }
        let out = if ours.is_empty() {
            Vec::new()
        } else {
            vec![esp_delete(&ours)]
        };
        self.respond(now, ExchangeType::INFORMATIONAL, out, ctx);
    }

    /// Removes the Child SAs an ESP DELETE names; returns the inbound SPIs of those whose
    /// DELETE our response repeats (RFC 7296 §1.4.1: not those we are deleting ourselves).
    fn peer_deleted_children(&mut self, d: &Delete, ctx: &mut Ctx<'_>) -> Vec<EspSpi> {
        let mut ours = Vec::new();
        // The peer names its inbound SPIs, which are our outbound ones.
        for spi in d.spis.iter().filter_map(|s| EspSpi::from_slice(s)) {
            let Some(c) = self.children.iter().find(|c| c.outbound_spi == spi) else {
                continue;
            };
            let inbound = c.inbound_spi;
            let deleting = matches!(self.active, Some(Active::Informational(InfoKind::DeleteChild { inbound_spi })) if inbound_spi == inbound);
            self.remove_child(inbound, CloseReason::Peer, ctx);
            if !deleting {
                ours.push(inbound);
            }
        }
        ours
    }
}

impl IkeSa {
    /// Queues an INFORMATIONAL request carrying `payloads` (notifies).
    fn queue_informational(&mut self, now: Instant, mut payloads: Vec<Payload>, ctx: &mut Ctx<'_>) {
        self.pending_notifies.append(&mut payloads);
        self.queue(now, super::tasks::Task::Notify, ctx);
    }

    /// RFC 7296 §1.5: the datapath got ESP for an SPI of ours it does not know; tell the peer so
    /// it can drop its half of that SA (at most once per SPI).
    pub(crate) fn send_invalid_spi(&mut self, now: Instant, spi: EspSpi, ctx: &mut Ctx<'_>) {
        if self.invalid_spis_sent.contains(&spi) || self.invalid_spis_sent.len() >= 64 {
            return;
        }
        self.invalid_spis_sent.push(spi);
        let n = Notify {
            protocol: ProtocolId::ESP,
            spi: Vec::new(),
            notify_type: NotifyType::INVALID_SPI,
            data: spi.to_be_bytes().to_vec(),
        };
        self.queue_informational(now, vec![Payload::Notify(n)], ctx);
    }

    /// The peer does not know an SPI we send with: that Child SA is half-closed; drop it.
    fn handle_invalid_spi(&mut self, payloads: &[Payload], ctx: &mut Ctx<'_>) {
        let reported = payloads.iter().filter_map(|p| match p {
            Payload::Notify(n) if n.notify_type == NotifyType::INVALID_SPI => {
                EspSpi::from_slice(&n.data)
            }
            _ => None,
        });
        for spi in reported {
            if let Some(inbound) = self
                .children
                .iter()
                .find(|c| c.outbound_spi == spi)
                .map(|c| c.inbound_spi)
            {
                tracing::info!(sa = %self.id, %spi, "peer reported INVALID_SPI; Child SA removed");
                self.remove_child(inbound, CloseReason::Peer, ctx);
            }
        }
    }
}

fn esp_delete(spis: &[EspSpi]) -> Payload {
    Payload::Delete(Delete {
        protocol: ProtocolId::ESP,
        spi_size: 4,
        spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
    })
}
