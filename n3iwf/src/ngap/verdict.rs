//! Acting on what a received PDU has that its message should not, by criticality
//! (TS 38.413 §10.3): reject the procedure, ignore and notify, or ignore.

use oxirush_ngap::ngap::{self as asn, NGAPPDU};
use oxirush_ngap::{Deviation, ie};

use super::cause::{Cause, ProtocolCause};
use super::diagnostics::{CriticalityDiagnostics, DiagnosedIe, TypeOfError};
use super::error::ErrorReport;
use super::ies::ReadError;
use super::types::{AmfUeNgapId, RanUeNgapId};

/// The deviations of a PDU sorted by what they call for.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// Deviations that reject the procedure.
    pub(super) reject: Vec<Deviation>,
    /// Deviations ignored and reported.
    pub(super) notify: Vec<Deviation>,
    /// Positions of IEs to drop before reading the message (ignored, with or without report).
    pub(super) dropped: Vec<usize>,
}

impl Verdict {
    /// Sorts `deviations`. Wrong criticalities and non-canonical encodings are read anyway; an
    /// unknown procedure is decided by the caller.
    pub(super) fn of(deviations: Vec<Deviation>) -> Self {
        let mut verdict = Self::default();
        for deviation in deviations {
            verdict.add(deviation);
        }
        verdict
    }

    fn add(&mut self, deviation: Deviation) {
        let position = match &deviation {
            Deviation::UnexpectedIe { position, .. }
            | Deviation::OutsideRoot { position, .. }
            | Deviation::UndecodableIe { position, .. } => Some(*position),
            Deviation::MissingIe { .. } => None,
            Deviation::RepeatedIe { .. } | Deviation::OutOfOrder { .. } => {
                self.reject.push(deviation);
                return;
            }
            _ => return,
        };
        let Some((_, criticality)) = deviation.ie() else {
            return;
        };
        self.dropped.extend(position);
        match criticality {
            asn::Criticality::reject => self.reject.push(deviation),
            asn::Criticality::notify => self.notify.push(deviation),
            asn::Criticality::ignore => {}
        }
    }

    /// The report of a rejected procedure, if any deviation rejects it.
    pub(super) fn rejection(&self, pdu: &NGAPPDU<'_>) -> Option<ErrorReport> {
        let fallback = ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT;
        (!self.reject.is_empty()).then(|| report(pdu, &self.reject, fallback))
    }

    /// The report of the IEs ignored with criticality *notify*, if any.
    pub(super) fn notification(&self, pdu: &NGAPPDU<'_>) -> Option<ErrorReport> {
        let fallback = ProtocolCause::ABSTRACT_SYNTAX_ERROR_IGNORE_AND_NOTIFY;
        (!self.notify.is_empty()).then(|| report(pdu, &self.notify, fallback))
    }

    /// Every deviation only dropped: what an ERROR INDICATION gets, since it is never answered
    /// (TS 38.413 §10.5).
    pub(super) fn lenient(mut self) -> Self {
        self.dropped.extend(
            self.reject
                .drain(..)
                .chain(self.notify.drain(..))
                .filter_map(|d| position(&d)),
        );
        self
    }
}

fn position(deviation: &Deviation) -> Option<usize> {
    match deviation {
        Deviation::UnexpectedIe { position, .. }
        | Deviation::OutsideRoot { position, .. }
        | Deviation::UndecodableIe { position, .. }
        | Deviation::RepeatedIe { position, .. }
        | Deviation::OutOfOrder { position, .. } => Some(*position),
        _ => None,
    }
}

/// The report of `deviations` of `pdu`: the first one's cause, every one's diagnostics item.
pub(super) fn report(
    pdu: &NGAPPDU<'_>,
    deviations: &[Deviation],
    fallback: ProtocolCause,
) -> ErrorReport {
    let cause = deviations
        .iter()
        .find_map(Deviation::cause)
        .map_or(fallback, |c| ProtocolCause(c as u8));
    let (amf_ue_ngap_id, ran_ue_ngap_id) = ue_ids_lax(pdu);
    ErrorReport {
        amf_ue_ngap_id,
        ran_ue_ngap_id,
        cause: Cause::Protocol(cause),
        diagnostics: Some(CriticalityDiagnostics::from_asn(
            &pdu.criticality_diagnostics(deviations),
        )),
    }
}

/// The report of a message the facade could not read into its types.
pub(super) fn read_error_report(pdu: &NGAPPDU<'_>, error: &ReadError) -> ErrorReport {
    match error {
        ReadError::Codec(error) => match Deviation::of(error) {
            Some(deviation) => report(pdu, &[deviation], ProtocolCause::TRANSFER_SYNTAX_ERROR),
            None => report(pdu, &[], ProtocolCause::TRANSFER_SYNTAX_ERROR),
        },
        ReadError::Missing(id) => {
            let mut report = report(pdu, &[], ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT);
            if let Some(diagnostics) = &mut report.diagnostics {
                diagnostics.ies.push(DiagnosedIe {
                    criticality: super::diagnostics::Criticality::Reject,
                    id: *id,
                    type_of_error: TypeOfError::Missing,
                });
            }
            report
        }
        ReadError::Value(_) => report(pdu, &[], ProtocolCause::SEMANTIC_ERROR),
    }
}

/// The UE's IDs if the PDU has them and they decode; nothing otherwise.
pub(super) fn ue_ids_lax(pdu: &NGAPPDU<'_>) -> (Option<AmfUeNgapId>, Option<RanUeNgapId>) {
    let amf = pdu
        .ie::<ie::AMF_UE_NGAP_ID>()
        .and_then(Result::ok)
        .and_then(|id| AmfUeNgapId::new(id.0));
    let ran = pdu
        .ie::<ie::RAN_UE_NGAP_ID>()
        .and_then(Result::ok)
        .map(|id| RanUeNgapId(id.0));
    (amf, ran)
}
