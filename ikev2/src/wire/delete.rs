//! Delete payload body (RFC 7296 §3.11).

use super::MAX_ITEMS;
use super::enums::ProtocolId;
use super::error::ParseError;
use super::reader::{Reader, saturate_u16};
use super::types::Delete;

/// Protocol ID (1), SPI Size (1), Num of SPIs (2), then exactly Num × Size octets of SPIs.
pub(super) fn parse_delete(r: &mut Reader<'_>) -> Result<Delete, ParseError> {
    const WHAT: &str = "delete payload";
    let protocol = ProtocolId(r.u8(WHAT)?);
    let spi_size = r.u8(WHAT)?;
    let count = usize::from(r.u16(WHAT)?);
    if r.remaining() != count * usize::from(spi_size) {
        return Err(ParseError::CountMismatch("number of SPIs"));
    }
    // With a zero SPI size the count alone would decide how much we allocate.
    if spi_size == 0 && count > MAX_ITEMS {
        return Err(ParseError::TooMany("SPIs"));
    }
    let mut spis = Vec::with_capacity(count);
    for _ in 0..count {
        spis.push(r.take(usize::from(spi_size), WHAT)?.to_vec());
    }
    Ok(Delete {
        protocol,
        spi_size,
        spis,
    })
}

/// Writes the stored `spi_size` and each SPI as it is: SPIs of another length do not parse back.
pub(super) fn emit_delete(delete: &Delete, out: &mut Vec<u8>) {
    out.extend_from_slice(&[delete.protocol.0, delete.spi_size]);
    out.extend_from_slice(&saturate_u16(delete.spis.len()).to_be_bytes());
    for spi in &delete.spis {
        out.extend_from_slice(spi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::PayloadType;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.11, Figure 17 (Delete Payload): two ESP SPIs, then the IKE SA itself.
    #[test]
    fn delete_matches_figure_17() {
        let bytes = [
            0x2a, 0x00, 0x00, 0x10, // Delete follows, length 16
            0x03, 0x04, 0x00, 0x02, // ESP, SPI size 4, 2 SPIs
            0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x10, 0x02, // SPIs
            0x00, 0x00, 0x00, 0x08, // last, length 8
            0x01, 0x00, 0x00, 0x00, // IKE, no SPIs
        ];
        let payloads = [
            Payload::Delete(Delete {
                protocol: ProtocolId::ESP,
                spi_size: 4,
                spis: vec![vec![0x00, 0x00, 0x10, 0x01], vec![0x00, 0x00, 0x10, 0x02]],
            }),
            Payload::Delete(Delete {
                protocol: ProtocolId::IKE,
                spi_size: 0,
                spis: Vec::new(),
            }),
        ];
        assert_codec(PayloadType::DELETE, &bytes, &payloads);
    }

    #[test]
    fn delete_spis_must_fill_the_body_exactly() {
        let mismatch = Err(ParseError::CountMismatch("number of SPIs"));
        let short = [
            0x00, 0x00, 0x00, 0x0b, 0x03, 0x04, 0x00, 0x01, 0x00, 0x00, 0x10,
        ];
        assert_eq!(parse_payloads(PayloadType::DELETE, &short), mismatch);
        let long = [
            0x00, 0x00, 0x00, 0x0d, 0x03, 0x04, 0x00, 0x01, 0x00, 0x00, 0x10, 0x01, 0x00,
        ];
        assert_eq!(parse_payloads(PayloadType::DELETE, &long), mismatch);
    }

    #[test]
    fn delete_caps_zero_size_spis() {
        let few = [0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x02];
        let parsed = parse_payloads(PayloadType::DELETE, &few);
        let two = Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: vec![Vec::new(); 2],
        };
        assert_eq!(parsed, Ok(vec![Payload::Delete(two)]));
        let many = [0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0xff, 0xff];
        assert_eq!(
            parse_payloads(PayloadType::DELETE, &many),
            Err(ParseError::TooMany("SPIs"))
        );
    }
}
