//! Criticality and Criticality Diagnostics (TS 38.413 §9.3.1.3, §10.3).

use oxirush_ngap::ngap as asn;

/// What a receiver does with an IE or a procedure it does not comprehend (TS 38.413 §10.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Criticality {
    /// Reject the procedure and report it.
    Reject,
    /// Ignore it and go on.
    Ignore,
    /// Ignore it, go on, and report it.
    Notify,
}

/// The message of a procedure: its direction in the NGAP PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggeringMessage {
    InitiatingMessage,
    SuccessfulOutcome,
    UnsuccessfulOutcome,
}

/// Why an IE is reported in Criticality Diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeOfError {
    NotUnderstood,
    Missing,
}

/// One IE reported in Criticality Diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DiagnosedIe {
    pub criticality: Criticality,
    pub id: u16,
    pub type_of_error: TypeOfError,
}

/// Criticality Diagnostics (TS 38.413 §9.3.1.3): which message and IEs a report is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CriticalityDiagnostics {
    pub procedure_code: Option<u8>,
    pub triggering_message: Option<TriggeringMessage>,
    pub procedure_criticality: Option<Criticality>,
    pub ies: Vec<DiagnosedIe>,
}

impl Criticality {
    pub(super) fn from_asn(value: asn::Criticality) -> Self {
        match value {
            asn::Criticality::reject => Self::Reject,
            asn::Criticality::ignore => Self::Ignore,
            asn::Criticality::notify => Self::Notify,
        }
    }

    pub(super) fn to_asn(self) -> asn::Criticality {
        match self {
            Self::Reject => asn::Criticality::reject,
            Self::Ignore => asn::Criticality::ignore,
            Self::Notify => asn::Criticality::notify,
        }
    }
}

impl TriggeringMessage {
    /// From the direction name the bindings give a PDU.
    pub(super) fn from_direction(direction: &str) -> Self {
        match direction {
            "SuccessfulOutcome" => Self::SuccessfulOutcome,
            "UnsuccessfulOutcome" => Self::UnsuccessfulOutcome,
            _ => Self::InitiatingMessage,
        }
    }

    fn from_asn(value: asn::TriggeringMessage) -> Self {
        match value {
            asn::TriggeringMessage::initiating_message => Self::InitiatingMessage,
            asn::TriggeringMessage::successful_outcome => Self::SuccessfulOutcome,
            asn::TriggeringMessage::unsuccessful_outcome => Self::UnsuccessfulOutcome,
        }
    }

    fn to_asn(self) -> asn::TriggeringMessage {
        match self {
            Self::InitiatingMessage => asn::TriggeringMessage::initiating_message,
            Self::SuccessfulOutcome => asn::TriggeringMessage::successful_outcome,
            Self::UnsuccessfulOutcome => asn::TriggeringMessage::unsuccessful_outcome,
        }
    }
}

impl CriticalityDiagnostics {
    pub(super) fn from_asn(value: &asn::CriticalityDiagnostics) -> Self {
        let ies = value
            .ies_criticality_diagnostics
            .iter()
            .flat_map(|list| &list.0);
        Self {
            procedure_code: value.procedure_code.map(|code| code.0),
            triggering_message: value.triggering_message.map(TriggeringMessage::from_asn),
            procedure_criticality: value.procedure_criticality.map(Criticality::from_asn),
            ies: ies.map(diagnosed_ie_from_asn).collect(),
        }
    }

    pub(super) fn to_asn(&self) -> asn::CriticalityDiagnostics {
        let ies = self.ies.iter().map(diagnosed_ie_to_asn).collect::<Vec<_>>();
        asn::CriticalityDiagnostics::new(
            self.procedure_code.map(asn::ProcedureCode),
            self.triggering_message.map(TriggeringMessage::to_asn),
            self.procedure_criticality.map(Criticality::to_asn),
            (!ies.is_empty()).then_some(asn::CriticalityDiagnosticsIEList(ies)),
            None,
        )
    }
}

fn diagnosed_ie_from_asn(item: &asn::CriticalityDiagnosticsIEItem) -> DiagnosedIe {
    DiagnosedIe {
        criticality: Criticality::from_asn(item.ie_criticality),
        id: item.ie_id.0,
        type_of_error: match item.type_of_error {
            asn::TypeOfError::missing => TypeOfError::Missing,
            _ => TypeOfError::NotUnderstood,
        },
    }
}

fn diagnosed_ie_to_asn(ie: &DiagnosedIe) -> asn::CriticalityDiagnosticsIEItem {
    let type_of_error = match ie.type_of_error {
        TypeOfError::NotUnderstood => asn::TypeOfError::not_understood,
        TypeOfError::Missing => asn::TypeOfError::missing,
    };
    asn::CriticalityDiagnosticsIEItem::new(
        ie.criticality.to_asn(),
        asn::ProtocolIEID(ie.id),
        type_of_error,
        None,
    )
}
