//! The NAS-5GS decoder of the 5G emulators (fiveg-emu): any octets give a PDU or an error, never
//! a panic; an accepted plain message, or the payload of a protected one read as a plain message,
//! encodes and decodes back to the same value.
#![no_main]

use fiveg_emu::nas::{GmmMessage, NasPdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
    }
});
