//! Parsers for the values inside the file: durations, identities, traffic selectors and secrets.
//! Each returns the reason as text; the loader adds the file, line and field.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine as _;
use ikev2::Identity;
use ikev2::wire::IpSelector;
use ipsec_crypto::SecretBytes;

use super::raw::Amount;

/// Parses `30s`, `5m`, `4h`, `1d`, `250ms` or a bare number of seconds.
pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| format!("'{s}' is not a duration (e.g. 30s, 5m, 4h, 1d)"))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{s}' (use ms, s, m, h or d)"
            ));
        }
    };
    secs.map(Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is too long"))
}

/// Parses an identity as strongSwan does: an IP address is ID_IPV4_ADDR/ID_IPV6_ADDR, `@name`
/// is ID_FQDN, `user@host` is ID_RFC822_ADDR, and any other name is ID_FQDN. Distinguished
/// names need certificates and are refused.
pub(crate) fn identity(s: &str) -> Result<Identity, String> {
    if s.is_empty() {
        return Err("empty identity".into());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Identity::ip(ip));
    }
    if let Some(name) = s.strip_prefix('@') {
        if name.is_empty() {
            return Err("empty FQDN after '@'".into());
        }
        return Ok(Identity::fqdn(name));
    }
    if s.contains('=') {
        return Err(format!(
            "'{s}' looks like a distinguished name; only our own id with auth = \"pubkey\" may be one (omit it to use the certificate subject)"
        ));
    }
    if s.contains('@') {
        return Ok(Identity::email(s));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("'{s}' contains whitespace"));
    }
    Ok(Identity::fqdn(s))
}

/// Parses a traffic selector: `10.1.0.0/16`, `10.1.0.5`, `10.1.0.1-10.1.0.9` or `::/0`,
/// optionally followed by `[protocol/port]` as in `10.1.0.0/16[tcp/443]`, `[udp/1000-2000]`
/// or `[icmp]`.
pub(crate) fn traffic_selector(s: &str) -> Result<IpSelector, String> {
    let (addr, proto_port) = match s.split_once('[') {
        Some((a, rest)) => {
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("'{s}': missing ']'"))?;
            (a.trim(), Some(inner))
        }
        None => (s.trim(), None),
    };
    let (start_addr, end_addr) = address_range(addr)?;
    let (ip_protocol, start_port, end_port) = match proto_port {
        Some(pp) => protocol_ports(pp)?,
        None => (0, 0, 0xffff),
    };
    Ok(IpSelector {
        ip_protocol,
        start_port,
        end_port,
        start_addr,
        end_addr,
    })
}

/// Writes a selector back in the syntax [`traffic_selector`] accepts.
pub fn format_selector(ts: &IpSelector) -> String {
    let mut out = match prefix_len(ts.start_addr, ts.end_addr) {
        Some(_) if ts.start_addr == ts.end_addr => ts.start_addr.to_string(),
        Some(len) => format!("{}/{len}", ts.start_addr),
        None => format!("{}-{}", ts.start_addr, ts.end_addr),
    };
    let all_ports = ts.start_port == 0 && ts.end_port == 0xffff;
    if ts.ip_protocol != 0 || !all_ports {
        out.push('[');
        out.push_str(&protocol_name(ts.ip_protocol));
        if !all_ports {
            out.push('/');
            let _ = write!(out, "{}", ts.start_port);
            if ts.end_port != ts.start_port {
                let _ = write!(out, "-{}", ts.end_port);
            }
        }
        out.push(']');
    }
    out
}

/// Decodes a secret: `0x` + hex, `0s` + base64, or the text itself.
pub(crate) fn secret(s: &str) -> Result<SecretBytes, String> {
    let bytes = if let Some(h) = s.strip_prefix("0x") {
        hex::decode(h.trim()).map_err(|_| "invalid hex after '0x'".to_string())?
    } else if let Some(b) = s.strip_prefix("0s") {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|_| "invalid base64 after '0s'".to_string())?
    } else {
        s.as_bytes().to_vec()
    };
    if bytes.is_empty() {
        return Err("empty secret".into());
    }
    Ok(SecretBytes::new(bytes))
}

/// Parses a byte or packet count: a number, or text such as `500M` (K, M, G, T: powers of
/// 1024).
pub(crate) fn amount(a: &Amount) -> Result<u64, String> {
    let s = match a {
        Amount::Number(n) => return Ok(*n),
        Amount::Text(s) => s.trim(),
    };
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| format!("'{s}' is not a count (e.g. 1000000, 500M, 4G)"))?;
    let shift = match unit {
        "" => 0,
        "K" | "k" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown unit '{unit}' in '{s}' (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// Splits `500M` into 500 and `M`; `None` without leading digits.
fn number_and_unit(s: &str) -> Option<(u64, &str)> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    Some((digits.parse().ok()?, unit))
}

/// Parses `address/prefix`. With `host_bits` the address may lie inside the network (an
/// interface address such as `10.1.0.1/24`); without, it must be the network itself.
pub(crate) fn prefix(s: &str, host_bits: bool) -> Result<(IpAddr, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' is not ADDRESS/PREFIX (e.g. 10.1.0.0/16)"))?;
    let addr = ip(a)?;
    let len: u8 = l
        .trim()
        .parse()
        .map_err(|_| format!("'{l}' is not a prefix length"))?;
    if host_bits {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if len > bits {
            return Err(format!("prefix length /{len} is too long for {addr}"));
        }
        return Ok((addr, len));
    }
    address_range(s)?;
    Ok((addr, len))
}

fn address_range(s: &str) -> Result<(IpAddr, IpAddr), String> {
    if let Some((a, b)) = s.split_once('-') {
        let start = ip(a)?;
        let end = ip(b)?;
        if start.is_ipv4() != end.is_ipv4() {
            return Err(format!("'{s}' mixes IPv4 and IPv6"));
        }
        if key(start) > key(end) {
            return Err(format!("'{s}': range start is above its end"));
        }
        return Ok((start, end));
    }
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (
            ip(a)?,
            Some(
                l.parse::<u8>()
                    .map_err(|_| format!("'{l}' is not a prefix length"))?,
            ),
        ),
        None => (ip(s)?, None),
    };
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(bits);
    if len > bits {
        return Err(format!("prefix length /{len} is too long for {addr}"));
    }
    let host_mask = low_mask(u32::from(bits - len));
    let start = key(addr) & !host_mask;
    if start != key(addr) {
        return Err(format!(
            "'{s}' has host bits set (did you mean {}/{len}?)",
            from_key(start, addr.is_ipv4())
        ));
    }
    Ok((
        from_key(start, addr.is_ipv4()),
        from_key(start | host_mask, addr.is_ipv4()),
    ))
}

fn ip(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("'{}' is not an IP address", s.trim()))
}

fn protocol_ports(s: &str) -> Result<(u8, u16, u16), String> {
    let (proto, ports) = match s.split_once('/') {
        Some((p, q)) => (p.trim(), Some(q.trim())),
        None => (s.trim(), None),
    };
    let protocol = match proto {
        "" | "%any" | "any" => 0,
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        n => n.parse().map_err(|_| {
            format!("unknown protocol '{n}' (use tcp, udp, icmp, icmpv6, sctp or a number)")
        })?,
    };
    let (start, end) = match ports {
        None | Some("" | "%any" | "any") => (0, 0xffff),
        Some(p) => {
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let port = |x: &str| {
                x.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("'{x}' is not a port"))
            };
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!("port range '{p}' is reversed"));
            }
            (a, b)
        }
    };
    Ok((protocol, start, end))
}

fn protocol_name(p: u8) -> String {
    match p {
        0 => String::new(),
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        n => n.to_string(),
    }
}

/// The prefix length if `start..=end` is exactly one CIDR block.
fn prefix_len(start: IpAddr, end: IpAddr) -> Option<u8> {
    if start.is_ipv4() != end.is_ipv4() {
        return None;
    }
    let bits: u32 = if start.is_ipv4() { 32 } else { 128 };
    let span = key(start) ^ key(end);
    let host_bits = 128 - span.leading_zeros();
    let mask = low_mask(host_bits);
    let aligned = key(start) & mask == 0 && key(end) & mask == mask;
    let len = bits.checked_sub(host_bits)?;
    aligned.then(|| u8::try_from(len).ok()).flatten()
}

/// The lowest `bits` bits set (`bits` <= 128).
fn low_mask(bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - bits).unwrap_or(0)
}

fn key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_key(k: u128, v4: bool) -> IpAddr {
    if v4 {
        // The key of an IPv4 address fits in 32 bits by construction.
        IpAddr::V4(Ipv4Addr::from(u32::try_from(k & 0xffff_ffff).unwrap_or(0)))
    } else {
        IpAddr::V6(Ipv6Addr::from(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(
            duration("5 parsecs").expect_err("invalid"),
            "unknown unit ' parsecs' in '5 parsecs' (use ms, s, m, h or d)"
        );
        assert_eq!(
            duration("soon").expect_err("invalid"),
            "'soon' is not a duration (e.g. 30s, 5m, 4h, 1d)"
        );
    }

    #[test]
    fn selectors_round_trip() {
        for s in [
            "10.1.0.0/16",
            "10.1.0.5",
            "0.0.0.0/0",
            "::/0",
            "2001:db8::/32",
            "10.0.0.1-10.0.0.9",
            "10.1.0.0/16[tcp/443]",
            "10.1.0.0/24[udp/1000-2000]",
            "10.0.0.0/8[icmp]",
            "fd00::1[47]",
        ] {
            let ts = traffic_selector(s).expect(s);
            assert_eq!(format_selector(&ts), s);
        }
    }

    #[test]
    fn selector_errors() {
        assert_eq!(
            traffic_selector("10.1.0.1/16").expect_err("invalid"),
            "'10.1.0.1/16' has host bits set (did you mean 10.1.0.0/16?)"
        );
        assert_eq!(
            traffic_selector("10.1.0.0/33").expect_err("invalid"),
            "prefix length /33 is too long for 10.1.0.0"
        );
        assert_eq!(
            traffic_selector("10.0.0.9-10.0.0.1").expect_err("invalid"),
            "'10.0.0.9-10.0.0.1': range start is above its end"
        );
        assert_eq!(
            traffic_selector("10.0.0.0/8[gre]").expect_err("invalid"),
            "unknown protocol 'gre' (use tcp, udp, icmp, icmpv6, sctp or a number)"
        );
        assert_eq!(
            traffic_selector("net-a").expect_err("invalid"),
            "'net' is not an IP address"
        );
    }

    #[test]
    fn identities_follow_strongswan() {
        use ikev2::wire::IdType;
        assert_eq!(
            identity("192.0.2.1").expect("ip").0.id_type,
            IdType::IPV4_ADDR
        );
        assert_eq!(
            identity("@vpn.example").expect("fqdn"),
            Identity::fqdn("vpn.example")
        );
        assert_eq!(
            identity("vpn.example").expect("fqdn"),
            Identity::fqdn("vpn.example")
        );
        assert_eq!(
            identity("alice@example.org").expect("email"),
            Identity::email("alice@example.org")
        );
        assert!(identity("CN=vpn, O=Example").is_err());
    }

    #[test]
    fn amounts_and_prefixes() {
        assert_eq!(amount(&Amount::Number(42)), Ok(42));
        assert_eq!(amount(&Amount::Text("500M".into())), Ok(500 << 20));
        assert_eq!(amount(&Amount::Text("4G".into())), Ok(4 << 30));
        assert_eq!(
            amount(&Amount::Text("12 bananas".into())).expect_err("invalid"),
            "unknown unit ' bananas' in '12 bananas' (use K, M, G or T)"
        );
        assert_eq!(
            prefix("10.1.0.1/24", true),
            Ok(("10.1.0.1".parse().expect("ip"), 24))
        );
        assert_eq!(
            prefix("10.1.0.1/24", false).expect_err("host bits"),
            "'10.1.0.1/24' has host bits set (did you mean 10.1.0.0/24?)"
        );
        assert_eq!(
            prefix("10.2.0.0/16", false),
            Ok(("10.2.0.0".parse().expect("ip"), 16))
        );
        assert_eq!(
            prefix("10.2.0.0", false).expect_err("no prefix"),
            "'10.2.0.0' is not ADDRESS/PREFIX (e.g. 10.1.0.0/16)"
        );
    }

    #[test]
    fn secrets_decode() {
        assert_eq!(secret("0x0102ff").expect("hex").expose(), &[1, 2, 0xff]);
        assert_eq!(secret("0sAQL/").expect("b64").expose(), &[1, 2, 0xff]);
        assert_eq!(secret("plain text").expect("text").expose(), b"plain text");
        assert_eq!(secret("0xzz").err(), Some("invalid hex after '0x'".into()));
    }
}
