//! The N3IWF core fed a script of inputs: arbitrary NGAP, EAP and NAS TCP octets mixed with
//! well-formed messages, against a node with an AMF and UEs. It must never panic, keep its
//! bounds and answer each EAP packet at most once (checked in `n3iwf::node::fuzzing`).
#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;

/// One start for every run, so that runs are reproducible from their input.
static START: OnceLock<Instant> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let start = *START.get_or_init(Instant::now);
    n3iwf::node::fuzzing::drive(data, start);
});
