//! What the usrsctp tests share: starting the stack, or skipping loudly without the library.

#![allow(dead_code, clippy::unwrap_used)]

use n2_transport::{AssociationConfig, LowerLayer, N2Error, UserspaceSctp};

/// usrsctp over UDP from `local_port` (0: any) to the peer's `remote_port`; `None` (after a
/// SKIPPED line) when `libusrsctp.so.2` is missing and `N2_REQUIRE_USRSCTP` is not set.
pub(crate) fn udp_transport(
    local_port: u16,
    remote_port: u16,
    config: AssociationConfig,
) -> Option<UserspaceSctp> {
    let lower = LowerLayer::Udp {
        local_port,
        remote_port,
    };
    match UserspaceSctp::start(lower, config) {
        Ok(t) => Some(t),
        Err(e @ N2Error::UsrsctpUnavailable(_)) => {
            assert!(
                std::env::var_os("N2_REQUIRE_USRSCTP").is_none(),
                "N2_REQUIRE_USRSCTP is set: {e}"
            );
            println!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// A transport whose client side sends to this process's own UDP port, so that both ends of
/// an association run on this process's stack.
pub(crate) fn looped_transport(config: AssociationConfig) -> Option<UserspaceSctp> {
    let port = udp_transport(0, 0, config)?.local_udp_port();
    Some(udp_transport(port, port, config).unwrap())
}
