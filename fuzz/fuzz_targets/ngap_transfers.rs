//! The OCTET STRING of a PDU session item on N2: decode as a PDU Session Resource Setup Request
//! Transfer and as a Setup Response Transfer; whatever decodes must encode and decode the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::ngap_transfers_round_trip(data));
