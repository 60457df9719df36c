//! The N3IWF user plane in the dataplane workers: arbitrary octets as the decrypted inner packet
//! of a user-plane Child SA (uplink GRE → G-PDU) and as the T-PDU of a downlink G-PDU (→ inner
//! IP/GRE, whole and fragmented) never panic, and every packet built is well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dataplane::fuzzing::user_plane(data);
});
