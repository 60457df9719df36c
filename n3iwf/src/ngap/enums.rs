//! Index tables between the facade's open enums and the bindings' ENUMERATED types. Index i of
//! each table is the value whose ASN.1 index is i (checked in the tests).

use oxirush_ngap::ngap as asn;

use super::error::EncodeError;
use super::types::{PagingDrx, RrcEstablishmentCause, TimeToWait};

const RRC_ESTABLISHMENT_CAUSES: [asn::RRCEstablishmentCause; 12] = [
    asn::RRCEstablishmentCause::emergency,
    asn::RRCEstablishmentCause::highPriorityAccess,
    asn::RRCEstablishmentCause::mt_Access,
    asn::RRCEstablishmentCause::mo_Signalling,
    asn::RRCEstablishmentCause::mo_Data,
    asn::RRCEstablishmentCause::mo_VoiceCall,
    asn::RRCEstablishmentCause::mo_VideoCall,
    asn::RRCEstablishmentCause::mo_SMS,
    asn::RRCEstablishmentCause::mps_PriorityAccess,
    asn::RRCEstablishmentCause::mcs_PriorityAccess,
    asn::RRCEstablishmentCause::notAvailable,
    asn::RRCEstablishmentCause::mo_ExceptionData,
];

const PAGING_DRX: [asn::PagingDRX; 4] = [
    asn::PagingDRX::v32,
    asn::PagingDRX::v64,
    asn::PagingDRX::v128,
    asn::PagingDRX::v256,
];

const TIMES_TO_WAIT: [asn::TimeToWait; 6] = [
    asn::TimeToWait::v1s,
    asn::TimeToWait::v2s,
    asn::TimeToWait::v5s,
    asn::TimeToWait::v10s,
    asn::TimeToWait::v20s,
    asn::TimeToWait::v60s,
];

/// The index of an enumerated value as the facade holds it. Every ENUMERATED here has fewer
/// than 256 values.
pub(super) fn index(value: u64) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

pub(super) fn rrc_cause_to_asn(
    cause: RrcEstablishmentCause,
) -> Result<asn::RRCEstablishmentCause, EncodeError> {
    lookup(&RRC_ESTABLISHMENT_CAUSES, cause.0, "RRCEstablishmentCause")
}

pub(super) fn paging_drx_to_asn(drx: PagingDrx) -> Result<asn::PagingDRX, EncodeError> {
    lookup(&PAGING_DRX, drx.0, "PagingDRX")
}

pub(super) fn time_to_wait_to_asn(time: TimeToWait) -> Result<asn::TimeToWait, EncodeError> {
    lookup(&TIMES_TO_WAIT, time.0, "TimeToWait")
}

fn lookup<T: Copy>(table: &[T], index: u8, what: &'static str) -> Result<T, EncodeError> {
    table
        .get(usize::from(index))
        .copied()
        .ok_or(EncodeError::UnknownValue(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_bindings_numbering() {
        assert!(
            RRC_ESTABLISHMENT_CAUSES
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
        assert!(PAGING_DRX.iter().enumerate().all(|(i, v)| *v as usize == i));
        assert!(
            TIMES_TO_WAIT
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
    }

    #[test]
    fn unknown_indexes_do_not_encode() {
        assert_eq!(
            paging_drx_to_asn(PagingDrx(4)),
            Err(EncodeError::UnknownValue("PagingDRX"))
        );
        assert!(rrc_cause_to_asn(RrcEstablishmentCause::MO_EXCEPTION_DATA).is_ok());
        assert!(time_to_wait_to_asn(TimeToWait(6)).is_err());
    }
}
