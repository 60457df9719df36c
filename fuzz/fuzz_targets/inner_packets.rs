//! What the UE emulator's inner endpoint does with untrusted inner packets: GRE decapsulation
//! never panics and round-trips what it accepts; the TCP/IP stack (listening, with a connection
//! opening) takes any packet and polls without panicking.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use fiveg_emu::inner::gre::{self, ProtocolType};
use fiveg_emu::inner::{InnerStack, StackConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((key, payload)) = gre::decapsulate(data) {
        let mut out = Vec::new();
        gre::encapsulate(key, ProtocolType::Zero, payload, &mut out);
        assert_eq!(gre::decapsulate(&out), Ok((key, payload)));
    }
    let base = Instant::now();
    let mut stack = InnerStack::new(StackConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), base);
    let _ = stack.listen(20000);
    let _ = stack.connect(SocketAddr::from(([10, 0, 0, 2], 20000)));
    stack.poll(base);
    let _ = stack.push_inbound(data);
    stack.poll(base + Duration::from_millis(1));
    while stack.poll_transmit().is_some() {}
    while stack.poll_event().is_some() {}
});
