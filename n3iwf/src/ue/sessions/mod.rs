//! The PDU sessions of a registered UE (TS 23.502 §4.12.5, TS 24.502 §7.5): each session the
//! AMF asks for gets a DL TEID and a user-plane Child SA created with the UE; the response to
//! the AMF, the user plane and the PDU Session NAS-PDU go out once every Child SA of the
//! request is settled.
//!
//! Requests are handled in arrival order, and one CREATE_CHILD_SA at a time per UE: a UE runs
//! one IKE exchange at a time in each direction, and the order keeps the NAS-PDUs in order.
//!
//! A session the N3IWF cannot serve goes to the failed list with its cause:
//!
//! | Why | Cause |
//! |-----|-------|
//! | the transfer does not decode or is faulty | [`TransferError::cause`](crate::ngap::TransferError::cause) |
//! | its PDU session ID is in use or twice in the request | radio network / multiple-PDU-session-ID-instances |
//! | Ethernet or Unstructured (NWu's GRE carries IP here) | radio network / unspecified |
//! | the UL tunnel of another session of the node | radio network / unspecified |
//! | the UE's or the node's session bound is reached | radio network / radio-resources-not-available |
//! | no N3 address is configured | transport / transport-resource-unavailable |
//! | the UE refused the CREATE_CHILD_SA, or it failed | radio network / failure-in-radio-interface-procedure |

mod admit;
mod child;
mod finish;

use std::collections::{BTreeMap, VecDeque};

use super::NgIds;
use crate::ids::{PduSessionId, Teid};
use crate::ngap::{Cause, PduSessionResourceSetupRequestTransfer, PduSessionTransfer};
use crate::node::{
    ChildRequestId, Ctx, Event, IkeSaRef, Output, UeId, UserPlaneChild, UserPlaneSession,
};

/// The sessions of one UE, and the setup procedures waiting on their Child SAs.
#[derive(Default)]
pub(crate) struct Sessions {
    table: BTreeMap<PduSessionId, Session>,
    /// Oldest first; only the first one's sessions get Child SAs.
    procedures: VecDeque<Procedure>,
    /// The CREATE_CHILD_SA the engine runs for this UE.
    in_flight: Option<InFlight>,
}

struct Session {
    transfer: PduSessionResourceSetupRequestTransfer,
    dl_teid: Teid,
    /// The PDU Session NAS-PDU, for the UE once the session is set up.
    nas_pdu: Option<Vec<u8>>,
    child: Option<UserPlaneChild>,
    /// In the datapath ([`Output::UserPlaneAdd`] went out).
    added: bool,
}

#[derive(Clone, Copy)]
struct InFlight {
    id: ChildRequestId,
    session: PduSessionId,
}

/// Which message answers a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcedureKind {
    /// INITIAL CONTEXT SETUP: the sessions of the request, answered with its RESPONSE.
    ContextSetup,
    /// PDU SESSION RESOURCE SETUP.
    SessionSetup,
}

struct Procedure {
    kind: ProcedureKind,
    ng: NgIds,
    /// The sessions admitted, in the request's order.
    members: Vec<PduSessionId>,
    failed: Vec<PduSessionTransfer>,
}

impl Sessions {
    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty() && self.procedures.is_empty()
    }

    /// Drops a session: out of the datapath if it was in, its DL TEID and UL tunnel freed. The
    /// Child SA is left to the caller.
    fn remove(
        &mut self,
        ue: UeId,
        sa: IkeSaRef,
        id: PduSessionId,
        ctx: &mut Ctx<'_>,
    ) -> Option<Session> {
        let session = self.table.remove(&id)?;
        forget_tunnels(ue, &session, ctx);
        if session.added {
            ctx.out.push_back(Output::UserPlaneRemove {
                dl_teid: session.dl_teid,
            });
            ctx.stats.sessions_released += 1;
            ctx.event(Event::SessionReleased {
                sa,
                pdu_session_id: id,
                dl_teid: session.dl_teid,
            });
        }
        Some(session)
    }

    /// The UE's context leaves the registered state: every session goes, without NGAP (the
    /// context release carries it) and without deleting Child SAs (the IKE SA goes with them).
    pub(crate) fn clear(&mut self, ue: UeId, sa: IkeSaRef, ctx: &mut Ctx<'_>) {
        let ids: Vec<_> = self.table.keys().copied().collect();
        for id in ids {
            self.remove(ue, sa, id, ctx);
        }
        self.procedures.clear();
        self.in_flight = None;
    }

    /// The user-plane state of a session with its Child SA.
    fn view(
        &self,
        id: PduSessionId,
        sa: IkeSaRef,
        ctx: &Ctx<'_>,
        inner: std::net::Ipv4Addr,
    ) -> Option<UserPlaneSession> {
        let session = self.table.get(&id)?;
        Some(UserPlaneSession {
            sa,
            pdu_session_id: id,
            dl_teid: session.dl_teid,
            upf: session.transfer.ul_tunnel,
            ue_inner_address: inner,
            up_address: ctx.config.user_plane_address(),
            children: session.child.iter().cloned().collect(),
            session_ambr: session.transfer.session_ambr,
        })
    }
}

impl Procedure {
    /// Puts a session in the failed list with its Unsuccessful Transfer.
    fn fail(&mut self, sa: IkeSaRef, id: PduSessionId, cause: Cause, ctx: &mut Ctx<'_>) {
        ctx.stats.sessions_failed += 1;
        ctx.event(Event::SessionFailed {
            sa,
            pdu_session_id: id,
            cause,
        });
        // Every cause the core picks is in this release's ASN.1.
        if let Ok(transfer) = crate::ngap::setup_unsuccessful_transfer(cause) {
            self.failed.push(PduSessionTransfer {
                pdu_session_id: id,
                transfer,
            });
        }
    }
}

fn forget_tunnels(ue: UeId, session: &Session, ctx: &mut Ctx<'_>) {
    ctx.teids.release(session.dl_teid, ue);
    let upf = session.transfer.ul_tunnel;
    for address in upf_addresses(upf.address) {
        if ctx.ul_tunnels.get(&(address, upf.teid)).map(|(u, _)| *u) == Some(ue) {
            ctx.ul_tunnels.remove(&(address, upf.teid));
        }
    }
}

/// The addresses a UPF's Error Indication may come from: each family of its transport address.
fn upf_addresses(address: crate::ngap::TransportAddress) -> Vec<std::net::IpAddr> {
    use crate::ngap::TransportAddress as A;
    match address {
        A::V4(v4) => vec![v4.into()],
        A::V6(v6) => vec![v6.into()],
        A::Dual(v4, v6) => vec![v4.into(), v6.into()],
    }
}
