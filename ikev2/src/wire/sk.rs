//! Encrypted (SK, RFC 7296 §3.14) and Encrypted Fragment (SKF, RFC 7383 §2.5) payload bodies.
//! No cryptography here: the body stays IV | ciphertext | ICV as received.

use super::enums::PayloadType;
use super::error::ParseError;
use super::reader::Reader;
use super::types::{EncryptedFragment, EncryptedPayload};

/// SK body; `next` is the generic header's Next Payload, the first inner payload's type.
pub(super) fn parse_encrypted(next: PayloadType, r: &mut Reader<'_>) -> EncryptedPayload {
    EncryptedPayload {
        first_inner: next,
        body: r.rest().to_vec(),
    }
}

/// Fragment Number (2), Total Fragments (2), then IV | ciphertext | ICV. Both numbers are
/// non-zero and the number is at most the total (RFC 7383 §2.5).
pub(super) fn parse_fragment(
    next: PayloadType,
    r: &mut Reader<'_>,
) -> Result<EncryptedFragment, ParseError> {
    let fragment_number = r.u16("SKF payload")?;
    let total_fragments = r.u16("SKF payload")?;
    if fragment_number == 0 || total_fragments == 0 {
        return Err(ParseError::InvalidField("zero fragment number or total"));
    }
    if fragment_number > total_fragments {
        return Err(ParseError::InvalidField("fragment number above total"));
    }
    Ok(EncryptedFragment {
        first_inner: next,
        fragment_number,
        total_fragments,
        body: r.rest().to_vec(),
    })
}

pub(super) fn emit_fragment(skf: &EncryptedFragment, out: &mut Vec<u8>) {
    out.extend_from_slice(&skf.fragment_number.to_be_bytes());
    out.extend_from_slice(&skf.total_fragments.to_be_bytes());
    out.extend_from_slice(&skf.body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.14, Figure 21 (Encrypted Payload): a Notify follows the IKE header in the
    /// clear, then SK whose Next Payload names the first inner payload (IDi).
    #[test]
    fn sk_matches_figure_21() {
        let bytes = [
            0x2e, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x00, // Notify INITIAL_CONTACT, SK next
            0x23, 0x00, 0x00, 0x0c, // SK: first inner IDi, length 12
            0x11, 0x11, 0x11, 0x11, // IV
            0x22, 0x22, 0x33, 0x33, // ciphertext and ICV
        ];
        let payloads = [
            Payload::Notify(crate::wire::Notify::new(
                crate::wire::NotifyType::INITIAL_CONTACT,
                Vec::new(),
            )),
            Payload::Sk(EncryptedPayload {
                first_inner: PayloadType::IDI,
                body: vec![0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33],
            }),
        ];
        assert_codec(PayloadType::NOTIFY, &bytes, &payloads);
    }

    /// RFC 7383 §2.5 (Encrypted Fragment Payload): fragment 1 of 3 carries the first inner
    /// payload type; later fragments carry NONE.
    #[test]
    fn skf_matches_rfc7383_figure() {
        let first = [0x23, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x03, 0xab, 0xcd];
        let fragment = EncryptedFragment {
            first_inner: PayloadType::IDI,
            fragment_number: 1,
            total_fragments: 3,
            body: vec![0xab, 0xcd],
        };
        assert_codec(PayloadType::SKF, &first, &[Payload::Skf(fragment)]);
        let last = [0x00, 0x00, 0x00, 0x09, 0x00, 0x03, 0x00, 0x03, 0xef];
        let fragment = EncryptedFragment {
            first_inner: PayloadType::NONE,
            fragment_number: 3,
            total_fragments: 3,
            body: vec![0xef],
        };
        assert_codec(PayloadType::SKF, &last, &[Payload::Skf(fragment)]);
    }

    #[test]
    fn skf_numbers_are_checked() {
        let skf = |number: u8, total: u8| [0x00, 0x00, 0x00, 0x08, 0x00, number, 0x00, total];
        assert_eq!(
            parse_payloads(PayloadType::SKF, &skf(0, 1)),
            Err(ParseError::InvalidField("zero fragment number or total"))
        );
        assert_eq!(
            parse_payloads(PayloadType::SKF, &skf(0, 0)),
            Err(ParseError::InvalidField("zero fragment number or total"))
        );
        assert_eq!(
            parse_payloads(PayloadType::SKF, &skf(3, 2)),
            Err(ParseError::InvalidField("fragment number above total"))
        );
        assert!(parse_payloads(PayloadType::SKF, &skf(2, 2)).is_ok());
        let cut = [0x00, 0x00, 0x00, 0x06, 0x00, 0x01];
        assert_eq!(
            parse_payloads(PayloadType::SKF, &cut),
            Err(ParseError::Truncated("SKF payload"))
        );
        let followed = [0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01, 0x00];
        assert_eq!(
            parse_payloads(PayloadType::SKF, &followed),
            Err(ParseError::EncryptedNotLast)
        );
    }
}
