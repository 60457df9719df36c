//! NGAP procedure codes (TS 38.413 §9.4.7) and their names, for counters and logs.

/// The elementary procedure names of TS 38.413 V19.4.0, index = procedure code.
const NAMES: [&str; 87] = [
    "AMFConfigurationUpdate",
    "AMFStatusIndication",
    "CellTrafficTrace",
    "DeactivateTrace",
    "DownlinkNASTransport",
    "DownlinkNonUEAssociatedNRPPaTransport",
    "DownlinkRANConfigurationTransfer",
    "DownlinkRANStatusTransfer",
    "DownlinkUEAssociatedNRPPaTransport",
    "ErrorIndication",
    "HandoverCancel",
    "HandoverNotification",
    "HandoverPreparation",
    "HandoverResourceAllocation",
    "InitialContextSetup",
    "InitialUEMessage",
    "LocationReportingControl",
    "LocationReportingFailureIndication",
    "LocationReport",
    "NASNonDeliveryIndication",
    "NGReset",
    "NGSetup",
    "OverloadStart",
    "OverloadStop",
    "Paging",
    "PathSwitchRequest",
    "PDUSessionResourceModify",
    "PDUSessionResourceModifyIndication",
    "PDUSessionResourceRelease",
    "PDUSessionResourceSetup",
    "PDUSessionResourceNotify",
    "PrivateMessage",
    "PWSCancel",
    "PWSFailureIndication",
    "PWSRestartIndication",
    "RANConfigurationUpdate",
    "RerouteNASRequest",
    "RRCInactiveTransitionReport",
    "TraceFailureIndication",
    "TraceStart",
    "UEContextModification",
    "UEContextRelease",
    "UEContextReleaseRequest",
    "UERadioCapabilityCheck",
    "UERadioCapabilityInfoIndication",
    "UETNLABindingRelease",
    "UplinkNASTransport",
    "UplinkNonUEAssociatedNRPPaTransport",
    "UplinkRANConfigurationTransfer",
    "UplinkRANStatusTransfer",
    "UplinkUEAssociatedNRPPaTransport",
    "WriteReplaceWarning",
    "SecondaryRATDataUsageReport",
    "UplinkRIMInformationTransfer",
    "DownlinkRIMInformationTransfer",
    "RetrieveUEInformation",
    "UEInformationTransfer",
    "RANCPRelocationIndication",
    "UEContextResume",
    "UEContextSuspend",
    "UERadioCapabilityIDMapping",
    "HandoverSuccess",
    "UplinkRANEarlyStatusTransfer",
    "DownlinkRANEarlyStatusTransfer",
    "AMFCPRelocationIndication",
    "ConnectionEstablishmentIndication",
    "BroadcastSessionModification",
    "BroadcastSessionRelease",
    "BroadcastSessionSetup",
    "DistributionSetup",
    "DistributionRelease",
    "MulticastSessionActivation",
    "MulticastSessionDeactivation",
    "MulticastSessionUpdate",
    "MulticastGroupPaging",
    "BroadcastSessionReleaseRequired",
    "TimingSynchronisationStatus",
    "TimingSynchronisationStatusReport",
    "MTCommunicationHandling",
    "RANPagingRequest",
    "BroadcastSessionTransport",
    "NGRemoval",
    "InventoryRequest",
    "InventoryReport",
    "CommandRequest",
    "AIOTSessionRelease",
    "AIOTSessionReleaseRequest",
];

/// The ASN.1 name of a procedure code (`"NGSetup"` for 21); `None` for a code this release does
/// not define.
pub fn procedure_name(code: u8) -> Option<&'static str> {
    NAMES.get(usize::from(code)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_codes() {
        assert_eq!(procedure_name(0), Some("AMFConfigurationUpdate"));
        assert_eq!(procedure_name(14), Some("InitialContextSetup"));
        assert_eq!(procedure_name(21), Some("NGSetup"));
        assert_eq!(procedure_name(46), Some("UplinkNASTransport"));
        assert_eq!(procedure_name(86), Some("AIOTSessionReleaseRequest"));
        assert_eq!(procedure_name(87), None);
    }
}
