//! Notification Data of the 5G_QOS_INFO Notify (TS 24.502 §9.3.1.1): which PDU session and
//! QoS flows a user-plane child SA carries.
//!
//! ```text
//! Length(1) PDU-Session-ID(1) Number-of-QFIs(1) QFI...(n)
//! Flags(1): bit 0 DSCPI, bit 1 DCSI (default child SA), bit 2 QoSI; the rest spare
//! [DSCP(1) if DSCPI] [Additional QoS Information if QoSI]
//! ```
//!
//! The spec's Length counts the octets after itself. free5GC counts the Length octet too, and
//! n3iwue accepts both, so both are accepted here; the spec's value is sent.

use crate::ids::{PduSessionId, Qfi};

use super::WireError;
use super::reader::{Reader, put_lv8};

/// DSCP (6 bits) that the UE marks on every packet of the child SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dscp(u8);

impl Dscp {
    /// `None` above 63.
    pub fn new(value: u8) -> Option<Self> {
        (value <= 0x3f).then_some(Self(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// One parameter of the Additional QoS Information (TS 24.502 Table 9.3.1.1-2), kept as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosParameter {
    pub identifier: u8,
    pub contents: Vec<u8>,
}

/// The 5G_QOS_INFO Notification Data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosInfo {
    pub pdu_session_id: PduSessionId,
    pub qfis: Vec<Qfi>,
    /// DCSI: this child SA is the session's default child SA (it takes unmapped QFIs).
    pub default_child_sa: bool,
    pub dscp: Option<Dscp>,
    /// Present when QoSI is set (mandatory for a TNGF, optional for an N3IWF).
    pub additional_qos: Option<Vec<QosParameter>>,
}

const DSCPI: u8 = 0x01;
const DCSI: u8 = 0x02;
const QOSI: u8 = 0x04;

impl QosInfo {
    /// Parses the Notification Data, accepting either Length convention.
    ///
    /// # Errors
    /// [`WireError::BadLength`] for a Length that is neither the count of octets after it nor
    /// that count plus one, [`WireError::Truncated`] when a field the flags announce is missing,
    /// and [`WireError::TrailingData`] for octets after the last field.
    pub fn parse(data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(data);
        let length = usize::from(r.u8("5G_QOS_INFO Length")?);
        if length != r.remaining() && length != r.remaining() + 1 {
            return Err(WireError::BadLength("5G_QOS_INFO Length"));
        }
        let pdu_session_id = PduSessionId(r.u8("PDU Session ID")?);
        let count = usize::from(r.u8("Number of QFIs")?);
        let qfis = r
            .sub(count, "QFI list")?
            .rest()
            .iter()
            .map(|o| Qfi::from_octet(*o))
            .collect();
        let flags = r.u8("5G_QOS_INFO flags")?;
        let dscp = match flags & DSCPI {
            0 => None,
            _ => Some(Dscp(r.u8("DSCP")? & 0x3f)),
        };
        let additional_qos = match flags & QOSI {
            0 => None,
            _ => Some(parse_additional_qos(&mut r)?),
        };
        r.finish("5G_QOS_INFO")?;
        Ok(Self {
            pdu_session_id,
            qfis,
            default_child_sa: flags & DCSI != 0,
            dscp,
            additional_qos,
        })
    }

    /// The Notification Data, Length as TS 24.502 counts it (the octets after it).
    ///
    /// # Errors
    /// [`WireError::TooLong`] when the data or a list does not fit its one-octet length.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut body = vec![self.pdu_session_id.0];
        let qfis: Vec<u8> = self.qfis.iter().map(|q| q.value()).collect();
        put_lv8(&mut body, &qfis, "QFI list")?;
        let flags = u8::from(self.dscp.is_some())
            | u8::from(self.default_child_sa) << 1
            | u8::from(self.additional_qos.is_some()) << 2;
        body.push(flags);
        body.extend(self.dscp.map(Dscp::value));
        if let Some(parameters) = &self.additional_qos {
            emit_additional_qos(parameters, &mut body)?;
        }
        let mut out = Vec::with_capacity(body.len() + 1);
        put_lv8(&mut out, &body, "5G_QOS_INFO")?;
        Ok(out)
    }
}

/// Number of parameters (1), then each `Identifier (1) | Length (1) | Contents`.
fn parse_additional_qos(r: &mut Reader<'_>) -> Result<Vec<QosParameter>, WireError> {
    let count = r.u8("number of QoS parameters")?;
    (0..count)
        .map(|_| {
            let identifier = r.u8("QoS parameter identifier")?;
            let contents = r.sub_u8("QoS parameter length")?.rest().to_vec();
            Ok(QosParameter {
                identifier,
                contents,
            })
        })
        .collect()
}

fn emit_additional_qos(parameters: &[QosParameter], out: &mut Vec<u8>) -> Result<(), WireError> {
    let count = u8::try_from(parameters.len()).map_err(|_| WireError::TooLong("QoS parameters"))?;
    out.push(count);
    for parameter in parameters {
        out.push(parameter.identifier);
        put_lv8(out, &parameter.contents, "QoS parameter")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qfis(values: &[u8]) -> Vec<Qfi> {
        values.iter().map(|v| Qfi::new(*v).unwrap()).collect()
    }

    /// PDU session 5, QFIs 1 and 9, default child SA, DSCP 46 (EF).
    #[test]
    fn spec_length_byte_exact() {
        let info = QosInfo {
            pdu_session_id: PduSessionId(5),
            qfis: qfis(&[1, 9]),
            default_child_sa: true,
            dscp: Dscp::new(46),
            additional_qos: None,
        };
        let bytes = [0x06, 0x05, 0x02, 0x01, 0x09, 0x03, 0x2e];
        assert_eq!(info.to_bytes().unwrap(), bytes);
        assert_eq!(QosInfo::parse(&bytes), Ok(info));
    }

    /// free5GC writes the Length counting itself: 5 for a single QFI without DSCP, where the
    /// spec has 4.
    #[test]
    fn free5gc_length_accepted() {
        let free5gc = [0x05, 0x01, 0x01, 0x01, 0x02];
        let info = QosInfo::parse(&free5gc).unwrap();
        assert_eq!(info.qfis, qfis(&[1]));
        assert!(info.default_child_sa);
        assert_eq!(info.to_bytes().unwrap(), [0x04, 0x01, 0x01, 0x01, 0x02]);
    }

    #[test]
    fn other_lengths_are_refused() {
        for length in [0x00, 0x03, 0x06, 0xff] {
            let bytes = [length, 0x01, 0x01, 0x01, 0x02];
            assert_eq!(
                QosInfo::parse(&bytes),
                Err(WireError::BadLength("5G_QOS_INFO Length"))
            );
        }
        assert_eq!(
            QosInfo::parse(&[]),
            Err(WireError::Truncated("5G_QOS_INFO Length"))
        );
    }

    #[test]
    fn fields_the_flags_announce_must_be_there() {
        assert_eq!(
            QosInfo::parse(&[0x04, 0x01, 0x01, 0x01, 0x01]),
            Err(WireError::Truncated("DSCP"))
        );
        assert_eq!(
            QosInfo::parse(&[0x03, 0x01, 0x05, 0x01]),
            Err(WireError::BadLength("QFI list"))
        );
        assert_eq!(
            QosInfo::parse(&[0x05, 0x01, 0x01, 0x01, 0x00, 0x00]),
            Err(WireError::TrailingData("5G_QOS_INFO"))
        );
    }

    #[test]
    fn additional_qos_information() {
        let info = QosInfo {
            pdu_session_id: PduSessionId(1),
            qfis: qfis(&[1]),
            default_child_sa: false,
            dscp: None,
            additional_qos: Some(vec![QosParameter {
                identifier: 1,
                contents: vec![0x09],
            }]),
        };
        let bytes = [0x08, 0x01, 0x01, 0x01, 0x04, 0x01, 0x01, 0x01, 0x09];
        assert_eq!(info.to_bytes().unwrap(), bytes);
        assert_eq!(QosInfo::parse(&bytes), Ok(info));
        assert_eq!(
            QosInfo::parse(&[0x07, 0x01, 0x01, 0x01, 0x04, 0x01, 0x01, 0x02]),
            Err(WireError::BadLength("QoS parameter length"))
        );
    }

    #[test]
    fn spare_bits_are_ignored() {
        let info = QosInfo::parse(&[0x05, 0x01, 0x01, 0xc1, 0xf9, 0xee]).unwrap();
        assert_eq!(info.qfis, qfis(&[1]));
        assert_eq!(info.dscp, Dscp::new(0x2e));
        assert!(!info.default_child_sa);
    }

    #[test]
    fn too_many_qfis_cannot_be_written() {
        let info = QosInfo {
            pdu_session_id: PduSessionId(1),
            qfis: vec![Qfi::new(1).unwrap(); 256],
            default_child_sa: false,
            dscp: None,
            additional_qos: None,
        };
        assert_eq!(info.to_bytes(), Err(WireError::TooLong("QFI list")));
    }
}
