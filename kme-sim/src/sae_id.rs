//! The SAE ID a KME derives from a verified client certificate (ETSI GS QKD 014 §4 leaves the
//! mapping open; this simulator offers the subject CN or the serial number).

use std::fmt::Write as _;
use std::str::FromStr;

/// Where the SAE ID comes from in the client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaeIdSource {
    /// The subject's single commonName (UTF8String, PrintableString or IA5String).
    #[default]
    CommonName,
    /// The serial number: decimal when it fits in 64 bits, else lowercase hex.
    Serial,
}

impl SaeIdSource {
    /// The SAE ID in `cert_der`, or `None` when the certificate has none (no CN, several CNs,
    /// a negative serial, or DER this reader does not follow).
    pub fn sae_id(self, cert_der: &[u8]) -> Option<String> {
        let (serial, subject) = tbs_serial_and_subject(cert_der)?;
        match self {
            Self::CommonName => single_common_name(subject),
            Self::Serial => serial_text(serial),
        }
    }
}

impl FromStr for SaeIdSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cn" => Ok(Self::CommonName),
            "serial" => Ok(Self::Serial),
            other => Err(format!("unknown SAE ID source {other:?} (cn or serial)")),
        }
    }
}

/// The serial INTEGER contents and the subject Name of a Certificate (RFC 5280 §4.1).
fn tbs_serial_and_subject(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (SEQUENCE, cert, _) = tlv(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = tlv(cert)? else {
        return None;
    };
    let (mut tag, mut field, mut rest) = tlv(tbs)?;
    if tag == VERSION_TAG {
        (tag, field, rest) = tlv(rest)?;
    }
    if tag != INTEGER {
        return None;
    }
    let serial = field;
    let (SEQUENCE, _signature, rest) = tlv(rest)? else {
        return None;
    };
    let (SEQUENCE, _issuer, rest) = tlv(rest)? else {
        return None;
    };
    let (SEQUENCE, _validity, rest) = tlv(rest)? else {
        return None;
    };
    let (SEQUENCE, subject, _) = tlv(rest)? else {
        return None;
    };
    Some((serial, subject))
}

/// The value of the one commonName attribute in a Name.
fn single_common_name(mut name: &[u8]) -> Option<String> {
    let mut found = None;
    for _ in 0..MAX_NAME_ATTRIBUTES {
        if name.is_empty() {
            return found;
        }
        let (SET, mut rdn, rest) = tlv(name)? else {
            return None;
        };
        name = rest;
        for _ in 0..MAX_NAME_ATTRIBUTES {
            if rdn.is_empty() {
                break;
            }
            let (SEQUENCE, attribute, rest) = tlv(rdn)? else {
                return None;
            };
            rdn = rest;
            let (OID, oid, value) = tlv(attribute)? else {
                return None;
            };
            if oid != OID_COMMON_NAME {
                continue;
            }
            let (UTF8_STRING | PRINTABLE_STRING | IA5_STRING, text, _) = tlv(value)? else {
                return None;
            };
            if found.is_some() {
                return None;
            }
            found = Some(String::from_utf8(text.to_vec()).ok()?);
        }
    }
    None
}

fn serial_text(serial: &[u8]) -> Option<String> {
    if serial.first().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let start = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    let magnitude = &serial[start..];
    if magnitude.len() <= 8 {
        let value = magnitude
            .iter()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        return Some(value.to_string());
    }
    let mut hex = String::with_capacity(magnitude.len() * 2);
    for b in magnitude {
        let _ = write!(hex, "{b:02x}");
    }
    Some(hex)
}

/// One DER tag-length-value: (tag, contents, rest). Single-byte tags, lengths up to 4 bytes.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const IA5_STRING: u8 = 0x16;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const VERSION_TAG: u8 = 0xa0;
/// 2.5.4.3 id-at-commonName.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// Bounds the walk over a Name (RDNs, and attributes per RDN).
const MAX_NAME_ATTRIBUTES: usize = 64;

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber};

    use super::*;

    fn cert(cn: &[&str], serial: &[u8]) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "QKD lab");
        for c in cn {
            params.distinguished_name.push(DnType::CommonName, *c);
        }
        params.serial_number = Some(SerialNumber::from_slice(serial));
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn common_name_and_serial_are_read() {
        let der = cert(&["sae-alice"], &[0x30, 0x39]);
        assert_eq!(
            SaeIdSource::CommonName.sae_id(&der).as_deref(),
            Some("sae-alice")
        );
        assert_eq!(SaeIdSource::Serial.sae_id(&der).as_deref(), Some("12345"));
    }

    #[test]
    fn long_serial_is_hex_and_negative_serial_is_refused() {
        let long = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        let der = cert(&["x"], &long);
        assert_eq!(
            SaeIdSource::Serial.sae_id(&der).as_deref(),
            Some("010203040506070809")
        );
        assert_eq!(serial_text(&[0x80]), None);
        assert_eq!(serial_text(&[0x00, 0x80]).as_deref(), Some("128"));
    }

    #[test]
    fn missing_or_repeated_common_name_gives_no_id() {
        assert_eq!(SaeIdSource::CommonName.sae_id(&cert(&[], &[1])), None);
        // rcgen keeps one value per attribute type, so build the repeated CN by hand.
        let attr = |v: &str| {
            let mut a = vec![SEQUENCE, (5 + 2 + v.len()) as u8, OID, 3, 0x55, 0x04, 0x03];
            a.extend([UTF8_STRING, v.len() as u8]);
            a.extend(v.as_bytes());
            let mut set = vec![SET, a.len() as u8];
            set.extend(a);
            set
        };
        let name: Vec<u8> = [attr("a"), attr("b")].concat();
        assert_eq!(single_common_name(&name), None);
        assert_eq!(single_common_name(&attr("a")).as_deref(), Some("a"));
    }

    #[test]
    fn truncated_der_gives_no_id() {
        let der = cert(&["alice"], &[7]);
        for cut in [0, 1, 10, der.len() / 2] {
            assert_eq!(SaeIdSource::CommonName.sae_id(&der[..cut]), None);
        }
        assert_eq!("serial".parse(), Ok(SaeIdSource::Serial));
        assert!("san".parse::<SaeIdSource>().is_err());
    }
}
