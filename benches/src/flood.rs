//! Pieces of the `ike_flood` generator: arguments, spoofed-source address pools, UDP-in-IP
//! packets for raw sockets, and the one-line JSON report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ikev2::{ChildConfig, ConnectionConfig, Identity, Lifetime, ProposalSpec};

use crate::selector;

/// The flood's initiator connection: PSK, one Child SA, no rekeying. With `big_id` its
/// identity is 30 000 octets, so IKE_AUTH goes out in about 27 fragments of 1200 octets.
///
/// # Panics
/// On a proposal the engine cannot parse.
pub fn initiator_connection(a: &Args, big_id: bool) -> ConnectionConfig {
    let ike = ProposalSpec::parse_ike(&a.proposal).expect("--proposal");
    let id = if big_id {
        "f".repeat(30_000)
    } else {
        "flood.example".into()
    };
    let mut c = ConnectionConfig::new("flood", Identity::fqdn(&id), a.psk.as_bytes(), vec![ike]);
    c.ike_lifetime = Lifetime::NONE;
    c.fragment_size = Some(1200);
    let mut child = ChildConfig::new(
        "net",
        vec![ProposalSpec::parse_esp("aes256gcm16").expect("literal")],
        vec![selector("10.1.0.0", "10.1.255.255")],
        vec![selector("10.2.0.0", "10.2.255.255")],
    );
    child.lifetime = Lifetime::NONE;
    c.children.push(child);
    c
}

/// Whether `ike` (without any marker) is the last fragment of an IKE_AUTH request: the one
/// the `frag` flood holds back so the message never completes.
pub fn is_last_auth_fragment(ike: &[u8]) -> bool {
    const IKE_AUTH: u8 = 35;
    const SKF: u8 = 53;
    const RESPONSE: u8 = 0x20;
    let (Some(&next), Some(&exchange), Some(&flags)) = (ike.get(16), ike.get(18), ike.get(19))
    else {
        return false;
    };
    let (Some(number), Some(total)) = (ike.get(32..34), ike.get(34..36)) else {
        return false;
    };
    next == SKF && exchange == IKE_AUTH && flags & RESPONSE == 0 && number == total
}

/// What to flood with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// IKE_SA_INIT requests from spoofed sources (raw sockets); on port 4500 with the non-ESP
    /// marker.
    Spoof,
    /// Real initiators from `--local` addresses that complete IKE_SA_INIT and then send every
    /// fragment of a large IKE_AUTH request but the last, so the responder holds partial
    /// messages until they time out.
    Frag,
}

/// Command-line arguments of `ike_flood`.
#[derive(Debug)]
pub struct Args {
    pub mode: Mode,
    pub target: SocketAddr,
    /// Spoofed sources: every address of this prefix.
    pub sources: Option<(IpAddr, u8)>,
    /// Real sources for `frag`.
    pub locals: Vec<IpAddr>,
    /// Most datagrams (`spoof`) or initiators (`frag`).
    pub count: usize,
    pub duration: Duration,
    /// Datagrams (or initiators) per second; 0 sends as fast as possible.
    pub rate: u64,
    /// `frag`: initiators in flight at once.
    pub concurrency: usize,
    pub proposal: String,
    pub psk: String,
    pub label: String,
}

impl Args {
    pub const USAGE: &'static str = "usage: ike_flood --mode spoof|frag --target IP:PORT \
[--sources PREFIX/LEN] [--local IP ...] [--count N] [--duration SECS] [--rate PER_S] \
[--concurrency N] [--proposal P] [--psk TEXT] [--label NAME]";

    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    /// A message naming the bad or missing argument.
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut a = Self {
            mode: Mode::Spoof,
            target: SocketAddr::from(([0, 0, 0, 0], 500)),
            sources: None,
            locals: Vec::new(),
            count: 100_000,
            duration: Duration::from_secs(10),
            rate: 0,
            concurrency: 32,
            proposal: "aes256gcm16-prfsha384-x25519-ke1_mlkem768".into(),
            psk: "pqb load test pre-shared key 0123456789".into(),
            label: "flood".into(),
        };
        let mut target = false;
        while let Some(flag) = it.next() {
            let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let bad = || format!("{flag}: bad value {v:?}");
            match flag.as_str() {
                "--mode" => {
                    a.mode = match v.as_str() {
                        "spoof" => Mode::Spoof,
                        "frag" => Mode::Frag,
                        _ => return Err(bad()),
                    }
                }
                "--target" => {
                    a.target = v.parse().map_err(|_| bad())?;
                    target = true;
                }
                "--sources" => a.sources = Some(parse_prefix(&v).ok_or_else(bad)?),
                "--local" => a.locals.push(v.parse().map_err(|_| bad())?),
                "--count" => a.count = v.parse().map_err(|_| bad())?,
                "--duration" => a.duration = Duration::from_secs_f64(v.parse().map_err(|_| bad())?),
                "--rate" => a.rate = v.parse().map_err(|_| bad())?,
                "--concurrency" => a.concurrency = v.parse().map_err(|_| bad())?,
                "--proposal" => a.proposal = v,
                "--psk" => a.psk = v,
                "--label" => a.label = v,
                _ => return Err(format!("unknown argument {flag}")),
            }
        }
        a.check(target)?;
        Ok(a)
    }

    fn check(&self, target: bool) -> Result<(), String> {
        if !target {
            return Err("--target is required".into());
        }
        match self.mode {
            Mode::Spoof => match self.sources {
                Some((ip, _)) if ip.is_ipv4() == self.target.is_ipv4() => Ok(()),
                Some(_) => Err("--sources and --target must be of one address family".into()),
                None => Err("--mode spoof needs --sources".into()),
            },
            Mode::Frag if self.locals.is_empty() || self.concurrency == 0 => {
                Err("--mode frag needs --local and a --concurrency above 0".into())
            }
            Mode::Frag => Ok(()),
        }
    }
}

/// `ADDRESS/LEN` with the length within the family.
fn parse_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.split_once('/')?;
    let ip: IpAddr = a.parse().ok()?;
    let len: u8 = l.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

/// A small, fast PRNG for addresses and SPIs (not for keys).
#[derive(Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from `seed` (a zero seed is replaced: xorshift would stay at zero).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A random address within `prefix`.
pub fn random_in(prefix: (IpAddr, u8), rng: &mut XorShift) -> IpAddr {
    match prefix.0 {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(prefix.1)).unwrap_or(0);
            let r = rng.next_u64() as u32;
            IpAddr::V4(Ipv4Addr::from((u32::from(a) & !host) | (r & host)))
        }
        IpAddr::V6(a) => {
            let host = u128::MAX.checked_shr(u32::from(prefix.1)).unwrap_or(0);
            let r = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            IpAddr::V6(Ipv6Addr::from((u128::from(a) & !host) | (r & host)))
        }
    }
}

/// A UDP datagram from `src` to `dst` with its IP header, for a raw IP socket. The IPv4 header
/// checksum and total length are left to the kernel; the UDP checksum is computed (IPv6
/// requires it).
pub fn udp_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(8 + payload.len()).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut out = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4_header(s, d, udp_len),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6_header(s, d, udp_len),
        _ => return None,
    };
    let sum = udp_checksum(src.ip(), dst.ip(), &udp);
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&udp);
    Some(out)
}

fn ipv4_header(s: Ipv4Addr, d: Ipv4Addr, udp_len: u16) -> Vec<u8> {
    let total = (20 + udp_len).to_be_bytes();
    let mut h = vec![0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, 17, 0, 0];
    h.extend_from_slice(&s.octets());
    h.extend_from_slice(&d.octets());
    h
}

fn ipv6_header(s: Ipv6Addr, d: Ipv6Addr, udp_len: u16) -> Vec<u8> {
    let len = udp_len.to_be_bytes();
    let mut h = vec![0x60, 0, 0, 0, len[0], len[1], 17, 64];
    h.extend_from_slice(&s.octets());
    h.extend_from_slice(&d.octets());
    h
}

/// The UDP checksum over the pseudo-header and `udp` (checksum field zero); 0 becomes 0xffff.
fn udp_checksum(src: IpAddr, dst: IpAddr, udp: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        _ => {}
    }
    add(&[0, 17]);
    add(&u32::try_from(udp.len()).unwrap_or(0).to_be_bytes());
    add(udp);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    match !(sum as u16) {
        0 => 0xffff,
        s => s,
    }
}

/// The result of one `ike_flood` run.
#[derive(Debug, Default)]
pub struct Report {
    pub label: String,
    pub mode: String,
    pub family: String,
    pub target: String,
    /// Datagrams handed to the kernel.
    pub sent: u64,
    /// Sends the kernel refused (a full queue).
    pub send_errors: u64,
    /// `frag`: initiators started, and those whose IKE_AUTH fragments (all but the last) went
    /// out.
    pub initiators: u64,
    pub held: u64,
    pub seconds: f64,
}

impl Report {
    /// One line of JSON.
    pub fn to_json(&self) -> String {
        let rate = if self.seconds > 0.0 {
            self.sent as f64 / self.seconds
        } else {
            0.0
        };
        format!(
            "{{\"bench\":\"ike_flood\",\"label\":\"{}\",\"mode\":\"{}\",\"family\":\"{}\",\
\"target\":\"{}\",\"sent\":{},\"send_errors\":{},\"initiators\":{},\"held\":{},\
\"seconds\":{:.3},\"rate_pps\":{:.0}}}",
            self.label,
            self.mode,
            self.family,
            self.target,
            self.sent,
            self.send_errors,
            self.initiators,
            self.held,
            self.seconds,
            rate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_udp_checksum_of_a_known_datagram() {
        let src: SocketAddr = "192.0.2.1:500".parse().expect("addr");
        let dst: SocketAddr = "192.0.2.2:500".parse().expect("addr");
        let p = udp_packet(src, dst, b"abcd").expect("packet");
        assert_eq!(p.len(), 20 + 8 + 4);
        let mut check = 0u64;
        // Summing the pseudo-header and the datagram with its checksum gives 0xffff.
        for c in [
            &[192u8, 0, 2, 1][..],
            &[192, 0, 2, 2],
            &[0, 17],
            &[0, 12],
            &p[20..],
        ] {
            for w in c.chunks(2) {
                check += u64::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
            }
        }
        while check >> 16 != 0 {
            check = (check & 0xffff) + (check >> 16);
        }
        assert_eq!(check, 0xffff);
    }

    #[test]
    fn random_addresses_stay_in_their_prefix() {
        let mut rng = XorShift::new(7);
        let v6 = parse_prefix("2001:db8:f00d::/48").expect("prefix");
        let v4 = parse_prefix("198.18.0.0/15").expect("prefix");
        for _ in 0..100 {
            let IpAddr::V6(a) = random_in(v6, &mut rng) else {
                panic!("v6")
            };
            assert_eq!(a.segments()[..3], [0x2001, 0xdb8, 0xf00d]);
            let IpAddr::V4(b) = random_in(v4, &mut rng) else {
                panic!("v4")
            };
            assert_eq!(b.octets()[0], 198);
            assert!(b.octets()[1] == 18 || b.octets()[1] == 19);
        }
    }
}
