//! Notify payload body (RFC 7296 §3.10).

use super::enums::{NotifyType, ProtocolId};
use super::error::ParseError;
use super::reader::{Reader, saturate_u8};
use super::types::Notify;

/// Protocol ID (1), SPI Size (1), Notify Message Type (2), SPI, Notification Data.
pub(super) fn parse_notify(r: &mut Reader<'_>) -> Result<Notify, ParseError> {
    const WHAT: &str = "notify payload";
    let protocol = ProtocolId(r.u8(WHAT)?);
    let spi_size = usize::from(r.u8(WHAT)?);
    let notify_type = NotifyType(r.u16(WHAT)?);
    let spi = r.sub(spi_size, "notify SPI size")?.rest().to_vec();
    Ok(Notify {
        protocol,
        spi,
        notify_type,
        data: r.rest().to_vec(),
    })
}

pub(super) fn emit_notify(notify: &Notify, out: &mut Vec<u8>) {
    out.extend_from_slice(&[notify.protocol.0, saturate_u8(notify.spi.len())]);
    out.extend_from_slice(&notify.notify_type.0.to_be_bytes());
    out.extend_from_slice(&notify.spi);
    out.extend_from_slice(&notify.data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::PayloadType;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.10, Figure 16 (Notify Payload): REKEY_SA with an ESP SPI, then
    /// NAT_DETECTION_SOURCE_IP without SPI and with 20 octets of data.
    #[test]
    fn notify_matches_figure_16() {
        let mut bytes = vec![
            0x29, 0x00, 0x00, 0x0c, // Notify follows, length 12
            0x03, 0x04, 0x40, 0x09, // ESP, SPI size 4, REKEY_SA
            0xca, 0xfe, 0xba, 0xbe, // SPI
            0x00, 0x00, 0x00, 0x1c, // last, length 28
            0x00, 0x00, 0x40, 0x04, // no protocol, no SPI, NAT_DETECTION_SOURCE_IP
        ];
        bytes.extend_from_slice(&[0x5a; 20]);
        let payloads = [
            Payload::Notify(Notify {
                protocol: ProtocolId::ESP,
                spi: vec![0xca, 0xfe, 0xba, 0xbe],
                notify_type: NotifyType::REKEY_SA,
                data: Vec::new(),
            }),
            Payload::Notify(Notify::new(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                vec![0x5a; 20],
            )),
        ];
        assert_codec(PayloadType::NOTIFY, &bytes, &payloads);
    }

    #[test]
    fn notify_spi_must_fit() {
        let bytes = [0x00, 0x00, 0x00, 0x0a, 0x03, 0x04, 0x40, 0x09, 0xca, 0xfe];
        assert_eq!(
            parse_payloads(PayloadType::NOTIFY, &bytes),
            Err(ParseError::BadLength("notify SPI size"))
        );
        let short = [0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x40];
        assert_eq!(
            parse_payloads(PayloadType::NOTIFY, &short),
            Err(ParseError::Truncated("notify payload"))
        );
    }
}
