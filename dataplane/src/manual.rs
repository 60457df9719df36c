//! Manually keyed SAs from a TOML file: the IKE-less case of RFC 9061 §5.2, where a controller
//! (or a person) hands both gateways the SPIs, algorithm and keys. It makes the datapath usable
//! and testable without an IKE daemon.
//!
//! Errors name the file, the line and the field. Keys are read into [`SecretBytes`] and the text
//! they came from is wiped; nothing here prints a key. See `dataplane/examples/esp-tunnel.toml`
//! for an annotated file.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};

use esp::{AddrRange, Cipher, Lifetime, PortRange, SaConfig, Spi, TrafficSelector};
use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm, SecretBytes};
use serde::Deserialize;
use toml::Spanned;
use zeroize::Zeroize;

use crate::config::{ChildSa, DataplaneConfig, Encapsulation, TunConfig};

/// A parsed file: the dataplane to start, the CHILD_SAs to install and extra routes.
pub struct ManualConfig {
    /// How to start the dataplane.
    pub dataplane: DataplaneConfig,
    /// The SA pairs, in file order.
    pub children: Vec<ChildSa>,
    /// Prefixes to route into the TUN device besides its own addresses.
    pub routes: Vec<(IpAddr, u8)>,
}

/// What is wrong with a file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field (dotted path), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads and parses `path`.
///
/// # Errors
/// When the file cannot be read or any field is missing, unknown or invalid.
pub fn load(path: &Path) -> Result<ManualConfig, ConfigError> {
    let mut text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        line: None,
        field: None,
        message: format!("cannot read: {e}"),
    })?;
    let parsed = parse(&text, path);
    text.zeroize();
    parsed
}

/// Parses the text of a file called `file` (named in errors).
///
/// # Errors
/// When any field is missing, unknown or invalid.
pub fn parse(text: &str, file: &Path) -> Result<ManualConfig, ConfigError> {
    let at = Locator { text, file };
    let mut raw: RawFile = toml::from_str(text).map_err(|e| ConfigError {
        file: file.to_owned(),
        line: e.span().map(|s| at.line(s.start)),
        field: None,
        message: e.message().to_owned(),
    })?;
    let result = build(&mut raw, &at);
    for child in &mut raw.child {
        child.inbound.key.get_mut().zeroize();
        child.outbound.key.get_mut().zeroize();
    }
    result
}

fn build(raw: &mut RawFile, at: &Locator<'_>) -> Result<ManualConfig, ConfigError> {
    let t = &raw.tunnel;
    let local: IpAddr = at.parse(&t.local, "tunnel.local")?;
    let remote: IpAddr = at.parse(&t.remote, "tunnel.remote")?;
    if local.is_ipv4() != remote.is_ipv4() {
        return Err(at.error(
            t.remote.span(),
            "tunnel.remote",
            "not the family of tunnel.local",
        ));
    }
    let port = t.port.unwrap_or(4500);
    let encapsulation = match t.encapsulation.get_ref().as_str() {
        "udp" => Encapsulation::Udp { port },
        "raw" => Encapsulation::Raw,
        _ => {
            let msg = "expected \"udp\" or \"raw\"";
            return Err(at.error(t.encapsulation.span(), "tunnel.encapsulation", msg));
        }
    };
    let mut tun = TunConfig::new(&raw.tun.name);
    tun.mtu = raw.tun.mtu.unwrap_or(tun.mtu);
    tun.offloads = raw.tun.offloads.unwrap_or(true);
    for a in &raw.tun.addresses {
        let (addr, len) = at.prefix(a, "tun.addresses")?;
        tun.addresses.push((addr, len));
    }
    let routes = raw
        .tun
        .routes
        .iter()
        .map(|r| at.prefix(r, "tun.routes"))
        .collect::<Result<_, _>>()?;
    let mut dataplane = DataplaneConfig::new(tun, local, encapsulation);
    dataplane.workers = t.workers.unwrap_or(0);
    let peer = SocketAddr::new(remote, port);
    let mut children = Vec::with_capacity(raw.child.len());
    for (i, c) in raw.child.iter_mut().enumerate() {
        children.push(child(c, i, peer, at)?);
    }
    if children.is_empty() {
        return Err(ConfigError {
            file: at.file.to_owned(),
            line: None,
            field: Some("child".into()),
            message: "no [[child]] SA pair".into(),
        });
    }
    Ok(ManualConfig {
        dataplane,
        children,
        routes,
    })
}

fn child(
    c: &mut RawChild,
    index: usize,
    peer: SocketAddr,
    at: &Locator<'_>,
) -> Result<ChildSa, ConfigError> {
    let name = |f: &str| format!("child[{index}].{f}");
    let local = at.range(&c.local_ts, &name("local_ts"))?;
    let remote = at.range(&c.remote_ts, &name("remote_ts"))?;
    if local.start().is_ipv4() != remote.start().is_ipv4() {
        return Err(at.error(
            c.remote_ts.span(),
            &name("remote_ts"),
            "not the family of local_ts",
        ));
    }
    let mut selector = TrafficSelector::new(local, remote);
    if let Some(p) = &c.protocol {
        selector.protocol = Some(match p.get_ref().as_str() {
            "tcp" => 6,
            "udp" => 17,
            "icmp" => 1,
            "icmpv6" => 58,
            other => other.parse().map_err(|_| {
                at.error(
                    p.span(),
                    &name("protocol"),
                    "expected tcp, udp, icmp, icmpv6 or 0-255",
                )
            })?,
        });
    }
    selector.local_ports = c
        .local_ports
        .map_or(PortRange::ANY, |(s, e)| PortRange { start: s, end: e });
    selector.remote_ports = c
        .remote_ports
        .map_or(PortRange::ANY, |(s, e)| PortRange { start: s, end: e });
    let (cipher, keymat_len) = cipher(&c.algorithm, &name("algorithm"), at)?;
    let lifetime = Lifetime {
        soft_bytes: c.soft_bytes,
        hard_bytes: c.hard_bytes,
        soft_packets: c.soft_packets,
        hard_packets: c.hard_packets,
    };
    let sa = |raw: &mut RawSa, dir: &str| -> Result<SaConfig, ConfigError> {
        let spi_field = name(&format!("{dir}.spi"));
        let spi = parse_spi(raw.spi.get_ref()).ok_or_else(|| {
            at.error(
                raw.spi.span(),
                &spi_field,
                "expected a non-zero SPI of 32 bits, e.g. \"0x00001001\"",
            )
        })?;
        if spi.is_reserved() {
            return Err(at.error(
                raw.spi.span(),
                &spi_field,
                "SPIs 1-255 are reserved (RFC 4303 §2.1)",
            ));
        }
        let key_field = name(&format!("{dir}.key"));
        let span = raw.key.span();
        let key = decode_key(raw.key.get_ref(), keymat_len)
            .map_err(|m| at.error(span, &key_field, &m))?;
        let mut cfg = SaConfig::new(spi, cipher, key);
        cfg.esn = c.esn.unwrap_or(false);
        cfg.replay_window = c.replay_window.unwrap_or(esp::DEFAULT_REPLAY_WINDOW);
        cfg.lifetime = lifetime;
        Ok(cfg)
    };
    let outbound = sa(&mut c.outbound, "outbound")?;
    let inbound = sa(&mut c.inbound, "inbound")?;
    Ok(ChildSa {
        selector,
        peer,
        inbound,
        outbound,
    })
}

/// The cipher and its key material length for an algorithm name (strongSwan's spelling).
fn cipher(
    alg: &Spanned<String>,
    field: &str,
    at: &Locator<'_>,
) -> Result<(Cipher, usize), ConfigError> {
    let cbc = |cipher, key: usize, integ, ikey: usize| (Cipher::Cbc { cipher, integ }, key + ikey);
    Ok(match alg.get_ref().as_str() {
        "aes128gcm16" => (Cipher::Aead(AeadAlgorithm::Aes128Gcm16), 16 + 4),
        "aes256gcm16" => (Cipher::Aead(AeadAlgorithm::Aes256Gcm16), 32 + 4),
        "chacha20poly1305" => (Cipher::Aead(AeadAlgorithm::ChaCha20Poly1305), 32 + 4),
        "aes128-sha256" => cbc(
            CbcAlgorithm::Aes128Cbc,
            16,
            IntegAlgorithm::HmacSha256_128,
            32,
        ),
        "aes256-sha256" => cbc(
            CbcAlgorithm::Aes256Cbc,
            32,
            IntegAlgorithm::HmacSha256_128,
            32,
        ),
        "aes256-sha384" => cbc(
            CbcAlgorithm::Aes256Cbc,
            32,
            IntegAlgorithm::HmacSha384_192,
            48,
        ),
        "aes256-sha512" => cbc(
            CbcAlgorithm::Aes256Cbc,
            32,
            IntegAlgorithm::HmacSha512_256,
            64,
        ),
        // RFC 2404: only for peers that have nothing better (free5GC's UE).
        "aes256-sha1" => cbc(CbcAlgorithm::Aes256Cbc, 32, IntegAlgorithm::HmacSha1_96, 20),
        _ => {
            let msg = "expected aes128gcm16, aes256gcm16, chacha20poly1305, aes128-sha256, \
                       aes256-sha256, aes256-sha384, aes256-sha512 or aes256-sha1 (legacy)";
            return Err(at.error(alg.span(), field, msg));
        }
    })
}

fn parse_spi(s: &str) -> Option<Spi> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(&hex.replace('_', ""), 16).ok()?,
        None => s.parse().ok()?,
    };
    (v != 0).then_some(Spi(v))
}

/// Decodes a hex key (spaces, colons and `_` allowed, optional `0x`) of `len` bytes. The
/// message never contains key bytes.
fn decode_key(text: &str, len: usize) -> Result<SecretBytes, String> {
    let mut digits: String = text
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '_'))
        .collect();
    let decoded = hex::decode(&digits);
    digits.zeroize();
    let mut bytes = decoded.map_err(|_| "expected hexadecimal digits".to_owned())?;
    if bytes.len() != len {
        let got = bytes.len();
        bytes.zeroize();
        return Err(format!(
            "key material must be {len} bytes (cipher key followed by salt or integrity key), \
             got {got}"
        ));
    }
    Ok(SecretBytes::new(bytes))
}

/// Turns byte offsets into line numbers and builds errors.
struct Locator<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Range<usize>, field: &str, message: &str) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: Some(self.line(span.start)),
            field: Some(field.to_owned()),
            message: message.to_owned(),
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        v: &Spanned<String>,
        field: &str,
    ) -> Result<T, ConfigError> {
        v.get_ref()
            .parse()
            .map_err(|_| self.error(v.span(), field, "not a valid address"))
    }

    /// `addr/len` (a bare address is a host prefix).
    fn prefix(&self, v: &Spanned<String>, field: &str) -> Result<(IpAddr, u8), ConfigError> {
        let bad = || {
            self.error(
                v.span(),
                field,
                "expected an address with prefix, e.g. 10.0.0.1/24",
            )
        };
        let s = v.get_ref();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => {
                let a: IpAddr = a.parse().map_err(|_| bad())?;
                (a, l.parse::<u8>().map_err(|_| bad())?)
            }
            None => {
                let a: IpAddr = s.parse().map_err(|_| bad())?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        if len > if addr.is_ipv4() { 32 } else { 128 } {
            return Err(bad());
        }
        Ok((addr, len))
    }

    /// A traffic selector range: `addr/len`, `first-last` or a bare address.
    fn range(&self, v: &Spanned<String>, field: &str) -> Result<AddrRange, ConfigError> {
        if let Some((a, b)) = v.get_ref().split_once('-') {
            let bad = || self.error(v.span(), field, "expected first-last addresses in order");
            let a: IpAddr = a.trim().parse().map_err(|_| bad())?;
            let b: IpAddr = b.trim().parse().map_err(|_| bad())?;
            return AddrRange::new(a, b).ok_or_else(bad);
        }
        let (addr, len) = self.prefix(v, field)?;
        AddrRange::from_prefix(addr, len)
            .ok_or_else(|| self.error(v.span(), field, "invalid prefix"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    tunnel: RawTunnel,
    tun: RawTun,
    #[serde(default)]
    child: Vec<RawChild>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTunnel {
    local: Spanned<String>,
    remote: Spanned<String>,
    encapsulation: Spanned<String>,
    port: Option<u16>,
    workers: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTun {
    name: String,
    mtu: Option<u32>,
    offloads: Option<bool>,
    #[serde(default)]
    addresses: Vec<Spanned<String>>,
    #[serde(default)]
    routes: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChild {
    local_ts: Spanned<String>,
    remote_ts: Spanned<String>,
    protocol: Option<Spanned<String>>,
    local_ports: Option<(u16, u16)>,
    remote_ports: Option<(u16, u16)>,
    algorithm: Spanned<String>,
    esn: Option<bool>,
    replay_window: Option<u32>,
    soft_bytes: Option<u64>,
    hard_bytes: Option<u64>,
    soft_packets: Option<u64>,
    hard_packets: Option<u64>,
    outbound: RawSa,
    inbound: RawSa,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSa {
    spi: Spanned<String>,
    key: Spanned<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[tunnel]
local = "192.0.2.1"
remote = "192.0.2.2"
encapsulation = "udp"

[tun]
name = "pqdp0"
addresses = ["10.99.0.1/24"]

[[child]]
local_ts = "10.99.0.1/32"
remote_ts = "10.99.0.2"
algorithm = "aes256gcm16"
[child.outbound]
spi = "0x00001001"
key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 01020304"
[child.inbound]
spi = "0x2001"
key = "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:01:02:03:05"
"#;

    fn err(text: &str) -> ConfigError {
        match parse(text, Path::new("t.toml")) {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_a_complete_file() {
        let c = parse(GOOD, Path::new("t.toml")).unwrap();
        assert_eq!(c.dataplane.encapsulation, Encapsulation::Udp { port: 4500 });
        assert_eq!(
            c.dataplane.tun.addresses,
            [("10.99.0.1".parse().unwrap(), 24)]
        );
        assert_eq!(c.children.len(), 1);
        let ch = &c.children[0];
        assert_eq!(ch.peer, "192.0.2.2:4500".parse().unwrap());
        assert_eq!(ch.outbound.spi, Spi(0x1001));
        assert_eq!(ch.inbound.spi, Spi(0x2001));
        assert_eq!(ch.inbound.keymat.len(), 36);
        assert!(ch.selector.remote.contains("10.99.0.2".parse().unwrap()));
        assert!(!ch.selector.remote.contains("10.99.0.3".parse().unwrap()));
    }

    #[test]
    fn the_legacy_sha1_transform_takes_a_52_octet_key() {
        let key = "00".repeat(52);
        let text = GOOD
            .replace("aes256gcm16", "aes256-sha1")
            .replace(
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 01020304",
                &key,
            )
            .replace(
                "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:01:02:03:05",
                &key,
            );
        let c = parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!(c.children[0].inbound.keymat.len(), 52);
        assert_eq!(
            c.children[0].inbound.cipher,
            Cipher::Cbc {
                cipher: CbcAlgorithm::Aes256Cbc,
                integ: IntegAlgorithm::HmacSha1_96
            }
        );
        let short = text.replacen(&key, &"00".repeat(64), 1);
        assert_eq!(err(&short).field.as_deref(), Some("child[0].outbound.key"));
    }

    #[test]
    fn the_annotated_example_parses() {
        let text = include_str!("../examples/esp-tunnel.toml");
        let c = parse(text, Path::new("esp-tunnel.toml")).unwrap();
        assert_eq!(c.children[0].outbound.spi, Spi(0x1001));
        assert_eq!(c.dataplane.tun.mtu, 1420);
    }

    #[test]
    fn errors_name_file_line_and_field_without_key_bytes() {
        let e = err(&GOOD.replace("0x2001", "0x0"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(19), Some("child[0].inbound.spi"))
        );
        let e = err(&GOOD.replace(" 01020304", " 0102"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(17), Some("child[0].outbound.key"))
        );
        assert!(
            e.to_string()
                .starts_with("t.toml:17: field `child[0].outbound.key`"),
            "{e}"
        );
        assert!(!e.to_string().contains("0001"), "no key bytes in messages");
        let e = err(&GOOD.replace("aes256gcm16", "aes256gcm8"));
        assert_eq!(e.line, Some(14));
        let e = err(&GOOD.replace("\"udp\"", "\"tcp\""));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(5), Some("tunnel.encapsulation"))
        );
        let e = err(&GOOD.replace("name = ", "nmae = "));
        assert_eq!(e.line, Some(8), "{e}");
        let e = err(&GOOD.replace("10.99.0.1/24", "10.99.0.1/33"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(9), Some("tun.addresses"))
        );
        let e = err(&GOOD.replace("remote = \"192.0.2.2\"", "remote = \"2001:db8::2\""));
        assert_eq!(e.field.as_deref(), Some("tunnel.remote"));
    }
}
