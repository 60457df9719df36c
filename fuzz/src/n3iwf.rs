//! Round-trip checks for the n3iwf crate's parsers: whatever they accept must emit and parse
//! back to the same value. The emitted octets may differ from the input where the input had
//! spare bits set, 5G-Start/5G-Stop extensions, free5GC's 5G_QOS_INFO length or parameters in
//! another order; the values may not.

use n3iwf::ngap::{
    NgapMessage, PduSessionResourceSetupRequestTransfer, PduSessionResourceSetupResponseTransfer,
};
use n3iwf::wire::an_params::AnParameters;
use n3iwf::wire::eap5g::Eap5g;
use n3iwf::wire::nas_envelope::{LENGTH_LEN, NasEnvelopeReader, frame};
use n3iwf::wire::notify3gpp::N3gppNotify;

pub fn eap5g_round_trip(packet: &[u8]) {
    let Ok(message) = Eap5g::parse(packet) else {
        return;
    };
    let bytes = message.to_bytes().expect("a parsed EAP-5G packet emits");
    assert!(bytes.len() <= packet.len(), "emit grew the packet");
    assert_eq!(
        Eap5g::parse(&bytes).as_ref(),
        Ok(&message),
        "emit then parse changed it"
    );
}

pub fn an_params_round_trip(field: &[u8]) {
    let Ok(params) = AnParameters::parse(field) else {
        return;
    };
    let bytes = params.to_bytes().expect("parsed AN parameters emit");
    assert_eq!(bytes.len(), field.len(), "emit changed the length");
    assert_eq!(
        AnParameters::parse(&bytes).as_ref(),
        Ok(&params),
        "emit then parse changed them"
    );
}

/// The first octet picks the notify type (55500..=55508, so that neighbours are tried too).
pub fn notify_round_trip(data: &[u8]) {
    let Some((selector, data)) = data.split_first() else {
        return;
    };
    let notify_type = ikev2::wire::NotifyType(55_500 + u16::from(selector % 9));
    let Ok(Some(notify)) = N3gppNotify::parse_data(notify_type, data) else {
        return;
    };
    let bytes = notify.data().expect("a parsed notify emits");
    let again = N3gppNotify::parse_data(notify.notify_type(), &bytes);
    assert_eq!(
        again.as_ref(),
        Ok(&Some(notify.clone())),
        "emit then parse changed it"
    );
    let wire = notify.to_notify().expect("a parsed notify emits");
    assert_eq!(N3gppNotify::from_notify(&wire), Ok(Some(notify)));
}

/// Octet 0 sets the message bound, octet 1 the size of the pieces the rest is pushed in. What
/// the reader returns, framed again, must be exactly the stream it consumed.
pub fn nas_envelope_round_trip(data: &[u8]) {
    let [bound, piece, stream @ ..] = data else {
        return;
    };
    let max_message = usize::from(*bound) * 8 + 1;
    let mut reader = NasEnvelopeReader::with_limits(max_message, 2 * max_message);
    let (mut reframed, mut pushed) = (Vec::new(), 0);
    for chunk in stream.chunks(usize::from(*piece).max(1)) {
        if reader.push(chunk).is_err() {
            break;
        }
        pushed += chunk.len();
        assert!(
            reader.buffered() <= 2 * max_message + LENGTH_LEN,
            "buffer bound exceeded"
        );
        while let Ok(Some(message)) = reader.next_message() {
            assert!(!message.is_empty() && message.len() <= max_message);
            frame(&message, &mut reframed).expect("a read message frames");
        }
    }
    let consumed = pushed - reader.buffered();
    if reader.next_message().is_ok() {
        assert_eq!(reframed, stream[..consumed], "framing changed the stream");
    }
}

/// A PDU that decodes encodes again, and decodes to the same message.
pub fn ngap_round_trip(octets: &[u8]) {
    let Ok(decoded) = NgapMessage::decode(octets) else {
        return;
    };
    let bytes = decoded.message.encode().expect("a decoded message encodes");
    let again = NgapMessage::decode(&bytes).expect("an encoded message decodes");
    assert_eq!(
        again.message, decoded.message,
        "encode then decode changed it"
    );
    assert_eq!(again.report, None, "our encoding calls for a report");
}

/// A setup request transfer (the AMF's, untrusted) or a setup response transfer that decodes
/// encodes again, and decodes to the same value.
pub fn ngap_transfers_round_trip(octets: &[u8]) {
    if let Ok(request) = PduSessionResourceSetupRequestTransfer::decode(octets) {
        let bytes = request.encode().expect("a decoded request transfer encodes");
        assert_eq!(
            PduSessionResourceSetupRequestTransfer::decode(&bytes).as_ref(),
            Ok(&request),
            "encode then decode changed the request transfer"
        );
    }
    if let Ok(response) = PduSessionResourceSetupResponseTransfer::decode(octets) {
        let bytes = response.encode().expect("a decoded response transfer encodes");
        assert_eq!(
            PduSessionResourceSetupResponseTransfer::decode(&bytes).as_ref(),
            Ok(&response),
            "encode then decode changed the response transfer"
        );
    }
}
