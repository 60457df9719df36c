//! The NAS-5GS decoders of the 5G emulators (fiveg-emu): any octets give a PDU or an error, never
//! a panic; an accepted plain message, the payload of a protected one read as a plain message,
//! a 5GSM message, and the 5GSM message in a NAS TRANSPORT's container all encode and decode
//! back to the same value.
#![no_main]

use fiveg_emu::nas::sm::SmPdu;
use fiveg_emu::nas::{GmmMessage, NasPdu};
use libfuzzer_sys::fuzz_target;

fn session_round_trip(octets: &[u8]) {
    if let Ok(pdu) = SmPdu::decode(octets) {
        let encoded = pdu.encode().expect("a decoded 5GSM message encodes");
        assert_eq!(SmPdu::decode(&encoded).as_ref(), Ok(&pdu), "5GSM round trip changed the message");
    }
}

fuzz_target!(|data: &[u8]| {
    session_round_trip(data);
    let plain = match NasPdu::decode(data) {
        Ok(NasPdu::Plain(message)) => Some(message),
        Ok(NasPdu::Protected(pdu)) => {
            assert_eq!(NasPdu::decode(&pdu.encode()), Ok(NasPdu::Protected(pdu.clone())));
            GmmMessage::decode(&pdu.payload).ok()
        }
        Err(_) => None,
    };
    if let Some(message) = plain {
        let octets = message.encode().expect("a decoded message encodes");
        assert_eq!(GmmMessage::decode(&octets).as_ref(), Ok(&message), "round trip changed the message");
        if let GmmMessage::UlNasTransport(t) | GmmMessage::DlNasTransport(t) = &message {
            session_round_trip(&t.payload);
        }
    }
});
