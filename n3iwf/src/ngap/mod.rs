//! NGAP (TS 38.413) as the N3IWF speaks it: our own message types at the boundary, over the
//! `oxirush-ngap` bindings, whose types stay inside this module.
//!
//! - [`NgapMessage::encode`] gives the aligned-PER octets of an NGAP-PDU (SCTP PPID 60).
//! - [`NgapMessage::decode`] reads one, checks it against the ASN.1 object set of its message,
//!   and acts on what deviates by criticality (TS 38.413 §10.3):
//!   - an IE of criticality *ignore* that is not comprehended is dropped silently;
//!   - one of criticality *notify* is dropped, and [`Decoded::report`] says what to send back
//!     in an ERROR INDICATION;
//!   - one of criticality *reject*, a mandatory IE of criticality *reject* that is missing, a
//!     repeated or misplaced IE, or an IE the facade needs that is missing or does not decode,
//!     reject the procedure: [`DecodeError::Rejected`] carries the report;
//!   - octets that are no NGAP-PDU are [`DecodeError::Malformed`] (transfer syntax error);
//!   - a procedure the facade does not handle is [`DecodeError::Unsupported`], with the report
//!     the PDU's criticality asks for.
//!
//!   An ERROR INDICATION itself is never answered (§10.5): whatever deviates in it is dropped.
//! - Decoding never panics and reads at most [`MAX_PDU_LEN`] octets.

mod cause;
mod convert;
mod diagnostics;
mod enums;
mod error;
mod ies;
mod messages;
mod procedure;
mod security_key;
mod transfer;
mod types;
mod verdict;

use oxirush_ngap::NgapPduKind as Kind;
use oxirush_ngap::ngap::{NGAP_PDU, NGAPPDU};

pub use cause::{Cause, MiscCause, NasCause, ProtocolCause, RadioNetworkCause, TransportCause};
pub use diagnostics::{
    Criticality, CriticalityDiagnostics, DiagnosedIe, TriggeringMessage, TypeOfError,
};
pub use error::{DecodeError, EncodeError, ErrorReport};
pub use messages::{
    AmfConfigurationUpdate, AmfConfigurationUpdateAcknowledge, AmfStatusIndication,
    DownlinkNasTransport, ErrorIndication, InitialContextSetupFailure, InitialContextSetupRequest,
    InitialContextSetupResponse, InitialUeMessage, NasNonDeliveryIndication, NgReset,
    NgResetAcknowledge, NgSetupFailure, NgSetupRequest, NgSetupResponse, PduSessionResourceNotify,
    PduSessionResourceReleaseCommand, PduSessionResourceReleaseResponse,
    PduSessionResourceSetupRequest, PduSessionResourceSetupResponse, ResetScope,
    UeAssociatedConnection, UeContextReleaseCommand, UeContextReleaseComplete,
    UeContextReleaseRequest, UeNgapIdentity, UplinkNasTransport,
};
pub use procedure::procedure_name;
pub use security_key::SecurityKey;
pub use transfer::{
    Arp, DynamicQos, GbrQos, GtpTunnel, MAX_QOS_FLOWS, MAX_TRANSFER_LEN,
    PduSessionResourceSetupRequestTransfer, PduSessionResourceSetupResponseTransfer,
    PduSessionType, ProtectionIndication, QosCharacteristics, QosFlowRequest, SecurityIndication,
    SecurityResult, SessionAmbr, TransferError, notify_released_transfer,
    release_response_transfer, setup_unsuccessful_transfer,
};
pub use types::{
    AmfUeNgapId, FiveGSTmsi, GlobalN3iwfId, N3iwfId, N3iwfUserLocation, PagingDrx,
    PduSessionSetupItem, PduSessionTransfer, PlmnSlices, RanUeNgapId, RrcEstablishmentCause,
    ServedGuami, SupportedTa, TimeToWait, TransportAddress, UeAmbr, UeNgapIds,
    UeSecurityCapabilities, UnavailableGuami,
};

use ies::ReadError;
use verdict::Verdict;

/// The longest PDU [`NgapMessage::decode`] reads. The messages of an N3IWF are far smaller; the
/// bound keeps the decoder's memory proportional to a sane input.
pub const MAX_PDU_LEN: usize = 64 * 1024;

/// The procedure code of ERROR INDICATION.
const ERROR_INDICATION: u8 = 9;

macro_rules! messages {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        /// Every NGAP message the N3IWF sends or accepts.
        #[derive(Debug, PartialEq, Eq)]
        pub enum NgapMessage {
            $($(#[$doc])* $variant($variant),)*
        }

        $(impl From<$variant> for NgapMessage {
            fn from(message: $variant) -> Self {
                Self::$variant(message)
            }
        })*

        impl NgapMessage {
            /// The procedure code (TS 38.413 §9.4.7) of the message's procedure.
            pub fn procedure_code(&self) -> u8 {
                match self {
                    $(Self::$variant(_) => $variant::PROCEDURE_CODE,)*
                }
            }

            fn to_pdu(&self) -> Result<NGAP_PDU, EncodeError> {
                match self {
                    $(Self::$variant(message) => message.to_pdu(),)*
                }
            }
        }
    };
}

messages! {
    NgSetupRequest,
    NgSetupResponse,
    NgSetupFailure,
    InitialUeMessage,
    DownlinkNasTransport,
    UplinkNasTransport,
    NasNonDeliveryIndication,
    InitialContextSetupRequest,
    InitialContextSetupResponse,
    InitialContextSetupFailure,
    UeContextReleaseRequest,
    UeContextReleaseCommand,
    UeContextReleaseComplete,
    ErrorIndication,
    NgReset,
    NgResetAcknowledge,
    AmfConfigurationUpdate,
    AmfConfigurationUpdateAcknowledge,
    AmfStatusIndication,
    PduSessionResourceSetupRequest,
    PduSessionResourceSetupResponse,
    PduSessionResourceReleaseCommand,
    PduSessionResourceReleaseResponse,
    PduSessionResourceNotify,
}

/// A message read from a PDU, and what to report about IEs that were ignored with criticality
/// *notify*.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    pub message: NgapMessage,
    pub report: Option<ErrorReport>,
}

impl NgapMessage {
    /// The aligned-PER octets of the NGAP-PDU.
    ///
    /// # Errors
    /// [`EncodeError`] for a value outside its ASN.1 constraint (an empty list that needs an
    /// item, an over-long name) or an enumerated index this release lacks.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(self.to_pdu()?.encode()?)
    }

    /// Reads an NGAP-PDU, acting on deviations by criticality (see the module documentation).
    ///
    /// # Errors
    /// [`DecodeError`]; [`DecodeError::report`] says what to send back.
    pub fn decode(octets: &[u8]) -> Result<Decoded, DecodeError> {
        if octets.len() > MAX_PDU_LEN {
            return Err(DecodeError::TooLong { len: octets.len() });
        }
        let mut pdu = NGAPPDU::decode_borrowed(octets).map_err(|_| malformed())?;
        let verdict = judge(&pdu)?;
        if let Some(report) = verdict.rejection(&pdu) {
            let reason = "an IE of criticality reject is not comprehended or missing, or an IE is \
                          repeated or out of order";
            return Err(rejected(&pdu, reason, report));
        }
        let report = verdict.notification(&pdu);
        drop_ies(&mut pdu, &verdict.dropped)?;
        let message = match read(&pdu) {
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                let report = verdict::read_error_report(&pdu, &error);
                return Err(rejected(&pdu, error.reason(), report));
            }
            None => return Err(unsupported(&pdu)),
        };
        Ok(Decoded { message, report })
    }

    /// True for the messages of non-UE-associated signalling, which go on SCTP stream 0
    /// (TS 38.412 §7).
    pub fn is_non_ue_associated(&self) -> bool {
        matches!(
            self,
            Self::NgSetupRequest(_)
                | Self::NgSetupResponse(_)
                | Self::NgSetupFailure(_)
                | Self::NgReset(_)
                | Self::NgResetAcknowledge(_)
                | Self::AmfConfigurationUpdate(_)
                | Self::AmfConfigurationUpdateAcknowledge(_)
                | Self::AmfStatusIndication(_)
        ) || matches!(self, Self::ErrorIndication(e) if e.amf_ue_ngap_id.is_none()
            && e.ran_ue_ngap_id.is_none())
    }
}

/// The deviations of the PDU from its message's object set, sorted by what they call for.
fn judge(pdu: &NGAPPDU<'_>) -> Result<Verdict, DecodeError> {
    let verdict = Verdict::of(pdu.check().map_err(|_| malformed())?);
    Ok(match pdu.procedure_code() {
        ERROR_INDICATION => verdict.lenient(),
        _ => verdict,
    })
}

/// The message of a PDU of a procedure and direction the facade handles; `None` otherwise.
fn read(pdu: &NGAPPDU<'_>) -> Option<Result<NgapMessage, ReadError>> {
    fn into<T: Into<NgapMessage>>(result: Result<T, ReadError>) -> Result<NgapMessage, ReadError> {
        result.map(Into::into)
    }
    Some(match pdu.kind() {
        Kind::Initiating_NGSetup => into(NgSetupRequest::from_pdu(pdu)),
        Kind::Successful_NGSetup => into(NgSetupResponse::from_pdu(pdu)),
        Kind::Unsuccessful_NGSetup => into(NgSetupFailure::from_pdu(pdu)),
        Kind::Initiating_InitialUEMessage => into(InitialUeMessage::from_pdu(pdu)),
        Kind::Initiating_DownlinkNASTransport => into(DownlinkNasTransport::from_pdu(pdu)),
        Kind::Initiating_UplinkNASTransport => into(UplinkNasTransport::from_pdu(pdu)),
        Kind::Initiating_NASNonDeliveryIndication => into(NasNonDeliveryIndication::from_pdu(pdu)),
        Kind::Initiating_InitialContextSetup => into(InitialContextSetupRequest::from_pdu(pdu)),
        Kind::Successful_InitialContextSetup => into(InitialContextSetupResponse::from_pdu(pdu)),
        Kind::Unsuccessful_InitialContextSetup => into(InitialContextSetupFailure::from_pdu(pdu)),
        Kind::Initiating_UEContextReleaseRequest => into(UeContextReleaseRequest::from_pdu(pdu)),
        Kind::Initiating_UEContextRelease => into(UeContextReleaseCommand::from_pdu(pdu)),
        Kind::Successful_UEContextRelease => into(UeContextReleaseComplete::from_pdu(pdu)),
        Kind::Initiating_ErrorIndication => into(ErrorIndication::from_pdu(pdu)),
        Kind::Initiating_NGReset => into(NgReset::from_pdu(pdu)),
        Kind::Successful_NGReset => into(NgResetAcknowledge::from_pdu(pdu)),
        Kind::Initiating_AMFConfigurationUpdate => into(AmfConfigurationUpdate::from_pdu(pdu)),
        Kind::Successful_AMFConfigurationUpdate => {
            into(AmfConfigurationUpdateAcknowledge::from_pdu(pdu))
        }
        Kind::Initiating_AMFStatusIndication => into(AmfStatusIndication::from_pdu(pdu)),
        Kind::Initiating_PDUSessionResourceSetup => {
            into(PduSessionResourceSetupRequest::from_pdu(pdu))
        }
        Kind::Successful_PDUSessionResourceSetup => {
            into(PduSessionResourceSetupResponse::from_pdu(pdu))
        }
        Kind::Initiating_PDUSessionResourceRelease => {
            into(PduSessionResourceReleaseCommand::from_pdu(pdu))
        }
        Kind::Successful_PDUSessionResourceRelease => {
            into(PduSessionResourceReleaseResponse::from_pdu(pdu))
        }
        Kind::Initiating_PDUSessionResourceNotify => into(PduSessionResourceNotify::from_pdu(pdu)),
        _ => return None,
    })
}

/// Removes the IEs at `positions` (ignored by criticality) so that reading never sees them.
fn drop_ies(pdu: &mut NGAPPDU<'_>, positions: &[usize]) -> Result<(), DecodeError> {
    if positions.is_empty() {
        return Ok(());
    }
    let mut ies = pdu.protocol_ies().map_err(|_| malformed())?.into_owned();
    let mut position = 0;
    ies.0.retain(|_| {
        position += 1;
        !positions.contains(&(position - 1))
    });
    pdu.set_protocol_ies(ies).map_err(|_| malformed())
}

fn malformed() -> DecodeError {
    DecodeError::Malformed(ErrorReport {
        amf_ue_ngap_id: None,
        ran_ue_ngap_id: None,
        cause: Cause::Protocol(ProtocolCause::TRANSFER_SYNTAX_ERROR),
        diagnostics: None,
    })
}

fn rejected(pdu: &NGAPPDU<'_>, reason: &'static str, report: ErrorReport) -> DecodeError {
    DecodeError::Rejected {
        procedure_code: pdu.procedure_code(),
        direction: TriggeringMessage::from_direction(pdu.direction()),
        reason,
        report,
    }
}

/// A procedure the facade does not handle: reported as the PDU's criticality asks
/// (TS 38.413 §10.3.4.1).
fn unsupported(pdu: &NGAPPDU<'_>) -> DecodeError {
    let criticality = Criticality::from_asn(pdu.criticality());
    let cause = match criticality {
        Criticality::Reject => Some(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT),
        Criticality::Notify => Some(ProtocolCause::ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY),
        Criticality::Ignore => None,
    };
    let report = cause
        .filter(|_| pdu.procedure_code() != ERROR_INDICATION)
        .map(|cause| {
            let mut report = verdict::report(pdu, &[], cause);
            report.cause = Cause::Protocol(cause);
            report
        });
    DecodeError::Unsupported {
        procedure_code: pdu.procedure_code(),
        direction: TriggeringMessage::from_direction(pdu.direction()),
        criticality,
        report,
    }
}
