//! The inputs of PDU sessions' user plane: the engine's outcome of each CREATE_CHILD_SA the
//! core asked for, Child SA rekeys, and GTP-U Error Indications from a UPF.

use std::net::IpAddr;
use std::time::Instant;

use super::{ChildRequestId, IkeSaRef, N3iwf};
use crate::ids::Teid;
use crate::ue::{Step, UeState};

impl N3iwf {
    /// The CREATE_CHILD_SA of [`Output::CreateChildSa`](super::Output::CreateChildSa) `request`
    /// completed: our SPI `inbound_spi`, the UE's `outbound_spi`.
    pub fn handle_child_sa_created(
        &mut self,
        sa: IkeSaRef,
        request: ChildRequestId,
        inbound_spi: u32,
        outbound_spi: u32,
        now: Instant,
    ) {
        self.step_established(sa, now, |e, common, ctx| {
            e.child_created(common, request, inbound_spi, outbound_spi, ctx)
        });
    }

    /// The UE refused the CREATE_CHILD_SA of `request`, or the exchange failed.
    pub fn handle_child_sa_failed(&mut self, sa: IkeSaRef, request: ChildRequestId, now: Instant) {
        self.step_established(sa, now, |e, common, ctx| {
            e.child_failed(common, request, ctx)
        });
    }

    /// A user-plane Child SA was rekeyed, by either side: the successor has our SPI
    /// `new_inbound_spi` and the UE's `new_outbound_spi`. The session's user plane is updated
    /// ([`Output::UserPlaneUpdate`](super::Output::UserPlaneUpdate)).
    pub fn handle_child_sa_rekeyed(
        &mut self,
        sa: IkeSaRef,
        old_inbound_spi: u32,
        new_inbound_spi: u32,
        new_outbound_spi: u32,
        now: Instant,
    ) {
        self.step_established(sa, now, |e, common, ctx| {
            e.child_rekeyed(
                common,
                old_inbound_spi,
                (new_inbound_spi, new_outbound_spi),
                ctx,
            )
        });
    }

    /// A GTP-U Error Indication (TS 29.281 §7.3.1) from the UPF at `upf` for our UL tunnel
    /// `ul_teid`: the UPF has no such tunnel, so the session's user plane is dead. The session
    /// is released here (Child SA deleted, user plane removed) and towards the AMF with PDU
    /// SESSION RESOURCE NOTIFY, its released list naming it (TS 38.413 §8.2.4); the UE keeps
    /// its other sessions. An indication for no session of ours is counted and dropped.
    pub fn handle_gtpu_error_indication(&mut self, upf: IpAddr, ul_teid: Teid, now: Instant) {
        self.shared.stats.gtpu_error_indications += 1;
        let Some(&(id, pdu_session_id)) = self.shared.ul_tunnels.get(&(upf, ul_teid)) else {
            self.shared.stats.unknown_references += 1;
            return;
        };
        self.ues.step(
            &mut self.shared,
            now,
            id,
            |state, common, ctx| match state {
                UeState::Established(e) => e.upf_lost(common, pdu_session_id, ctx),
                other => Step::Next(other),
            },
        );
    }

    fn step_established(
        &mut self,
        sa: IkeSaRef,
        now: Instant,
        f: impl FnOnce(
            crate::ue::Established,
            &mut crate::ue::UeCommon,
            &mut super::Ctx<'_>,
        ) -> crate::ue::Established,
    ) {
        self.step_by_sa(sa, now, |state, common, ctx| match state {
            UeState::Established(e) => Step::Next(UeState::Established(f(e, common, ctx))),
            other => {
                ctx.stats.unknown_references += 1;
                Step::Next(other)
            }
        });
    }
}
