//! What the core gives the daemon: [`Output`]s to act on, in order, and [`Event`]s to log.

use core::fmt;
use std::net::Ipv4Addr;

use super::handles::{AmfRef, IkeSaRef, NasConnId, StreamId};
use super::stats::EndCause;
use super::user_plane::{UserPlaneChildRequest, UserPlaneSession};
use crate::ids::{PduSessionId, Teid};
use crate::ngap::{AmfUeNgapId, Cause, RanUeNgapId, SecurityKey};
use crate::wire::notify3gpp::N3gppNotify;

/// One thing for the daemon to do, from [`N3iwf::poll_output`](super::N3iwf::poll_output).
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// Answer the EAP method of the IKE SA: `ikev2::Endpoint::eap_respond` with the step
    /// [`EapAnswer`] maps to. Exactly one per EAP packet the core was given, except for those it
    /// counted as duplicates.
    EapAnswer { sa: IkeSaRef, answer: EapAnswer },
    /// Delete the IKE SA (and its Child SAs) towards the UE.
    CloseIkeSa { sa: IkeSaRef },
    /// Send an NGAP PDU (SCTP PPID 60) on the AMF's association and stream.
    Ngap {
        amf: AmfRef,
        stream: StreamId,
        octets: Vec<u8>,
    },
    /// Write on a NAS TCP connection: one or more NAS messages, each already in its 2-octet
    /// envelope (TS 24.502 §9.4). Writes to one connection keep their order.
    NasTcpSend { conn: NasConnId, octets: Vec<u8> },
    /// Close a NAS TCP connection (after any writes queued before this).
    NasTcpClose { conn: NasConnId },
    /// Start CREATE_CHILD_SA for a user-plane Child SA on the UE's IKE SA; report the outcome
    /// with [`N3iwf::handle_child_sa_created`](super::N3iwf::handle_child_sa_created) or
    /// [`N3iwf::handle_child_sa_failed`](super::N3iwf::handle_child_sa_failed). The core asks
    /// for one at a time per UE.
    CreateChildSa {
        sa: IkeSaRef,
        request: UserPlaneChildRequest,
    },
    /// Delete the Child SA of our SPI `inbound_spi` (INFORMATIONAL DELETE).
    DeleteChildSa { sa: IkeSaRef, inbound_spi: u32 },
    /// Install a session's user plane in the datapath.
    UserPlaneAdd(UserPlaneSession),
    /// Replace the user plane of the session of the same DL TEID (a Child SA was rekeyed):
    /// install the new SPIs before dropping the old ones, so that no packet is lost.
    UserPlaneUpdate(UserPlaneSession),
    /// Remove the user plane of the session of this DL TEID.
    UserPlaneRemove { dl_teid: Teid },
    /// Something to log or count.
    Event(Event),
}

/// The answer to one EAP packet of an IKE SA.
#[derive(Debug)]
pub enum EapAnswer {
    /// The next EAP Request (5G-Start or 5G-NAS): `EapStep::Message`.
    Request(Vec<u8>),
    /// EAP-Success: `EapStep::Success` with the MSK, and what the final IKE_AUTH response
    /// carries.
    Success(Box<EapSuccess>),
    /// EAP-Failure: `EapStep::Failure`; the engine fails the IKE SA.
    Failure,
}

/// What EAP-Success hands the engine for the final IKE_AUTH exchange (TS 24.502 §7.3.2).
pub struct EapSuccess {
    /// KN3IWF from the AMF, the MSK of both AUTH payloads (TS 33.501 §7.2.1).
    pub msk: SecurityKey,
    /// CP(CFG_REPLY): INTERNAL_IP4_ADDRESS, whether the UE asked for it in the first or in the
    /// last IKE_AUTH request.
    pub internal_address: Ipv4Addr,
    /// CP(CFG_REPLY): INTERNAL_IP4_NETMASK.
    pub internal_netmask: Ipv4Addr,
    /// The Notify NAS_IP4_ADDRESS of the final response.
    pub nas_address: Ipv4Addr,
    /// The Notify NAS_TCP_PORT of the final response.
    pub nas_tcp_port: u16,
}

impl EapSuccess {
    /// The 3GPP notifies of the final IKE_AUTH response, in the order to send them.
    pub fn notifies(&self) -> [N3gppNotify; 2] {
        [
            N3gppNotify::NasIp4Address(self.nas_address),
            N3gppNotify::NasTcpPort(self.nas_tcp_port),
        ]
    }
}

impl fmt::Debug for EapSuccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EapSuccess")
            .field("msk", &"<redacted>")
            .field("internal_address", &self.internal_address)
            .field("internal_netmask", &self.internal_netmask)
            .field("nas_address", &self.nas_address)
            .field("nas_tcp_port", &self.nas_tcp_port)
            .finish()
    }
}

/// Why the engine reports an IKE SA gone, as [`N3iwf::handle_ike_sa_closed`] takes it.
///
/// [`N3iwf::handle_ike_sa_closed`]: super::N3iwf::handle_ike_sa_closed
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IkeSaGone {
    /// The UE deleted it (INFORMATIONAL DELETE) or started over (INITIAL_CONTACT).
    DeletedByUe,
    /// The UE stopped answering: liveness check or retransmissions exhausted.
    UeUnreachable,
    /// The UE's AUTH in the final IKE_AUTH did not verify with the MSK.
    AuthenticationFailed,
    /// Any other failure of the SA (a protocol error, a half-open timeout).
    Failed,
    /// Deleted by us (an operator command, shutdown).
    Local,
}

/// Something that happened, for logs and metrics. The counters of
/// [`Stats`](super::Stats) hold the same facts in aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// NG SETUP RESPONSE: the AMF serves UEs from now on.
    AmfReady { amf: AmfRef, name: String },
    /// NG SETUP FAILURE (or a refused response); NG Setup is tried again after a while.
    AmfRefused { amf: AmfRef, cause: Option<Cause> },
    /// The N2 association went down; its UEs were released locally.
    AmfDown { amf: AmfRef, released_ues: usize },
    /// The AMF reset the interface or some UEs; they were released locally.
    NgResetByAmf { amf: AmfRef, released_ues: usize },
    /// An ERROR INDICATION from the AMF.
    ErrorIndicationReceived {
        amf: AmfRef,
        amf_ue_ngap_id: Option<AmfUeNgapId>,
        ran_ue_ngap_id: Option<RanUeNgapId>,
        cause: Option<Cause>,
    },
    /// An NGAP PDU that gave no message to act on; an ERROR INDICATION went back when the
    /// criticality asked for one.
    NgapRefused {
        amf: AmfRef,
        procedure_code: Option<u8>,
        reason: String,
    },
    /// A message the core built did not encode (a value out of its ASN.1 range); not sent.
    NgapNotSent {
        amf: AmfRef,
        procedure_code: u8,
        reason: String,
    },
    /// The UE's signalling SA is up and INITIAL CONTEXT SETUP RESPONSE went out.
    UeRegistered {
        sa: IkeSaRef,
        ran_ue_ngap_id: RanUeNgapId,
        inner_address: Ipv4Addr,
    },
    /// A PDU session's user plane is set up: its Child SAs are up and it is in the setup list
    /// of the response.
    SessionSetUp {
        sa: IkeSaRef,
        pdu_session_id: PduSessionId,
        dl_teid: Teid,
    },
    /// A PDU session the AMF asked for went to the failed list, with this cause.
    SessionFailed {
        sa: IkeSaRef,
        pdu_session_id: PduSessionId,
        cause: Cause,
    },
    /// A PDU session set up earlier is released (by the AMF, the UE's context ending, or a
    /// GTP-U Error Indication from the UPF).
    SessionReleased {
        sa: IkeSaRef,
        pdu_session_id: PduSessionId,
        dl_teid: Teid,
    },
    /// The UE context is gone. `registered` says whether it had reached
    /// [`Event::UeRegistered`] (then it counts as a release, else as a failure).
    UeEnded {
        sa: IkeSaRef,
        ran_ue_ngap_id: Option<RanUeNgapId>,
        registered: bool,
        cause: EndCause,
    },
}
