//! Payload bodies made of a short fixed prefix followed by free-form data: KE (RFC 7296 §3.4),
//! IDi/IDr (§3.5), CERT/CERTREQ (§3.6, §3.7) and AUTH (§3.8). Nonce, Vendor ID and EAP bodies
//! are nothing but data and are handled in the chain itself.

use super::enums::{AuthMethod, CertEncoding, IdType, KeId};
use super::error::ParseError;
use super::reader::Reader;
use super::types::{AuthPayload, CertPayload, Identification, KeyExchangePayload};

/// Key Exchange Method Num (2), RESERVED (2), data.
pub(super) fn parse_ke(r: &mut Reader<'_>) -> Result<KeyExchangePayload, ParseError> {
    let group = KeId(r.u16("KE payload")?);
    r.skip(2, "KE payload")?;
    Ok(KeyExchangePayload {
        group,
        data: r.rest().to_vec(),
    })
}

/// ID Type (1), RESERVED (3), data.
pub(super) fn parse_id(r: &mut Reader<'_>) -> Result<Identification, ParseError> {
    let id_type = IdType(r.u8("ID payload")?);
    r.skip(3, "ID payload")?;
    Ok(Identification {
        id_type,
        data: r.rest().to_vec(),
    })
}

/// Encoding (1), data.
pub(super) fn parse_cert(r: &mut Reader<'_>) -> Result<CertPayload, ParseError> {
    let encoding = CertEncoding(r.u8("certificate encoding")?);
    Ok(CertPayload {
        encoding,
        data: r.rest().to_vec(),
    })
}

/// Auth Method (1), RESERVED (3), data.
pub(super) fn parse_auth(r: &mut Reader<'_>) -> Result<AuthPayload, ParseError> {
    let method = AuthMethod(r.u8("AUTH payload")?);
    r.skip(3, "AUTH payload")?;
    Ok(AuthPayload {
        method,
        data: r.rest().to_vec(),
    })
}

pub(super) fn emit_ke(ke: &KeyExchangePayload, out: &mut Vec<u8>) {
    out.extend_from_slice(&ke.group.0.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&ke.data);
}

pub(super) fn emit_id(id: &Identification, out: &mut Vec<u8>) {
    out.extend_from_slice(&[id.id_type.0, 0, 0, 0]);
    out.extend_from_slice(&id.data);
}

pub(super) fn emit_cert(cert: &CertPayload, out: &mut Vec<u8>) {
    out.push(cert.encoding.0);
    out.extend_from_slice(&cert.data);
}

pub(super) fn emit_auth(auth: &AuthPayload, out: &mut Vec<u8>) {
    out.extend_from_slice(&[auth.method.0, 0, 0, 0]);
    out.extend_from_slice(&auth.data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::PayloadType;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.4, Figure 10 (Key Exchange Payload).
    #[test]
    fn ke_matches_figure_10() {
        let bytes = [
            0x00, 0x00, 0x00, 0x0b, 0x00, 0x24, 0x00, 0x00, 0x01, 0x02, 0x03,
        ];
        let ke = KeyExchangePayload {
            group: KeId::ML_KEM_768,
            data: vec![1, 2, 3],
        };
        assert_codec(PayloadType::KE, &bytes, &[Payload::Ke(ke)]);
    }

    /// RFC 7296 §3.5, Figure 11 (Identification Payload), for both IDi and IDr.
    #[test]
    fn id_matches_figure_11() {
        let bytes = [
            0x24, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x00, 0x00, b'a', b'.', b'b', // IDi FQDN
            0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02,
            0x01, // IDr IPv4
        ];
        let payloads = [
            Payload::IdI(Identification {
                id_type: IdType::FQDN,
                data: b"a.b".to_vec(),
            }),
            Payload::IdR(Identification {
                id_type: IdType::IPV4_ADDR,
                data: vec![0xc0, 0x00, 0x02, 0x01],
            }),
        ];
        assert_codec(PayloadType::IDI, &bytes, &payloads);
    }

    /// RFC 7296 §3.6 and §3.7, Figures 12 and 13 (Certificate and Certificate Request).
    #[test]
    fn cert_and_certreq_match_figures_12_13() {
        let bytes = [
            0x26, 0x00, 0x00, 0x07, 0x04, 0x30, 0x82, // CERT X.509 signature
            0x00, 0x00, 0x00, 0x05, 0x04, // CERTREQ X.509, no authorities
        ];
        let payloads = [
            Payload::Cert(CertPayload {
                encoding: CertEncoding::X509_SIGNATURE,
                data: vec![0x30, 0x82],
            }),
            Payload::CertReq(CertPayload {
                encoding: CertEncoding::X509_SIGNATURE,
                data: Vec::new(),
            }),
        ];
        assert_codec(PayloadType::CERT, &bytes, &payloads);
    }

    /// RFC 7296 §3.8, Figure 14 (Authentication Payload).
    #[test]
    fn auth_matches_figure_14() {
        let bytes = [0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb];
        let auth = AuthPayload {
            method: AuthMethod::SHARED_KEY_MIC,
            data: vec![0xaa, 0xbb],
        };
        assert_codec(PayloadType::AUTH, &bytes, &[Payload::Auth(auth)]);
    }

    /// RFC 7296 §3.9, §3.12, §3.16, Figures 15, 18 and 24 (Nonce, Vendor ID, EAP): data only.
    #[test]
    fn nonce_vendor_id_eap_are_data() {
        let bytes = [
            0x2b, 0x00, 0x00, 0x06, 0x11, 0x22, // Nonce
            0x30, 0x00, 0x00, 0x05, 0x33, // Vendor ID
            0x00, 0x00, 0x00, 0x09, 0x01, 0x02, 0x00, 0x05, 0x01, // EAP Request/Identity
        ];
        let payloads = [
            Payload::Nonce(vec![0x11, 0x22]),
            Payload::VendorId(vec![0x33]),
            Payload::Eap(vec![0x01, 0x02, 0x00, 0x05, 0x01]),
        ];
        assert_codec(PayloadType::NONCE, &bytes, &payloads);
    }

    #[test]
    fn fixed_prefixes_are_required() {
        let ke = [0x00, 0x00, 0x00, 0x07, 0x00, 0x1f, 0x00];
        assert_eq!(
            parse_payloads(PayloadType::KE, &ke),
            Err(ParseError::Truncated("KE payload"))
        );
        let id = [0x00, 0x00, 0x00, 0x06, 0x02, 0x00];
        assert_eq!(
            parse_payloads(PayloadType::IDR, &id),
            Err(ParseError::Truncated("ID payload"))
        );
        let cert = [0x00, 0x00, 0x00, 0x04];
        assert_eq!(
            parse_payloads(PayloadType::CERTREQ, &cert),
            Err(ParseError::Truncated("certificate encoding"))
        );
        let auth = [0x00, 0x00, 0x00, 0x07, 0x0e, 0x00, 0x00];
        assert_eq!(
            parse_payloads(PayloadType::AUTH, &auth),
            Err(ParseError::Truncated("AUTH payload"))
        );
    }

    #[test]
    fn reserved_octets_are_ignored_on_receipt() {
        let bytes = [0x00, 0x00, 0x00, 0x09, 0x01, 0xff, 0xff, 0xff, 0x7f];
        let parsed = parse_payloads(PayloadType::IDI, &bytes);
        let id = Identification {
            id_type: IdType::IPV4_ADDR,
            data: vec![0x7f],
        };
        assert_eq!(parsed, Ok(vec![Payload::IdI(id)]));
    }
}
