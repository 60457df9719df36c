//! The traffic selectors a Child SA was negotiated with, as the ESP datapath's selector pairs.

use esp::{AddrRange, PortRange, TrafficSelector};
use ikev2::wire::IpSelector;

/// Every (local, remote) pair of one address family whose protocols agree, as
/// [`TrafficSelector`]s. A pair whose protocols differ (neither is "any") matches nothing and
/// is left out; so are ranges that do not parse (start after end, families mixed).
pub fn selector_pairs(local: &[IpSelector], remote: &[IpSelector]) -> Vec<TrafficSelector> {
    local
        .iter()
        .flat_map(|l| remote.iter().filter_map(move |r| pair(l, r)))
        .collect()
}

fn pair(local: &IpSelector, remote: &IpSelector) -> Option<TrafficSelector> {
    let protocol = match (local.ip_protocol, remote.ip_protocol) {
        (0, 0) => None,
        (0, p) | (p, 0) => Some(p),
        (a, b) if a == b => Some(a),
        _ => return None,
    };
    let mut ts = TrafficSelector::new(
        AddrRange::new(local.start_addr, local.end_addr)?,
        AddrRange::new(remote.start_addr, remote.end_addr)?,
    );
    if local.start_addr.is_ipv4() != remote.start_addr.is_ipv4() {
        return None;
    }
    ts.protocol = protocol;
    ts.local_ports = PortRange {
        start: local.start_port,
        end: local.end_port,
    };
    ts.remote_ports = PortRange {
        start: remote.start_port,
        end: remote.end_port,
    };
    Some(ts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(protocol: u8, start: &str, end: &str, ports: (u16, u16)) -> IpSelector {
        IpSelector {
            ip_protocol: protocol,
            start_port: ports.0,
            end_port: ports.1,
            start_addr: start.parse().unwrap(),
            end_addr: end.parse().unwrap(),
        }
    }

    #[test]
    fn pairs_keep_one_family_and_agreeing_protocols() {
        let local = [
            ts(0, "10.0.0.2", "10.0.0.2", (0, 65535)),
            ts(0, "2001:db8::2", "2001:db8::2", (0, 65535)),
        ];
        let remote = [
            ts(6, "10.0.0.1", "10.0.0.1", (20000, 20000)),
            ts(17, "2001:db8::1", "2001:db8::1", (0, 65535)),
        ];
        let pairs = selector_pairs(&local, &remote);
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        assert_eq!(pairs[0].protocol, Some(6));
        assert_eq!(pairs[0].remote_ports, PortRange::single(20000));
        assert_eq!(pairs[1].protocol, Some(17));
        let clash = selector_pairs(
            &[ts(6, "10.0.0.2", "10.0.0.2", (0, 65535))],
            &[ts(17, "10.0.0.1", "10.0.0.1", (0, 65535))],
        );
        assert!(clash.is_empty());
    }
}
