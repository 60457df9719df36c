//! Misbehaviour of the emulated AMF on N2, for the N3IWF's negative tests. NAS-level faults (a
//! reject cause, a corrupted MAC) are [`AmfFaults`](crate::amf::AmfFaults).

use std::time::Duration;

use n3iwf::ngap::{Cause, Criticality, TimeToWait};
use oxirush_ngap::Octets;
use oxirush_ngap::ngap::{self as asn, NGAP_PDU, ProtocolIEField, ProtocolIEID};

/// N2 faults of [`AmfNode`](super::AmfNode). The default misbehaves in no way.
#[derive(Clone, Debug, Default)]
pub struct NodeFaults {
    /// Every answer to a UE (DOWNLINK NAS TRANSPORT, INITIAL CONTEXT SETUP REQUEST) leaves this
    /// long after the message it answers.
    pub answer_delay: Duration,
    /// After this many answers to UEs, the AMF answers no UE any more (`Some(0)`: not even the
    /// INITIAL UE MESSAGE).
    pub answers_before_silence: Option<usize>,
    /// Adds an IE no release of NGAP defines to DOWNLINK NAS TRANSPORTs, INITIAL CONTEXT
    /// SETUP REQUESTs or both.
    pub unknown_ie: Option<UnknownIe>,
    /// After the first DOWNLINK NAS TRANSPORT of a UE, the AMF names it with another AMF UE NGAP
    /// ID.
    pub wrong_amf_ue_ngap_id: bool,
    /// Refuses the first NG SETUP REQUESTs with NG SETUP FAILURE.
    pub ng_setup_refusals: usize,
    /// The Cause and Time to Wait of those refusals.
    pub ng_setup_failure: Option<(Cause, Option<TimeToWait>)>,
    /// After a REGISTRATION REJECT or AUTHENTICATION REJECT the AMF keeps the UE context
    /// instead of releasing it with UE CONTEXT RELEASE COMMAND (as AMFs do).
    pub keep_context_after_reject: bool,
    /// UE CONTEXT RELEASE REQUEST gets no COMMAND.
    pub ignore_release_requests: bool,
}

/// Where and how an unknown IE is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownIe {
    pub criticality: Criticality,
    pub in_downlink_nas: bool,
    pub in_context_setup: bool,
}

/// The IE id used for unknown IEs: no release of TS 38.413 defines it.
pub const UNKNOWN_IE_ID: u16 = 900;

/// Appends an IE of [`UNKNOWN_IE_ID`] to an encoded PDU; `None` if the PDU does not decode
/// (never for what the facade encodes).
pub(super) fn with_unknown_ie(octets: &[u8], criticality: Criticality) -> Option<Vec<u8>> {
    let mut pdu = NGAP_PDU::decode(octets).ok()?;
    let mut ies = pdu.protocol_ies().ok()?.into_owned();
    ies.0.push(ProtocolIEField {
        id: ProtocolIEID(UNKNOWN_IE_ID),
        criticality: match criticality {
            Criticality::Reject => asn::Criticality::reject,
            Criticality::Ignore => asn::Criticality::ignore,
            Criticality::Notify => asn::Criticality::notify,
        },
        value: Octets::from(vec![0x2a]),
    });
    pdu.set_protocol_ies(ies).ok()?;
    pdu.encode().ok()
}
