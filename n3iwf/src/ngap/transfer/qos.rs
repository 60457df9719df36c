//! QoS flows of a setup request transfer, to and from the bindings (TS 38.413 §9.3.1.12).

use oxirush_ngap::ngap as asn;

use crate::ids::FiveQi;

use super::error::TransferError;
use super::values::{
    Arp, DynamicQos, GbrQos, QosCharacteristics, QosFlowRequest, qfi_from_asn, qfi_to_asn,
};

impl QosFlowRequest {
    pub(super) fn to_asn(self) -> asn::QosFlowSetupRequestItem {
        let parameters = asn::QosFlowLevelQosParameters::new(
            characteristics_to_asn(self.characteristics),
            arp_to_asn(self.arp),
            self.gbr.map(gbr_to_asn),
            None,
            None,
            None,
        );
        asn::QosFlowSetupRequestItem::new(qfi_to_asn(self.qfi), parameters, None, None)
    }

    pub(super) fn from_asn(item: &asn::QosFlowSetupRequestItem) -> Result<Self, TransferError> {
        let parameters = &item.qos_flow_level_qos_parameters;
        Ok(Self {
            qfi: qfi_from_asn(item.qos_flow_identifier)?,
            characteristics: characteristics_from_asn(&parameters.qos_characteristics)?,
            arp: arp_from_asn(&parameters.allocation_and_retention_priority)?,
            gbr: parameters.gbr_qos_information.as_ref().map(gbr_from_asn),
        })
    }
}

fn five_qi_to_asn(five_qi: FiveQi) -> asn::FiveQI {
    asn::FiveQI(u64::from(five_qi.0))
}

fn five_qi_from_asn(five_qi: asn::FiveQI) -> Result<FiveQi, TransferError> {
    u8::try_from(five_qi.0)
        .map(FiveQi)
        .map_err(|_| TransferError::Value("5QI"))
}

fn characteristics_to_asn(characteristics: QosCharacteristics) -> asn::QosCharacteristics {
    match characteristics {
        QosCharacteristics::Dynamic {
            five_qi,
            descriptor: d,
        } => asn::QosCharacteristics::dynamic5QI(asn::Dynamic5QIDescriptor::new(
            asn::PriorityLevelQos(u64::from(d.priority_level)),
            asn::PacketDelayBudget(u64::from(d.packet_delay_budget)),
            asn::PacketErrorRate::new(u64::from(d.per_scalar), u64::from(d.per_exponent), None),
            five_qi.map(five_qi_to_asn),
            None,
            None,
            None,
            None,
        )),
        QosCharacteristics::NonDynamic { five_qi } => asn::QosCharacteristics::nonDynamic5QI(
            asn::NonDynamic5QIDescriptor::new(five_qi_to_asn(five_qi), None, None, None, None),
        ),
    }
}

/// A value beyond the root of an extensible range (a later release's) means nothing here.
fn characteristics_from_asn(
    characteristics: &asn::QosCharacteristics,
) -> Result<QosCharacteristics, TransferError> {
    match characteristics {
        asn::QosCharacteristics::nonDynamic5QI(d) => Ok(QosCharacteristics::NonDynamic {
            five_qi: five_qi_from_asn(d.five_qi)?,
        }),
        asn::QosCharacteristics::dynamic5QI(d) => Ok(QosCharacteristics::Dynamic {
            five_qi: d.five_qi.map(five_qi_from_asn).transpose()?,
            descriptor: dynamic_from_asn(d)?,
        }),
        asn::QosCharacteristics::choice_Extensions(_) => {
            Err(TransferError::Value("QoS Characteristics"))
        }
    }
}

fn dynamic_from_asn(d: &asn::Dynamic5QIDescriptor) -> Result<DynamicQos, TransferError> {
    fn within<T: TryFrom<u64>>(v: u64, max: u64, what: &'static str) -> Result<T, TransferError> {
        T::try_from(v)
            .ok()
            .filter(|_| v <= max)
            .ok_or(TransferError::Value(what))
    }
    Ok(DynamicQos {
        priority_level: within(d.priority_level_qos.0, 127, "Priority Level QoS")?,
        packet_delay_budget: within(d.packet_delay_budget.0, 1023, "Packet Delay Budget")?,
        per_scalar: within(d.packet_error_rate.per_scalar, 9, "PER Scalar")?,
        per_exponent: within(d.packet_error_rate.per_exponent, 9, "PER Exponent")?,
    })
}

fn arp_to_asn(arp: Arp) -> asn::AllocationAndRetentionPriority {
    use asn::PreEmptionCapability as C;
    use asn::PreEmptionVulnerability as V;
    asn::AllocationAndRetentionPriority::new(
        asn::PriorityLevelARP(arp.priority_level),
        if arp.may_trigger_pre_emption {
            C::may_trigger_pre_emption
        } else {
            C::shall_not_trigger_pre_emption
        },
        if arp.pre_emptable {
            V::pre_emptable
        } else {
            V::not_pre_emptable
        },
        None,
    )
}

fn arp_from_asn(arp: &asn::AllocationAndRetentionPriority) -> Result<Arp, TransferError> {
    let level = arp.priority_level_arp.0;
    if !(1..=15).contains(&level) {
        return Err(TransferError::Value("Priority Level ARP"));
    }
    Ok(Arp {
        priority_level: level,
        may_trigger_pre_emption: matches!(
            arp.pre_emption_capability,
            asn::PreEmptionCapability::may_trigger_pre_emption
        ),
        pre_emptable: matches!(
            arp.pre_emption_vulnerability,
            asn::PreEmptionVulnerability::pre_emptable
        ),
    })
}

fn gbr_to_asn(gbr: GbrQos) -> asn::GBRQosInformation {
    asn::GBRQosInformation::new(
        asn::BitRate(gbr.max_dl),
        asn::BitRate(gbr.max_ul),
        asn::BitRate(gbr.guaranteed_dl),
        asn::BitRate(gbr.guaranteed_ul),
        None,
        None,
        None,
        None,
    )
}

fn gbr_from_asn(gbr: &asn::GBRQosInformation) -> GbrQos {
    GbrQos {
        max_dl: gbr.maximum_flow_bit_rate_dl.0,
        max_ul: gbr.maximum_flow_bit_rate_ul.0,
        guaranteed_dl: gbr.guaranteed_flow_bit_rate_dl.0,
        guaranteed_ul: gbr.guaranteed_flow_bit_rate_ul.0,
    }
}
