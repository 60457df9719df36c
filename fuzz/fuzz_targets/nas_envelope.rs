//! A NAS-over-TCP byte stream pushed in pieces into the envelope reader with small bounds: the
//! messages it returns, framed again, are exactly the stream it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ikev2_fuzz::n3iwf::nas_envelope_round_trip(data));
