//! Configuration payload body (RFC 7296 §3.15, §3.15.1).

use super::MAX_ITEMS;
use super::enums::{CfgAttrType, CfgType};
use super::error::ParseError;
use super::reader::{Reader, saturate_u16};
use super::types::{CfgAttribute, Configuration};

/// The R bit before the 15-bit Attribute Type: reserved, must be zero.
const RESERVED_BIT: u16 = 0x8000;

/// CFG Type (1), RESERVED (3), then attributes up to the end of the body.
pub(super) fn parse_configuration(r: &mut Reader<'_>) -> Result<Configuration, ParseError> {
    const WHAT: &str = "configuration attribute";
    let cfg_type = CfgType(r.u8("CP payload")?);
    r.skip(3, "CP payload")?;
    let mut attributes = Vec::new();
    while !r.is_empty() {
        if attributes.len() >= MAX_ITEMS {
            return Err(ParseError::TooMany("configuration attributes"));
        }
        let raw = r.u16(WHAT)?;
        if raw & RESERVED_BIT != 0 {
            return Err(ParseError::InvalidField(
                "configuration attribute reserved bit",
            ));
        }
        let length = usize::from(r.u16(WHAT)?);
        let value = r.sub(length, WHAT)?.rest().to_vec();
        attributes.push(CfgAttribute {
            attr_type: CfgAttrType(raw),
            value,
        });
    }
    Ok(Configuration {
        cfg_type,
        attributes,
    })
}

/// Attribute types are written without the R bit.
pub(super) fn emit_configuration(cp: &Configuration, out: &mut Vec<u8>) {
    out.extend_from_slice(&[cp.cfg_type.0, 0, 0, 0]);
    for attribute in &cp.attributes {
        out.extend_from_slice(&(attribute.attr_type.0 & !RESERVED_BIT).to_be_bytes());
        out.extend_from_slice(&saturate_u16(attribute.value.len()).to_be_bytes());
        out.extend_from_slice(&attribute.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::PayloadType;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.15 and §3.15.1, Figures 22 and 23 (Configuration Payload, Configuration
    /// Attribute): a CFG_REPLY with an internal IPv4 address and an empty IPv4 DNS request.
    #[test]
    fn cp_matches_figures_22_23() {
        let bytes = [
            0x00, 0x00, 0x00, 0x14, // last, length 20
            0x02, 0x00, 0x00, 0x00, // CFG_REPLY
            0x00, 0x01, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x02, // INTERNAL_IP4_ADDRESS 10.0.0.2
            0x00, 0x03, 0x00, 0x00, // INTERNAL_IP4_DNS, empty
        ];
        let cp = Configuration {
            cfg_type: CfgType::CFG_REPLY,
            attributes: vec![
                CfgAttribute {
                    attr_type: CfgAttrType::INTERNAL_IP4_ADDRESS,
                    value: vec![10, 0, 0, 2],
                },
                CfgAttribute {
                    attr_type: CfgAttrType::INTERNAL_IP4_DNS,
                    value: Vec::new(),
                },
            ],
        };
        assert_codec(PayloadType::CP, &bytes, &[Payload::Cp(cp)]);
    }

    #[test]
    fn cp_rejects_reserved_bit_and_bad_lengths() {
        let reserved = [
            0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00,
        ];
        assert_eq!(
            parse_payloads(PayloadType::CP, &reserved),
            Err(ParseError::InvalidField(
                "configuration attribute reserved bit"
            ))
        );
        let long = [
            0x00, 0x00, 0x00, 0x0d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x0a,
        ];
        assert_eq!(
            parse_payloads(PayloadType::CP, &long),
            Err(ParseError::BadLength("configuration attribute"))
        );
        let cut = [0x00, 0x00, 0x00, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01];
        assert_eq!(
            parse_payloads(PayloadType::CP, &cut),
            Err(ParseError::Truncated("configuration attribute"))
        );
    }
}
