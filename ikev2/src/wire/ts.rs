//! Traffic Selector payload body (RFC 7296 §3.13, §3.13.1).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::MAX_ITEMS;
use super::enums::TsType;
use super::error::ParseError;
use super::reader::{LengthSlot, Reader, saturate_u8};
use super::types::{IpSelector, TrafficSelector};

/// TS Type, IP Protocol ID and Selector Length.
const SELECTOR_HEADER_LEN: usize = 4;
/// Selector Length of TS_IPV4_ADDR_RANGE: header, ports, two 4-octet addresses.
const IPV4_SELECTOR_LEN: usize = 16;
/// Selector Length of TS_IPV6_ADDR_RANGE: header, ports, two 16-octet addresses.
const IPV6_SELECTOR_LEN: usize = 40;

/// Number of TSs (1), RESERVED (3), then exactly that many selectors.
pub(super) fn parse_selectors(r: &mut Reader<'_>) -> Result<Vec<TrafficSelector>, ParseError> {
    let count = usize::from(r.u8("TS payload")?);
    r.skip(3, "TS payload")?;
    if count > MAX_ITEMS {
        return Err(ParseError::TooMany("traffic selectors"));
    }
    let mut selectors = Vec::with_capacity(count);
    for _ in 0..count {
        selectors.push(parse_selector(r)?);
    }
    match r.is_empty() {
        true => Ok(selectors),
        false => Err(ParseError::CountMismatch("number of TSs")),
    }
}

/// Appends the count and the selectors. The TS type of an address range follows the family of
/// `start_addr`; a range whose two addresses differ in family does not parse back.
pub(super) fn emit_selectors(selectors: &[TrafficSelector], out: &mut Vec<u8>) {
    out.extend_from_slice(&[saturate_u8(selectors.len()), 0, 0, 0]);
    for selector in selectors {
        let start = out.len();
        match selector {
            TrafficSelector::Ip(ip) => {
                let ts_type = match ip.start_addr {
                    IpAddr::V4(_) => TsType::IPV4_ADDR_RANGE,
                    IpAddr::V6(_) => TsType::IPV6_ADDR_RANGE,
                };
                out.extend_from_slice(&[ts_type.0, ip.ip_protocol]);
                let length = LengthSlot::reserve(out, start);
                out.extend_from_slice(&ip.start_port.to_be_bytes());
                out.extend_from_slice(&ip.end_port.to_be_bytes());
                emit_addr(ip.start_addr, out);
                emit_addr(ip.end_addr, out);
                length.fill(out);
            }
            TrafficSelector::Unknown {
                ts_type,
                ip_protocol,
                body,
            } => {
                out.extend_from_slice(&[ts_type.0, *ip_protocol]);
                let length = LengthSlot::reserve(out, start);
                out.extend_from_slice(body);
                length.fill(out);
            }
        }
    }
}

/// One selector (RFC 7296 §3.13.1); an unknown type keeps its body after the Selector Length.
fn parse_selector(r: &mut Reader<'_>) -> Result<TrafficSelector, ParseError> {
    const WHAT: &str = "traffic selector";
    let ts_type = TsType(r.u8(WHAT)?);
    let ip_protocol = r.u8(WHAT)?;
    let length = usize::from(r.u16(WHAT)?);
    let body_len = length
        .checked_sub(SELECTOR_HEADER_LEN)
        .ok_or(ParseError::BadLength(WHAT))?;
    let mut body = r.sub(body_len, WHAT)?;
    let expected = match ts_type {
        TsType::IPV4_ADDR_RANGE => IPV4_SELECTOR_LEN,
        TsType::IPV6_ADDR_RANGE => IPV6_SELECTOR_LEN,
        _ => {
            return Ok(TrafficSelector::Unknown {
                ts_type,
                ip_protocol,
                body: body.rest().to_vec(),
            });
        }
    };
    if length != expected {
        return Err(ParseError::BadLength(WHAT));
    }
    let start_port = body.u16(WHAT)?;
    let end_port = body.u16(WHAT)?;
    let (start_addr, end_addr) = match ts_type {
        TsType::IPV4_ADDR_RANGE => (
            IpAddr::V4(Ipv4Addr::from(body.array::<4>(WHAT)?)),
            IpAddr::V4(Ipv4Addr::from(body.array::<4>(WHAT)?)),
        ),
        _ => (
            IpAddr::V6(Ipv6Addr::from(body.array::<16>(WHAT)?)),
            IpAddr::V6(Ipv6Addr::from(body.array::<16>(WHAT)?)),
        ),
    };
    body.finish(WHAT)?;
    Ok(TrafficSelector::Ip(IpSelector {
        ip_protocol,
        start_port,
        end_port,
        start_addr,
        end_addr,
    }))
}

fn emit_addr(addr: IpAddr, out: &mut Vec<u8>) {
    match addr {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::enums::PayloadType;
    use crate::wire::parse_payloads;
    use crate::wire::tests::assert_codec;
    use crate::wire::types::Payload;

    /// RFC 7296 §3.13 and §3.13.1, Figures 19 and 20 (Traffic Selectors Payload, Traffic
    /// Selector): TSi with one IPv4 range for TCP port 443, TSr with an IPv6 range for all
    /// protocols and ports, and an unknown selector type.
    #[test]
    fn ts_matches_figures_19_20() {
        let mut bytes = vec![
            0x2d, 0x00, 0x00, 0x18, // TSr follows, length 24
            0x01, 0x00, 0x00, 0x00, // 1 TS
            0x07, 0x06, 0x00, 0x10, // IPv4 range, TCP, length 16
            0x01, 0xbb, 0x01, 0xbb, // ports 443-443
            0xc0, 0x00, 0x02, 0x00, 0xc0, 0x00, 0x02, 0xff, // 192.0.2.0-192.0.2.255
            0x00, 0x00, 0x00, 0x36, // last, length 54
            0x02, 0x00, 0x00, 0x00, // 2 TSs
            0x08, 0x00, 0x00, 0x28, // IPv6 range, any protocol, length 40
            0x00, 0x00, 0xff, 0xff, // ports 0-65535
        ];
        bytes.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        bytes.extend_from_slice(&[0x00; 12]);
        bytes.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        bytes.extend_from_slice(&[0xff; 12]);
        bytes.extend_from_slice(&[0x0d, 0x11, 0x00, 0x06, 0xab, 0xcd]); // type 13, UDP, 2 octets
        let v6_start: Ipv6Addr = "2001:db8::".parse().expect("literal");
        let v6_end: Ipv6Addr = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
            .parse()
            .expect("literal");
        let payloads = [
            Payload::TsI(vec![TrafficSelector::Ip(IpSelector {
                ip_protocol: 6,
                start_port: 443,
                end_port: 443,
                start_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)),
                end_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 255)),
            })]),
            Payload::TsR(vec![
                TrafficSelector::Ip(IpSelector {
                    ip_protocol: 0,
                    start_port: 0,
                    end_port: 0xffff,
                    start_addr: IpAddr::V6(v6_start),
                    end_addr: IpAddr::V6(v6_end),
                }),
                TrafficSelector::Unknown {
                    ts_type: TsType(13),
                    ip_protocol: 17,
                    body: vec![0xab, 0xcd],
                },
            ]),
        ];
        assert_codec(PayloadType::TSI, &bytes, &payloads);
    }

    fn parse_tsi(bytes: &[u8]) -> Result<Vec<Payload>, ParseError> {
        parse_payloads(PayloadType::TSI, bytes)
    }

    const IPV4_TS: [u8; 24] = [
        0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x10, 0x00, 0x00, 0xff,
        0xff, 0x0a, 0x00, 0x00, 0x00, 0x0a, 0xff, 0xff, 0xff,
    ];

    #[test]
    fn ts_count_must_match() {
        assert!(parse_tsi(&IPV4_TS).is_ok());
        let mut more = IPV4_TS;
        more[4] = 2;
        assert_eq!(
            parse_tsi(&more),
            Err(ParseError::Truncated("traffic selector"))
        );
        let mut fewer = IPV4_TS;
        fewer[4] = 0;
        assert_eq!(
            parse_tsi(&fewer),
            Err(ParseError::CountMismatch("number of TSs"))
        );
        let mut many = IPV4_TS;
        many[4] = 65;
        assert_eq!(
            parse_tsi(&many),
            Err(ParseError::TooMany("traffic selectors"))
        );
    }

    #[test]
    fn ts_address_range_length_is_fixed() {
        let mut v6_claims_v4_length = IPV4_TS;
        v6_claims_v4_length[8] = 0x08;
        assert_eq!(
            parse_tsi(&v6_claims_v4_length),
            Err(ParseError::BadLength("traffic selector"))
        );
        let mut short = IPV4_TS;
        short[11] = 0x03;
        assert_eq!(
            parse_tsi(&short),
            Err(ParseError::BadLength("traffic selector"))
        );
        let mut long = IPV4_TS;
        long[11] = 0x11;
        assert_eq!(
            parse_tsi(&long),
            Err(ParseError::BadLength("traffic selector"))
        );
    }

    #[test]
    fn ts_with_zero_selectors_round_trips() {
        assert_codec(
            PayloadType::TSR,
            &[0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00],
            &[Payload::TsR(Vec::new())],
        );
    }
}
