//! Every sample encodes, and decodes back to itself without a report.

use n3iwf::ngap::NgapMessage;

use crate::samples;

#[test]
fn every_message_round_trips() {
    for (name, message) in samples::all() {
        let octets = message.encode().unwrap_or_else(|e| panic!("{name}: {e}"));
        let decoded = NgapMessage::decode(&octets).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.report, None, "{name}");
        assert_eq!(decoded.message, message, "{name}");
    }
}
