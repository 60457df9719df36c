//! Answering the AMF: the setup response once a procedure's Child SAs are settled, the release
//! of sessions, and a session the UPF no longer knows.

use std::net::Ipv4Addr;

use super::{Procedure, ProcedureKind};
use crate::ids::PduSessionId;
use crate::ngap::{
    Cause, GtpTunnel, InitialContextSetupResponse, PduSessionResourceNotify,
    PduSessionResourceSetupResponse, PduSessionResourceSetupResponseTransfer, PduSessionTransfer,
    SecurityResult, TransportCause, notify_released_transfer,
};
use crate::node::{Ctx, Event, Output};
use crate::ue::{Established, Step, UeCommon, UeState, location};

impl Established {
    /// Every session of `done` is settled: the user plane of those set up goes to the
    /// datapath, their NAS-PDUs to the UE, then the response to the AMF.
    pub(super) fn finish(
        mut self,
        common: &mut UeCommon,
        done: Procedure,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let Procedure {
            kind,
            ng,
            members,
            mut failed,
        } = done;
        let mut setup = Vec::with_capacity(members.len());
        let mut nas = Vec::new();
        for id in members {
            match self.set_up(common, id, ctx) {
                Some((transfer, pdu)) => {
                    setup.push(transfer);
                    nas.extend(pdu);
                }
                None => continue,
            }
        }
        for pdu in nas {
            self = self.on_downlink_nas(pdu, ctx);
        }
        failed.sort_by_key(|f| f.pdu_session_id);
        match kind {
            ProcedureKind::ContextSetup => {
                let response = InitialContextSetupResponse {
                    ids: ng.ids,
                    setup,
                    failed,
                    diagnostics: None,
                };
                ctx.send_ngap(ng.amf, ng.stream, response);
            }
            ProcedureKind::SessionSetup => {
                let response = PduSessionResourceSetupResponse {
                    ids: ng.ids,
                    setup,
                    failed,
                    diagnostics: None,
                };
                ctx.send_ngap(ng.amf, ng.stream, response);
            }
        }
        self
    }

    /// A session with its Child SA goes to the datapath: its setup item and NAS-PDU. `None`
    /// for one released meanwhile.
    fn set_up(
        &self,
        common: &mut UeCommon,
        id: PduSessionId,
        ctx: &mut Ctx<'_>,
    ) -> Option<(PduSessionTransfer, Option<Vec<u8>>)> {
        let inner = common.keys.inner.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let view = common.sessions.view(id, self.sa, ctx, inner)?;
        let session = common.sessions.table.get_mut(&id)?;
        let n3 = ctx.config.n3_address?;
        let response = PduSessionResourceSetupResponseTransfer {
            dl_tunnel: GtpTunnel {
                address: n3.into(),
                teid: session.dl_teid,
            },
            qos_flows: session.transfer.qos_flows.iter().map(|f| f.qfi).collect(),
            // ESP protects every user-plane Child SA both ways.
            security_result: session.transfer.security.map(|_| SecurityResult {
                integrity_performed: true,
                confidentiality_performed: true,
            }),
        };
        // 1 to 64 QFIs: the transfer was read with that bound.
        let transfer = response.encode().ok()?;
        session.added = true;
        ctx.stats.sessions_set_up += 1;
        ctx.event(Event::SessionSetUp {
            sa: self.sa,
            pdu_session_id: id,
            dl_teid: view.dl_teid,
        });
        ctx.out.push_back(Output::UserPlaneAdd(view));
        let transfer = PduSessionTransfer {
            pdu_session_id: id,
            transfer,
        };
        Some((transfer, session.nas_pdu.take()))
    }

    /// Releases a session: its Child SA deleted, its user plane removed, its TEID freed. False
    /// when the UE has no such session.
    pub(crate) fn release_session(
        &self,
        common: &mut UeCommon,
        id: PduSessionId,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let Some(session) = common.sessions.remove(common.id, self.sa, id, ctx) else {
            return false;
        };
        if let Some(child) = session.child {
            ctx.out.push_back(Output::DeleteChildSa {
                sa: self.sa,
                inbound_spi: child.inbound_spi,
            });
        }
        true
    }

    /// The UPF reported the session's UL tunnel unknown (GTP-U Error Indication): the session
    /// is released here and PDU SESSION RESOURCE NOTIFY tells the AMF, with transport /
    /// transport-resource-unavailable. The rest of the UE's context stays.
    pub(crate) fn upf_lost(
        self,
        common: &mut UeCommon,
        id: PduSessionId,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        if !self.release_session(common, id, ctx) {
            return Step::Next(UeState::Established(self));
        }
        let cause = Cause::Transport(TransportCause::TRANSPORT_RESOURCE_UNAVAILABLE);
        let released = notify_released_transfer(cause)
            .ok()
            .map(|transfer| PduSessionTransfer {
                pdu_session_id: id,
                transfer,
            });
        let notify = PduSessionResourceNotify {
            ids: self.ng.ids,
            released: released.into_iter().collect(),
            location: Some(location(common)),
        };
        ctx.send_ngap(self.ng.amf, self.ng.stream, notify);
        Step::Next(UeState::Established(self.drive(common, ctx)))
    }
}
