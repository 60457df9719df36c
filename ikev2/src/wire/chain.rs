//! Payload chains: the generic payload header (RFC 7296 §3.2) and dispatch to each body codec.

use super::enums::PayloadType;
use super::error::ParseError;
use super::reader::{LengthSlot, Reader};
use super::types::{GENERIC_HEADER_LEN, Payload};
use super::{MAX_ITEMS, cp, delete, notify, opaque, sa, sk, ts};

/// The critical bit in the generic payload header's second octet (RFC 7296 §3.2).
const CRITICAL: u8 = 0x80;

/// Parses a payload chain whose first payload has type `first`, as found after the IKE header or
/// inside a decrypted SK payload. An SK or SKF payload ends the chain; its Next Payload field
/// becomes its `first_inner`.
///
/// # Errors
///
/// Any [`ParseError`] for malformed content: a generic header or body past the end of `bytes`,
/// a bad length field, octets after the last payload or after an SK/SKF payload, or more than
/// [`MAX_ITEMS`] payloads.
pub fn parse_payloads(first: PayloadType, bytes: &[u8]) -> Result<Vec<Payload>, ParseError> {
    const WHAT: &str = "generic payload header";
    let mut r = Reader::new(bytes);
    let mut payloads = Vec::new();
    let mut this = first;
    while this != PayloadType::NONE {
        if payloads.len() >= MAX_ITEMS {
            return Err(ParseError::TooMany("payloads"));
        }
        let next = PayloadType(r.u8(WHAT)?);
        // RFC 7296 §3.2: the other seven bits are RESERVED and ignored on receipt.
        let critical = r.u8(WHAT)? & CRITICAL != 0;
        let length = usize::from(r.u16(WHAT)?);
        let body_len = length
            .checked_sub(GENERIC_HEADER_LEN)
            .ok_or(ParseError::BadLength(WHAT))?;
        let mut body = r.sub(body_len, WHAT)?;
        payloads.push(parse_body(this, next, critical, &mut body)?);
        body.finish("payload body")?;
        if this == PayloadType::SK || this == PayloadType::SKF {
            // RFC 7296 §3.14, RFC 7383 §2.5: the encrypted payload is the last one.
            return match r.is_empty() {
                true => Ok(payloads),
                false => Err(ParseError::EncryptedNotLast),
            };
        }
        this = next;
    }
    r.finish("last payload")?;
    Ok(payloads)
}

/// Appends `payloads` as a chain, each with its generic header and computed length, and returns
/// the type of the first payload ([`PayloadType::NONE`] when empty) for the caller's Next
/// Payload field. An SK or SKF payload's Next Payload is its `first_inner`, so it should be
/// last. Only [`Payload::Unknown`] carries a critical bit; known payloads are sent with it clear.
pub fn emit_payloads(payloads: &[Payload], out: &mut Vec<u8>) -> PayloadType {
    let mut rest = payloads.iter().peekable();
    while let Some(payload) = rest.next() {
        let next = match payload {
            Payload::Sk(sk) => sk.first_inner,
            Payload::Skf(skf) => skf.first_inner,
            _ => rest.peek().map_or(PayloadType::NONE, |p| p.payload_type()),
        };
        let flags = match payload {
            Payload::Unknown { critical: true, .. } => CRITICAL,
            _ => 0,
        };
        let start = out.len();
        out.extend_from_slice(&[next.0, flags]);
        let length = LengthSlot::reserve(out, start);
        emit_body(payload, out);
        length.fill(out);
    }
    payloads
        .first()
        .map_or(PayloadType::NONE, Payload::payload_type)
}

/// Parses one payload body of type `this`, bounded by `r`; `next` is its Next Payload field.
fn parse_body(
    this: PayloadType,
    next: PayloadType,
    critical: bool,
    r: &mut Reader<'_>,
) -> Result<Payload, ParseError> {
    Ok(match this {
        PayloadType::SA => Payload::Sa(sa::parse_proposals(r)?),
        PayloadType::KE => Payload::Ke(opaque::parse_ke(r)?),
        PayloadType::IDI => Payload::IdI(opaque::parse_id(r)?),
        PayloadType::IDR => Payload::IdR(opaque::parse_id(r)?),
        PayloadType::CERT => Payload::Cert(opaque::parse_cert(r)?),
        PayloadType::CERTREQ => Payload::CertReq(opaque::parse_cert(r)?),
        PayloadType::AUTH => Payload::Auth(opaque::parse_auth(r)?),
        PayloadType::NONCE => Payload::Nonce(r.rest().to_vec()),
        PayloadType::NOTIFY => Payload::Notify(notify::parse_notify(r)?),
        PayloadType::DELETE => Payload::Delete(delete::parse_delete(r)?),
        PayloadType::VENDOR_ID => Payload::VendorId(r.rest().to_vec()),
        PayloadType::TSI => Payload::TsI(ts::parse_selectors(r)?),
        PayloadType::TSR => Payload::TsR(ts::parse_selectors(r)?),
        PayloadType::SK => Payload::Sk(sk::parse_encrypted(next, r)),
        PayloadType::SKF => Payload::Skf(sk::parse_fragment(next, r)?),
        PayloadType::CP => Payload::Cp(cp::parse_configuration(r)?),
        PayloadType::EAP => Payload::Eap(r.rest().to_vec()),
        payload_type => Payload::Unknown {
            payload_type,
            critical,
            body: r.rest().to_vec(),
        },
    })
}

/// Appends one payload body (without its generic header).
fn emit_body(payload: &Payload, out: &mut Vec<u8>) {
    match payload {
        Payload::Sa(proposals) => sa::emit_proposals(proposals, out),
        Payload::Ke(ke) => opaque::emit_ke(ke, out),
        Payload::IdI(id) | Payload::IdR(id) => opaque::emit_id(id, out),
        Payload::Cert(cert) | Payload::CertReq(cert) => opaque::emit_cert(cert, out),
        Payload::Auth(auth) => opaque::emit_auth(auth, out),
        Payload::Notify(n) => notify::emit_notify(n, out),
        Payload::Delete(d) => delete::emit_delete(d, out),
        Payload::TsI(selectors) | Payload::TsR(selectors) => ts::emit_selectors(selectors, out),
        Payload::Sk(sk) => out.extend_from_slice(&sk.body),
        Payload::Skf(skf) => sk::emit_fragment(skf, out),
        Payload::Cp(cp) => cp::emit_configuration(cp, out),
        Payload::Nonce(data)
        | Payload::VendorId(data)
        | Payload::Eap(data)
        | Payload::Unknown { body: data, .. } => out.extend_from_slice(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::EncryptedPayload;

    /// RFC 7296 §3.2, Figure 5 (Generic Payload Header), for a payload type we do not know,
    /// with the critical bit set.
    #[test]
    fn unknown_critical_payload_keeps_its_body() {
        let bytes = [0x00, 0x80, 0x00, 0x07, 0xaa, 0xbb, 0xcc];
        let unknown = Payload::Unknown {
            payload_type: PayloadType(0x31),
            critical: true,
            body: vec![0xaa, 0xbb, 0xcc],
        };
        assert_codec(PayloadType(0x31), &bytes, &[unknown]);
    }

    #[test]
    fn reserved_bits_are_ignored_and_critical_dropped_for_known_types() {
        let bytes = [0x00, 0xff, 0x00, 0x06, 0x01, 0x02];
        let parsed = parse_payloads(PayloadType::NONCE, &bytes);
        assert_eq!(parsed, Ok(vec![Payload::Nonce(vec![0x01, 0x02])]));
        let unknown = parse_payloads(PayloadType(0x64), &bytes);
        assert!(matches!(
            unknown.as_deref(),
            Ok([Payload::Unknown { critical: true, .. }])
        ));
    }

    #[test]
    fn empty_chain() {
        assert_codec(PayloadType::NONE, &[], &[]);
        assert_eq!(
            parse_payloads(PayloadType::NONE, &[0]),
            Err(ParseError::TrailingData("last payload"))
        );
    }

    #[test]
    fn generic_length_is_checked() {
        let short = [0x00, 0x00, 0x00, 0x03];
        let long = [0x00, 0x00, 0x00, 0x09, 0x01];
        let cut = [0x00, 0x00, 0x00];
        let bad = Err(ParseError::BadLength("generic payload header"));
        assert_eq!(parse_payloads(PayloadType::NONCE, &short), bad);
        assert_eq!(parse_payloads(PayloadType::NONCE, &long), bad);
        assert_eq!(
            parse_payloads(PayloadType::NONCE, &cut),
            Err(ParseError::Truncated("generic payload header"))
        );
    }

    #[test]
    fn chain_follows_next_payload_and_rejects_dangling_next() {
        // Vendor ID announcing a Nonce that is not there.
        let dangling = [0x28, 0x00, 0x00, 0x05, 0x01];
        assert_eq!(
            parse_payloads(PayloadType::VENDOR_ID, &dangling),
            Err(ParseError::Truncated("generic payload header"))
        );
        let two = [0x28, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x05, 0x02];
        let payloads = [Payload::VendorId(vec![0x01]), Payload::Nonce(vec![0x02])];
        assert_codec(PayloadType::VENDOR_ID, &two, &payloads);
    }

    #[test]
    fn encrypted_payload_must_be_last() {
        // RFC 7296 §3.14: SK whose Next Payload (IDi) is the first inner payload.
        let sk = [0x23, 0x00, 0x00, 0x06, 0xee, 0xff];
        let payload = Payload::Sk(EncryptedPayload {
            first_inner: PayloadType::IDI,
            body: vec![0xee, 0xff],
        });
        assert_codec(PayloadType::SK, &sk, &[payload]);
        let mut followed = sk.to_vec();
        followed.extend_from_slice(&[0x00, 0x00, 0x00, 0x04]);
        assert_eq!(
            parse_payloads(PayloadType::SK, &followed),
            Err(ParseError::EncryptedNotLast)
        );
    }

    #[test]
    fn chain_length_is_capped() {
        let mut bytes = Vec::new();
        for _ in 0..MAX_ITEMS {
            bytes.extend_from_slice(&[0x2b, 0x00, 0x00, 0x04]);
        }
        let last = bytes.len() - 4;
        bytes[last] = 0;
        assert_eq!(
            parse_payloads(PayloadType::VENDOR_ID, &bytes).map(|p| p.len()),
            Ok(MAX_ITEMS)
        );
        bytes[last] = 0x2b;
        bytes.extend_from_slice(&[0x00, 0x00, 0x00, 0x04]);
        assert_eq!(
            parse_payloads(PayloadType::VENDOR_ID, &bytes),
            Err(ParseError::TooMany("payloads"))
        );
    }
}
