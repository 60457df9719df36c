//! Taking in the sessions of a request: each is admitted with a DL TEID, or failed with its
//! cause (see the module documentation).

use super::{Procedure, ProcedureKind, Session, Sessions, upf_addresses};
use crate::ids::PduSessionId;
use crate::ngap::{
    Cause, PduSessionResourceSetupRequestTransfer, PduSessionSetupItem, RadioNetworkCause,
    TransportCause,
};
use crate::node::{Ctx, IkeSaRef, UeId};
use crate::ue::NgIds;

impl Sessions {
    /// Queues a procedure for the sessions of `items`; those that cannot be served are in its
    /// failed list already.
    pub(crate) fn admit(
        &mut self,
        ue: UeId,
        sa: IkeSaRef,
        kind: ProcedureKind,
        ng: NgIds,
        items: Vec<PduSessionSetupItem>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut procedure = Procedure {
            kind,
            ng,
            members: Vec::with_capacity(items.len()),
            failed: Vec::new(),
        };
        let repeated = repeated_ids(&items);
        for item in items {
            let id = item.pdu_session_id;
            let admitted = match repeated.contains(&id) {
                // TS 38.413 §8.2.1.4: every instance of a repeated ID fails.
                true => Err(Cause::RadioNetwork(
                    RadioNetworkCause::MULTIPLE_PDU_SESSION_ID_INSTANCES,
                )),
                false => self.admit_one(ue, item, ctx),
            };
            match admitted {
                Ok(()) => procedure.members.push(id),
                Err(cause) => procedure.fail(sa, id, cause, ctx),
            }
        }
        self.procedures.push_back(procedure);
    }

    fn admit_one(
        &mut self,
        ue: UeId,
        item: PduSessionSetupItem,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Cause> {
        let radio = Cause::RadioNetwork;
        if self.table.contains_key(&item.pdu_session_id) {
            return Err(radio(RadioNetworkCause::MULTIPLE_PDU_SESSION_ID_INSTANCES));
        }
        let transfer = PduSessionResourceSetupRequestTransfer::decode(&item.transfer)
            .map_err(|e| e.cause())?;
        if !transfer.session_type.is_ip() {
            return Err(radio(RadioNetworkCause::UNSPECIFIED));
        }
        // Another session's UL tunnel: the UPF's Error Indication could not tell them apart.
        let ul = transfer.ul_tunnel;
        if upf_addresses(ul.address)
            .iter()
            .any(|a| ctx.ul_tunnels.contains_key(&(*a, ul.teid)))
        {
            return Err(radio(RadioNetworkCause::UNSPECIFIED));
        }
        if ctx.config.n3_address.is_none() {
            return Err(Cause::Transport(
                TransportCause::TRANSPORT_RESOURCE_UNAVAILABLE,
            ));
        }
        if self.table.len() >= ctx.config.limits.max_sessions_per_ue {
            return Err(radio(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE));
        }
        let dl_teid = ctx
            .teids
            .allocate(ue)
            .ok_or_else(|| radio(RadioNetworkCause::RADIO_RESOURCES_NOT_AVAILABLE))?;
        self.insert(
            ue,
            item.pdu_session_id,
            transfer,
            dl_teid,
            item.nas_pdu,
            ctx,
        );
        Ok(())
    }

    fn insert(
        &mut self,
        ue: UeId,
        id: PduSessionId,
        transfer: PduSessionResourceSetupRequestTransfer,
        dl_teid: crate::ids::Teid,
        nas_pdu: Option<Vec<u8>>,
        ctx: &mut Ctx<'_>,
    ) {
        for address in upf_addresses(transfer.ul_tunnel.address) {
            ctx.ul_tunnels
                .insert((address, transfer.ul_tunnel.teid), (ue, id));
        }
        self.table.insert(
            id,
            Session {
                transfer,
                dl_teid,
                nas_pdu,
                child: None,
                added: false,
            },
        );
    }
}

/// The PDU session IDs a request names more than once.
fn repeated_ids(items: &[PduSessionSetupItem]) -> Vec<PduSessionId> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items
        .iter()
        .map(|i| i.pdu_session_id)
        .filter(|id| !seen.insert(*id))
        .collect()
}
