//! QoS rules (TS 24.501 §9.11.4.13) and QoS flow descriptions (§9.11.4.12): the lists in
//! PDU SESSION ESTABLISHMENT ACCEPT that tell the UE which QFI its packets go with.
//!
//! Both lists are bounded ([`MAX_QOS_RULES`], [`MAX_QOS_FLOW_DESCRIPTIONS`]) besides their
//! length field, so a decoder allocates at most that many entries.

use n3iwf::ids::Qfi;

use crate::nas::codec::{DecodeError, EncodeError, Reader};

/// The most QoS rules a list may hold here (QoS rule identifiers are one octet; real sessions
/// carry a handful).
pub const MAX_QOS_RULES: usize = 32;
/// The most QoS flow descriptions a list may hold here (one per QFI would be 64).
pub const MAX_QOS_FLOW_DESCRIPTIONS: usize = 32;

/// Rule operation code "create new QoS rule".
pub const OP_CREATE: u8 = 0b001;
/// Rule operation code "delete existing QoS rule".
pub const OP_DELETE: u8 = 0b010;
/// Rule operation code "modify existing QoS rule and delete packet filters" (filters are only
/// identifiers).
const OP_MODIFY_DELETE_FILTERS: u8 = 0b101;
/// Packet filter component "match-all" (§9.11.4.13 table 9.11.4.13.1).
pub const COMPONENT_MATCH_ALL: u8 = 0x01;

/// A packet filter of a QoS rule: direction (1 DL, 2 UL, 3 both), identifier, and its
/// components left encoded (empty for the identifier-only form of deletion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketFilter {
    pub direction: u8,
    pub id: u8,
    pub contents: Vec<u8>,
}

impl PacketFilter {
    /// Bidirectional "match-all".
    pub fn match_all(id: u8) -> Self {
        Self {
            direction: 3,
            id: id & 0x0F,
            contents: vec![COMPONENT_MATCH_ALL],
        }
    }
}

/// One QoS rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosRule {
    pub id: u8,
    pub operation: u8,
    /// DQR: this is the default QoS rule.
    pub default: bool,
    pub filters: Vec<PacketFilter>,
    /// Precedence and QFI, absent for deletions.
    pub precedence: Option<u8>,
    /// Segregation bit.
    pub segregation: bool,
    pub qfi: Option<Qfi>,
}

impl QosRule {
    /// A new rule with one match-all filter: the default rule of a session.
    pub fn default_rule(id: u8, qfi: Qfi) -> Self {
        Self {
            id,
            operation: OP_CREATE,
            default: true,
            filters: vec![PacketFilter::match_all(1)],
            precedence: Some(255),
            segregation: false,
            qfi: Some(qfi),
        }
    }

    fn decode_one(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = reader.u8("QoS rule identifier")?;
        let mut body = Reader::new(reader.lv_e("QoS rule")?);
        let octet = body.u8("QoS rule operation")?;
        let operation = octet >> 5;
        let count = usize::from(octet & 0x0F);
        let filters = (0..count)
            .map(|_| decode_filter(&mut body, operation))
            .collect::<Result<Vec<_>, _>>()?;
        let precedence = (!body.is_empty())
            .then(|| body.u8("QoS rule precedence"))
            .transpose()?;
        let qfi_octet = (!body.is_empty()).then(|| body.u8("QFI")).transpose()?;
        body.finish()?;
        Ok(Self {
            id,
            operation,
            default: octet & 0x10 != 0,
            filters,
            precedence,
            segregation: qfi_octet.is_some_and(|o| o & 0x40 != 0),
            qfi: qfi_octet.map(Qfi::from_octet),
        })
    }

    fn encode_one(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = u8::try_from(self.filters.len())
            .ok()
            .filter(|n| *n <= 15)
            .ok_or(EncodeError::TooLong("packet filter list"))?;
        let mut body = vec![(self.operation & 0x07) << 5 | u8::from(self.default) << 4 | count];
        for filter in &self.filters {
            body.push((filter.direction & 0x03) << 4 | filter.id & 0x0F);
            if self.operation != OP_MODIFY_DELETE_FILTERS {
                crate::nas::codec::put_lv(&mut body, &filter.contents, "packet filter")?;
            }
        }
        body.extend(self.precedence);
        if let Some(qfi) = self.qfi {
            body.push(u8::from(self.segregation) << 6 | qfi.value());
        }
        out.push(self.id);
        crate::nas::codec::put_lv_e(out, &body, "QoS rule")
    }
}

fn decode_filter(body: &mut Reader<'_>, operation: u8) -> Result<PacketFilter, DecodeError> {
    let octet = body.u8("packet filter")?;
    let contents = if operation == OP_MODIFY_DELETE_FILTERS {
        Vec::new()
    } else {
        let contents = body.lv("packet filter contents")?;
        if contents.is_empty() {
            return Err(DecodeError::Invalid("empty packet filter"));
        }
        contents.to_vec()
    };
    Ok(PacketFilter {
        direction: octet >> 4 & 0x03,
        id: octet & 0x0F,
        contents,
    })
}

/// The value of a QoS rules IE.
pub(super) fn decode_rules(value: &[u8]) -> Result<Vec<QosRule>, DecodeError> {
    let mut reader = Reader::new(value);
    let mut rules = Vec::new();
    while !reader.is_empty() {
        if rules.len() == MAX_QOS_RULES {
            return Err(DecodeError::Invalid("too many QoS rules"));
        }
        rules.push(QosRule::decode_one(&mut reader)?);
    }
    Ok(rules)
}

/// The value of a QoS rules IE.
pub(super) fn encode_rules(rules: &[QosRule]) -> Result<Vec<u8>, EncodeError> {
    if rules.len() > MAX_QOS_RULES {
        return Err(EncodeError::TooLong("QoS rules"));
    }
    let mut out = Vec::new();
    for rule in rules {
        rule.encode_one(&mut out)?;
    }
    Ok(out)
}

/// QoS flow parameter identifiers (§9.11.4.12).
pub mod parameter {
    /// 5QI.
    pub const FIVE_QI: u8 = 0x01;
    /// GFBR uplink.
    pub const GFBR_UPLINK: u8 = 0x02;
    /// GFBR downlink.
    pub const GFBR_DOWNLINK: u8 = 0x03;
    /// MFBR uplink.
    pub const MFBR_UPLINK: u8 = 0x04;
    /// MFBR downlink.
    pub const MFBR_DOWNLINK: u8 = 0x05;
}

/// One QoS flow description: its QFI, operation, and parameters (identifier, contents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosFlowDescription {
    pub qfi: Qfi,
    /// Operation code: 1 create, 2 delete, 3 modify.
    pub operation: u8,
    /// E bit: the parameters list is sent (create: always 1).
    pub e_bit: bool,
    pub parameters: Vec<(u8, Vec<u8>)>,
}

impl QosFlowDescription {
    /// "Create new QoS flow description" with a 5QI (a non-GBR flow).
    pub fn create(qfi: Qfi, five_qi: u8) -> Self {
        Self {
            qfi,
            operation: 1,
            e_bit: true,
            parameters: vec![(parameter::FIVE_QI, vec![five_qi])],
        }
    }

    /// The 5QI parameter, when present.
    pub fn five_qi(&self) -> Option<u8> {
        self.parameters
            .iter()
            .find(|(id, value)| *id == parameter::FIVE_QI && value.len() == 1)
            .map(|(_, value)| value[0])
    }

    fn decode_one(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let qfi = Qfi::from_octet(reader.u8("QFI")?);
        let operation = reader.u8("QoS flow operation")? >> 5;
        let octet = reader.u8("number of parameters")?;
        let parameters = (0..octet & 0x3F)
            .map(|_| {
                let id = reader.u8("parameter identifier")?;
                Ok((id, reader.lv("parameter contents")?.to_vec()))
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        Ok(Self {
            qfi,
            operation,
            e_bit: octet & 0x40 != 0,
            parameters,
        })
    }

    fn encode_one(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = u8::try_from(self.parameters.len())
            .ok()
            .filter(|n| *n <= 0x3F)
            .ok_or(EncodeError::TooLong("QoS flow parameters"))?;
        out.extend_from_slice(&[
            self.qfi.value(),
            (self.operation & 0x07) << 5,
            u8::from(self.e_bit) << 6 | count,
        ]);
        for (id, value) in &self.parameters {
            out.push(*id);
            crate::nas::codec::put_lv(out, value, "QoS flow parameter")?;
        }
        Ok(())
    }
}

/// The value of a QoS flow descriptions IE.
pub(super) fn decode_flow_descriptions(
    value: &[u8],
) -> Result<Vec<QosFlowDescription>, DecodeError> {
    let mut reader = Reader::new(value);
    let mut out = Vec::new();
    while !reader.is_empty() {
        if out.len() == MAX_QOS_FLOW_DESCRIPTIONS {
            return Err(DecodeError::Invalid("too many QoS flow descriptions"));
        }
        out.push(QosFlowDescription::decode_one(&mut reader)?);
    }
    Ok(out)
}

/// The value of a QoS flow descriptions IE.
pub(super) fn encode_flow_descriptions(
    list: &[QosFlowDescription],
) -> Result<Vec<u8>, EncodeError> {
    if list.len() > MAX_QOS_FLOW_DESCRIPTIONS {
        return Err(EncodeError::TooLong("QoS flow descriptions"));
    }
    let mut out = Vec::new();
    for description in list {
        description.encode_one(&mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qfi(value: u8) -> Qfi {
        Qfi::new(value).unwrap()
    }

    /// §9.11.4.13: rule 1, length 6, create/DQR/1 filter, filter bidirectional id 1 with the
    /// match-all component, precedence 255, QFI 1.
    #[test]
    fn default_rule_is_written_as_the_layout_says() {
        let octets = encode_rules(&[QosRule::default_rule(1, qfi(1))]).unwrap();
        assert_eq!(
            octets,
            [0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xFF, 0x01]
        );
        assert_eq!(
            decode_rules(&octets).unwrap(),
            [QosRule::default_rule(1, qfi(1))]
        );
    }

    /// §9.11.4.12: QFI 1, create, E=1 with one parameter, 5QI 9.
    #[test]
    fn flow_description_with_5qi() {
        let octets = encode_flow_descriptions(&[QosFlowDescription::create(qfi(1), 9)]).unwrap();
        assert_eq!(octets, [0x01, 0x20, 0x41, 0x01, 0x01, 0x09]);
        let decoded = decode_flow_descriptions(&octets).unwrap();
        assert_eq!(decoded[0].five_qi(), Some(9));
        assert_eq!(decoded[0].qfi, qfi(1));
    }

    #[test]
    fn deletion_rule_has_no_precedence_or_qfi() {
        let rule = QosRule {
            id: 2,
            operation: OP_DELETE,
            default: false,
            filters: Vec::new(),
            precedence: None,
            segregation: false,
            qfi: None,
        };
        let octets = encode_rules(std::slice::from_ref(&rule)).unwrap();
        assert_eq!(octets, [0x02, 0x00, 0x01, 0x40]);
        assert_eq!(decode_rules(&octets).unwrap(), [rule]);
    }

    #[test]
    fn rule_list_bound_is_reached() {
        let rules: Vec<_> = (1..=MAX_QOS_RULES as u8)
            .map(|id| QosRule::default_rule(id, qfi(1)))
            .collect();
        let octets = encode_rules(&rules).unwrap();
        assert_eq!(decode_rules(&octets).unwrap().len(), MAX_QOS_RULES);
        let mut over = octets.clone();
        over.extend_from_slice(&octets[..9]);
        assert_eq!(
            decode_rules(&over),
            Err(DecodeError::Invalid("too many QoS rules"))
        );
        let mut too_many = rules.clone();
        too_many.push(QosRule::default_rule(99, qfi(1)));
        assert!(encode_rules(&too_many).is_err());
    }

    #[test]
    fn flow_description_bound_is_reached() {
        let one = encode_flow_descriptions(&[QosFlowDescription::create(qfi(1), 9)]).unwrap();
        let at_bound = one.repeat(MAX_QOS_FLOW_DESCRIPTIONS);
        assert_eq!(
            decode_flow_descriptions(&at_bound).unwrap().len(),
            MAX_QOS_FLOW_DESCRIPTIONS
        );
        let over = one.repeat(MAX_QOS_FLOW_DESCRIPTIONS + 1);
        assert!(decode_flow_descriptions(&over).is_err());
    }

    #[test]
    fn truncated_and_inconsistent_rules_are_refused() {
        let good = encode_rules(&[QosRule::default_rule(1, qfi(1))]).unwrap();
        for cut in 1..good.len() {
            assert!(decode_rules(&good[..cut]).is_err(), "cut at {cut}");
        }
        // The rule claims two filters but holds one.
        let mut two = good.clone();
        two[3] = 0x32;
        assert!(decode_rules(&two).is_err());
        // Octets after the QFI inside the rule's length.
        let long = [0x01, 0x00, 0x07, 0x31, 0x31, 0x01, 0x01, 0xFF, 0x01, 0x00];
        assert_eq!(decode_rules(&long), Err(DecodeError::TrailingOctets));
    }
}
