//! Notification Data of the 3GPP private notifies 55501-55507 (the first octet picks the type):
//! parse; if accepted, emit and parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::notify_round_trip(data));
