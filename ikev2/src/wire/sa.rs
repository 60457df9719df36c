//! Security Association payload body: proposals, transforms and transform attributes
//! (RFC 7296 §3.3, RFC 9370 §2.2.1).

use super::MAX_ITEMS;
use super::enums::{ProtocolId, TransformType};
use super::error::ParseError;
use super::reader::{LengthSlot, Reader, saturate_u8, saturate_u16};
use super::types::{Proposal, Transform, TransformAttribute};

/// "Last Substruc" value of the last proposal or transform (RFC 7296 §3.3.1, §3.3.2).
const LAST: u8 = 0;
/// "Last Substruc" value of a proposal followed by another.
const MORE_PROPOSALS: u8 = 2;
/// "Last Substruc" value of a transform followed by another.
const MORE_TRANSFORMS: u8 = 3;
/// Last Substruc, RESERVED and Length.
const SUBSTRUCTURE_HEADER_LEN: usize = 4;
/// Attribute Format bit: set for the TV form with a 2-octet value (RFC 7296 §3.3.5).
const ATTRIBUTE_FORMAT: u16 = 0x8000;

/// Parses the proposals that make up an SA payload body.
pub(super) fn parse_proposals(r: &mut Reader<'_>) -> Result<Vec<Proposal>, ParseError> {
    substructures(r, MORE_PROPOSALS, "proposal", parse_proposal)
}

/// Appends proposals; each keeps its stored `number`.
pub(super) fn emit_proposals(proposals: &[Proposal], out: &mut Vec<u8>) {
    for (i, proposal) in proposals.iter().enumerate() {
        let more = i + 1 < proposals.len();
        let start = out.len();
        out.extend_from_slice(&[if more { MORE_PROPOSALS } else { LAST }, 0]);
        let length = LengthSlot::reserve(out, start);
        out.extend_from_slice(&[
            proposal.number,
            proposal.protocol.0,
            saturate_u8(proposal.spi.len()),
            saturate_u8(proposal.transforms.len()),
        ]);
        out.extend_from_slice(&proposal.spi);
        emit_transforms(&proposal.transforms, out);
        length.fill(out);
    }
}

/// Reads substructures that share the Last Substruc / RESERVED / Length header until one is
/// marked last; `r` must then be exhausted. An empty `r` holds none.
fn substructures<'a, T>(
    r: &mut Reader<'a>,
    more: u8,
    what: &'static str,
    mut parse: impl FnMut(&mut Reader<'a>) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let mut items = Vec::new();
    if r.is_empty() {
        return Ok(items);
    }
    loop {
        if items.len() >= MAX_ITEMS {
            return Err(ParseError::TooMany(what));
        }
        let last = r.u8(what)?;
        r.skip(1, what)?;
        let length = usize::from(r.u16(what)?);
        let body_len = length
            .checked_sub(SUBSTRUCTURE_HEADER_LEN)
            .ok_or(ParseError::BadLength(what))?;
        let mut body = r.sub(body_len, what)?;
        items.push(parse(&mut body)?);
        body.finish(what)?;
        match last {
            LAST => break,
            m if m == more => continue,
            _ => return Err(ParseError::InvalidField("last substructure")),
        }
    }
    r.finish(what)?;
    Ok(items)
}

/// Parses a proposal body (after its substructure header).
fn parse_proposal(r: &mut Reader<'_>) -> Result<Proposal, ParseError> {
    const WHAT: &str = "proposal";
    let number = r.u8(WHAT)?;
    let protocol = ProtocolId(r.u8(WHAT)?);
    let spi_size = usize::from(r.u8(WHAT)?);
    let count = usize::from(r.u8(WHAT)?);
    let spi = r.sub(spi_size, "proposal SPI size")?.rest().to_vec();
    let transforms = substructures(r, MORE_TRANSFORMS, "transform", parse_transform)?;
    if transforms.len() != count {
        return Err(ParseError::CountMismatch("number of transforms"));
    }
    Ok(Proposal {
        number,
        protocol,
        spi,
        transforms,
    })
}

/// Parses a transform body (after its substructure header).
fn parse_transform(r: &mut Reader<'_>) -> Result<Transform, ParseError> {
    const WHAT: &str = "transform";
    let transform_type = TransformType(r.u8(WHAT)?);
    r.skip(1, WHAT)?;
    let id = r.u16(WHAT)?;
    let mut attributes = Vec::new();
    while !r.is_empty() {
        if attributes.len() >= MAX_ITEMS {
            return Err(ParseError::TooMany("transform attributes"));
        }
        attributes.push(parse_attribute(r)?);
    }
    Ok(Transform {
        transform_type,
        id,
        attributes,
    })
}

/// Parses one data attribute in TV or TLV form (RFC 7296 §3.3.5).
fn parse_attribute(r: &mut Reader<'_>) -> Result<TransformAttribute, ParseError> {
    const WHAT: &str = "transform attribute";
    let raw = r.u16(WHAT)?;
    let attr_type = raw & !ATTRIBUTE_FORMAT;
    let second = r.u16(WHAT)?;
    if raw & ATTRIBUTE_FORMAT != 0 {
        return Ok(TransformAttribute::Tv {
            attr_type,
            value: second,
        });
    }
    let value = r.sub(usize::from(second), WHAT)?.rest().to_vec();
    Ok(TransformAttribute::Tlv { attr_type, value })
}

fn emit_transforms(transforms: &[Transform], out: &mut Vec<u8>) {
    for (i, transform) in transforms.iter().enumerate() {
        let more = i + 1 < transforms.len();
        let start = out.len();
        out.extend_from_slice(&[if more { MORE_TRANSFORMS } else { LAST }, 0]);
        let length = LengthSlot::reserve(out, start);
        out.extend_from_slice(&[transform.transform_type.0, 0]);
        out.extend_from_slice(&transform.id.to_be_bytes());
        for attribute in &transform.attributes {
            emit_attribute(attribute, out);
        }
        length.fill(out);
    }
}

fn emit_attribute(attribute: &TransformAttribute, out: &mut Vec<u8>) {
    match attribute {
        TransformAttribute::Tv { attr_type, value } => {
            out.extend_from_slice(&(attr_type | ATTRIBUTE_FORMAT).to_be_bytes());
            out.extend_from_slice(&value.to_be_bytes());
        }
        TransformAttribute::Tlv { attr_type, value } => {
            out.extend_from_slice(&(attr_type & !ATTRIBUTE_FORMAT).to_be_bytes());
            out.extend_from_slice(&saturate_u16(value.len()).to_be_bytes());
            out.extend_from_slice(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::{EncrId, EsnId, IntegId, KeId, PayloadType, PrfId};
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.3 Figures 6-9 (SA payload, Proposal and Transform substructures, Data
    /// Attributes): one IKE proposal with ENCR AES-GCM-16/256, PRF HMAC-SHA2-384, KE
    /// Curve25519 and ADDKE1 ML-KEM-768 (RFC 9370 §2.2.1).
    const IKE_SA: &[u8] = &[
        0x00, 0x00, 0x00, 0x30, // generic header: last payload, length 48
        0x00, 0x00, 0x00, 0x2c, // proposal: last, length 44
        0x01, 0x01, 0x00, 0x04, // #1, IKE, SPI size 0, 4 transforms
        0x03, 0x00, 0x00, 0x0c, // transform: more, length 12
        0x01, 0x00, 0x00, 0x14, // ENCR, AES-GCM-16
        0x80, 0x0e, 0x01, 0x00, // AF | Key Length = 256
        0x03, 0x00, 0x00, 0x08, // transform: more, length 8
        0x02, 0x00, 0x00, 0x06, // PRF, HMAC-SHA2-384
        0x03, 0x00, 0x00, 0x08, // transform: more, length 8
        0x04, 0x00, 0x00, 0x1f, // KE, Curve25519
        0x00, 0x00, 0x00, 0x08, // transform: last, length 8
        0x06, 0x00, 0x00, 0x24, // ADDKE1, ML-KEM-768
    ];

    fn ike_proposal() -> Proposal {
        Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: Vec::new(),
            transforms: vec![
                Transform::encr(EncrId::AES_GCM_16, Some(256)),
                Transform::new(TransformType::PRF, PrfId::HMAC_SHA2_384.0),
                Transform::ke(TransformType::KE, KeId::CURVE25519),
                Transform::ke(TransformType::ADDKE1, KeId::ML_KEM_768),
            ],
        }
    }

    #[test]
    fn sa_ike_proposal_matches_figures() {
        assert_codec(
            PayloadType::SA,
            IKE_SA,
            &[Payload::Sa(vec![ike_proposal()])],
        );
    }

    /// Two ESP proposals with 4-octet SPIs and a TLV attribute (RFC 7296 §3.3.1, §3.3.5).
    #[test]
    fn sa_esp_proposals_with_spi_and_tlv_attribute() {
        let bytes = [
            0x00, 0x00, 0x00, 0x3c, // generic header, length 60
            0x02, 0x00, 0x00, 0x1c, // proposal: more, length 28
            0x01, 0x03, 0x04, 0x02, // #1, ESP, SPI size 4, 2 transforms
            0xc0, 0x01, 0x02, 0x03, // SPI
            0x03, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x0c, // INTEG HMAC-SHA2-256-128
            0x00, 0x00, 0x00, 0x08, 0x05, 0x00, 0x00, 0x00, // ESN none
            0x00, 0x00, 0x00, 0x1c, // proposal: last, length 28
            0x02, 0x03, 0x04, 0x01, // #2, ESP, SPI size 4, 1 transform
            0xc0, 0x01, 0x02, 0x04, // SPI
            0x00, 0x00, 0x00, 0x10, // transform: last, length 16
            0x01, 0x00, 0x00, 0x1c, // ENCR ChaCha20-Poly1305
            0x00, 0x63, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // TLV type 99, 4 octets
        ];
        let proposals = vec![
            Proposal {
                number: 1,
                protocol: ProtocolId::ESP,
                spi: vec![0xc0, 0x01, 0x02, 0x03],
                transforms: vec![
                    Transform::new(TransformType::INTEG, IntegId::HMAC_SHA2_256_128.0),
                    Transform::new(TransformType::ESN, EsnId::NO_ESN.0),
                ],
            },
            Proposal {
                number: 2,
                protocol: ProtocolId::ESP,
                spi: vec![0xc0, 0x01, 0x02, 0x04],
                transforms: vec![Transform {
                    transform_type: TransformType::ENCR,
                    id: EncrId::CHACHA20_POLY1305.0,
                    attributes: vec![TransformAttribute::Tlv {
                        attr_type: 99,
                        value: vec![0xde, 0xad, 0xbe, 0xef],
                    }],
                }],
            },
        ];
        assert_codec(PayloadType::SA, &bytes, &[Payload::Sa(proposals)]);
    }

    fn parse_sa(bytes: &[u8]) -> Result<Vec<Payload>, ParseError> {
        parse_payloads(PayloadType::SA, bytes)
    }

    #[test]
    fn sa_rejects_wrong_transform_count() {
        let mut bytes = IKE_SA.to_vec();
        bytes[11] = 5;
        assert_eq!(
            parse_sa(&bytes),
            Err(ParseError::CountMismatch("number of transforms"))
        );
        bytes[11] = 3;
        assert_eq!(
            parse_sa(&bytes),
            Err(ParseError::CountMismatch("number of transforms"))
        );
    }

    #[test]
    fn sa_rejects_bad_last_substructure() {
        let mut more = IKE_SA.to_vec();
        more[4] = MORE_PROPOSALS;
        assert_eq!(parse_sa(&more), Err(ParseError::Truncated("proposal")));
        let mut odd = IKE_SA.to_vec();
        odd[12] = 1;
        assert_eq!(
            parse_sa(&odd),
            Err(ParseError::InvalidField("last substructure"))
        );
        let mut early = IKE_SA.to_vec();
        early[12] = LAST;
        assert_eq!(parse_sa(&early), Err(ParseError::TrailingData("transform")));
    }

    #[test]
    fn sa_rejects_bad_lengths() {
        let mut short = IKE_SA.to_vec();
        short[15] = 0x03;
        assert_eq!(parse_sa(&short), Err(ParseError::BadLength("transform")));
        let mut spi = IKE_SA.to_vec();
        spi[10] = 0x40;
        assert_eq!(
            parse_sa(&spi),
            Err(ParseError::BadLength("proposal SPI size"))
        );
        let mut tlv = IKE_SA.to_vec();
        tlv[20] = 0x00;
        assert_eq!(
            parse_sa(&tlv),
            Err(ParseError::BadLength("transform attribute"))
        );
        let mut proposal = IKE_SA.to_vec();
        proposal[7] = 0x2d;
        assert_eq!(parse_sa(&proposal), Err(ParseError::BadLength("proposal")));
    }

    #[test]
    fn sa_caps_proposals() {
        let proposals: Vec<Proposal> = (0..=MAX_ITEMS)
            .map(|i| Proposal {
                number: saturate_u8(i + 1),
                protocol: ProtocolId::ESP,
                spi: Vec::new(),
                transforms: Vec::new(),
            })
            .collect();
        let mut bytes = Vec::new();
        crate::wire::emit_payloads(&[Payload::Sa(proposals)], &mut bytes);
        assert_eq!(parse_sa(&bytes), Err(ParseError::TooMany("proposal")));
    }

    #[test]
    fn empty_sa_round_trips() {
        assert_codec(
            PayloadType::SA,
            &[0x00, 0x00, 0x00, 0x04],
            &[Payload::Sa(Vec::new())],
        );
    }
}
