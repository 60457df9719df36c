//! Traffic selector narrowing (RFC 7296 §2.9).

use std::net::IpAddr;

use crate::wire::{IpSelector, TrafficSelector};

/// Every non-empty intersection of a proposed selector with an allowed one, in proposal order.
pub(crate) fn narrow(proposed: &[TrafficSelector], allowed: &[IpSelector]) -> Vec<IpSelector> {
    let mut out = Vec::new();
    for p in proposed {
        let TrafficSelector::Ip(p) = p else { continue };
        for a in allowed {
            if let Some(i) = intersect(p, a).filter(|i| !out.contains(i)) {
                out.push(i);
            }
        }
    }
    out
}

/// Whether `inner` lies within one of `outer` (a responder must not widen what we proposed).
pub(crate) fn all_within(inner: &[IpSelector], outer: &[IpSelector]) -> bool {
    inner
        .iter()
        .all(|i| outer.iter().any(|o| intersect(i, o).as_ref() == Some(i)))
}

fn intersect(a: &IpSelector, b: &IpSelector) -> Option<IpSelector> {
    let ip_protocol = match (a.ip_protocol, b.ip_protocol) {
        (0, p) | (p, 0) => p,
        (p, q) if p == q => p,
        _ => return None,
    };
    let start_port = a.start_port.max(b.start_port);
    let end_port = a.end_port.min(b.end_port);
    if start_port > end_port {
        return None;
    }
    let start_addr = max_addr(a.start_addr, b.start_addr)?;
    let end_addr = min_addr(a.end_addr, b.end_addr)?;
    if key(start_addr)? > key(end_addr)? {
        return None;
    }
    Some(IpSelector {
        ip_protocol,
        start_port,
        end_port,
        start_addr,
        end_addr,
    })
}

/// Addresses as comparable integers; `None` across families.
fn key(a: IpAddr) -> Option<u128> {
    Some(match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    })
}

fn max_addr(a: IpAddr, b: IpAddr) -> Option<IpAddr> {
    same_family(a, b)?;
    Some(if key(a)? >= key(b)? { a } else { b })
}

fn min_addr(a: IpAddr, b: IpAddr) -> Option<IpAddr> {
    same_family(a, b)?;
    Some(if key(a)? <= key(b)? { a } else { b })
}

fn same_family(a: IpAddr, b: IpAddr) -> Option<()> {
    (a.is_ipv4() == b.is_ipv4()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(start: &str, end: &str, proto: u8, ports: (u16, u16)) -> IpSelector {
        IpSelector {
            ip_protocol: proto,
            start_port: ports.0,
            end_port: ports.1,
            start_addr: start.parse().expect("addr"),
            end_addr: end.parse().expect("addr"),
        }
    }

    #[test]
    fn narrows_to_the_intersection() {
        let proposed = [TrafficSelector::Ip(sel(
            "10.0.0.0",
            "10.0.255.255",
            0,
            (0, 65535),
        ))];
        let allowed = [sel("10.0.1.0", "10.0.1.255", 6, (443, 443))];
        assert_eq!(
            narrow(&proposed, &allowed),
            vec![sel("10.0.1.0", "10.0.1.255", 6, (443, 443))]
        );
    }

    #[test]
    fn disjoint_or_cross_family_gives_nothing() {
        let proposed = [TrafficSelector::Ip(sel(
            "10.0.0.0",
            "10.0.0.255",
            0,
            (0, 65535),
        ))];
        assert!(narrow(&proposed, &[sel("10.0.1.0", "10.0.1.255", 0, (0, 65535))]).is_empty());
        assert!(narrow(&proposed, &[sel("::", "ffff::", 0, (0, 65535))]).is_empty());
        assert!(narrow(&proposed, &[sel("10.0.0.0", "10.0.0.255", 17, (0, 65535))]).len() == 1);
    }

    #[test]
    fn within_detects_widening() {
        let ours = [sel("10.0.0.0", "10.0.0.255", 0, (0, 65535))];
        assert!(all_within(
            &[sel("10.0.0.1", "10.0.0.1", 0, (0, 65535))],
            &ours
        ));
        assert!(!all_within(
            &[sel("10.0.0.0", "10.0.1.255", 0, (0, 65535))],
            &ours
        ));
    }
}
