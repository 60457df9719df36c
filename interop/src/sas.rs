//! `swanctl --list-sas --pretty` parsed into IKE_SAs and CHILD_SAs.
//!
//! The pretty form of a vici message is line based: `key = value`, `name {` ... `}` and
//! `key = [` ... `]`, so values with spaces (distinguished names) survive.

use std::collections::BTreeMap;

use crate::cmd::{Error, Result};

/// A parsed vici value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vici {
    /// `key = value`
    Value(String),
    /// `key = [ ... ]`
    List(Vec<String>),
    /// `name { ... }`
    Section(Vec<(String, Self)>),
}

impl Vici {
    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Self::Value(v)) => Some(v),
            _ => None,
        }
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Self::List(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    fn scalars(&self) -> BTreeMap<String, String> {
        match self {
            Self::Section(items) => items
                .iter()
                .filter_map(|(k, v)| match v {
                    Self::Value(s) => Some((k.clone(), s.clone())),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    }
}

/// Parses the pretty-printed vici messages swanctl prints: a list of top-level sections such as
/// `list-sa event { ... }`.
pub fn parse_pretty(text: &str) -> Result<Vec<(String, Vici)>> {
    let mut stack: Vec<(String, Vec<(String, Vici)>)> = vec![(String::new(), Vec::new())];
    let mut list: Option<(String, Vec<String>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || Error::new(format!("swanctl output line {}: unexpected {raw:?}", n + 1));
        if let Some((_, items)) = list.as_mut() {
            if line == "]" {
                let (key, items) = list.take().ok_or_else(bad)?;
                stack
                    .last_mut()
                    .ok_or_else(bad)?
                    .1
                    .push((key, Vici::List(items)));
            } else {
                items.push(line.to_owned());
            }
        } else if line == "}" {
            let (name, items) = stack.pop().ok_or_else(bad)?;
            stack
                .last_mut()
                .ok_or_else(bad)?
                .1
                .push((name, Vici::Section(items)));
        } else if let Some(name) = line.strip_suffix('{') {
            stack.push((name.trim().to_owned(), Vec::new()));
        } else if let Some((k, v)) = line.split_once(" = ") {
            if v == "[" {
                list = Some((k.to_owned(), Vec::new()));
            } else {
                stack
                    .last_mut()
                    .ok_or_else(bad)?
                    .1
                    .push((k.to_owned(), Vici::Value(v.to_owned())));
            }
        } else if let Some(k) = line.strip_suffix(" =") {
            stack
                .last_mut()
                .ok_or_else(bad)?
                .1
                .push((k.to_owned(), Vici::Value(String::new())));
        } else {
            return Err(bad());
        }
    }
    if stack.len() != 1 || list.is_some() {
        return Err(Error::new("swanctl output ends inside a section"));
    }
    Ok(stack.pop().map(|(_, items)| items).unwrap_or_default())
}

/// Algorithms of an SA, as vici reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Algorithms {
    /// e.g. `AES_GCM_16`
    pub encr: Option<String>,
    /// Key size in bits, e.g. 256.
    pub encr_keysize: Option<u32>,
    /// e.g. `HMAC_SHA2_256_128` (absent with AEADs)
    pub integ: Option<String>,
    /// e.g. `PRF_HMAC_SHA2_384` (IKE_SAs only)
    pub prf: Option<String>,
    /// The key exchange method (vici `dh-group`), e.g. `CURVE_25519`.
    pub ke: Option<String>,
    /// Additional key exchanges (RFC 9370): `(n, method)` from vici `ake1`..`ake7`.
    pub additional_kes: Vec<(u8, String)>,
}

impl Algorithms {
    fn from(v: &Vici) -> Self {
        Self {
            encr: v.str("encr-alg").map(str::to_owned),
            encr_keysize: v.str("encr-keysize").and_then(|s| s.parse().ok()),
            integ: v.str("integ-alg").map(str::to_owned),
            prf: v.str("prf-alg").map(str::to_owned),
            ke: v.str("dh-group").map(str::to_owned),
            additional_kes: (1..=7u8)
                .filter_map(|n| v.str(&format!("ake{n}")).map(|m| (n, m.to_owned())))
                .collect(),
        }
    }

    /// All key exchange methods in order: the first, then ADDKE1..7.
    pub fn key_exchanges(&self) -> Vec<&str> {
        self.ke
            .iter()
            .map(String::as_str)
            .chain(self.additional_kes.iter().map(|(_, m)| m.as_str()))
            .collect()
    }

    /// In the form `swanctl --list-sas` prints, e.g.
    /// `AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.encr {
            parts.push(match self.encr_keysize {
                Some(k) => format!("{e}-{k}"),
                None => e.clone(),
            });
        }
        parts.extend(self.integ.clone());
        parts.extend(self.prf.clone());
        parts.extend(self.ke.clone());
        parts.extend(
            self.additional_kes
                .iter()
                .map(|(n, m)| format!("KE{n}_{m}")),
        );
        parts.join("/")
    }
}

/// A CHILD_SA from `swanctl --list-sas`.
#[derive(Clone, Debug)]
pub struct ChildSa {
    /// Configuration name.
    pub name: String,
    /// charon's unique id.
    pub unique_id: u32,
    /// e.g. `INSTALLED`, `REKEYED`.
    pub state: String,
    /// e.g. `TUNNEL`.
    pub mode: String,
    /// e.g. `ESP`.
    pub protocol: String,
    /// UDP encapsulation (ESP-in-UDP, RFC 3948).
    pub encap: bool,
    /// Inbound SPI (hex).
    pub spi_in: String,
    /// Outbound SPI (hex).
    pub spi_out: String,
    /// Negotiated algorithms (`ke` set only when the CHILD_SA had its own key exchange).
    pub algorithms: Algorithms,
    /// Bytes received.
    pub bytes_in: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Local traffic selectors.
    pub local_ts: Vec<String>,
    /// Remote traffic selectors.
    pub remote_ts: Vec<String>,
    /// Every scalar field as vici gave it.
    pub fields: BTreeMap<String, String>,
}

/// An IKE_SA from `swanctl --list-sas`.
#[derive(Clone, Debug)]
pub struct IkeSa {
    /// Connection name.
    pub name: String,
    /// charon's unique id.
    pub unique_id: u32,
    /// e.g. `ESTABLISHED`, `CONNECTING`.
    pub state: String,
    /// Local address.
    pub local_host: String,
    /// Local port.
    pub local_port: u16,
    /// Remote address.
    pub remote_host: String,
    /// Remote port.
    pub remote_port: u16,
    /// Local identity.
    pub local_id: String,
    /// Remote identity.
    pub remote_id: String,
    /// Whether this end initiated the IKE_SA.
    pub initiator: bool,
    /// Negotiated IKE algorithms, including the additional key exchanges.
    pub algorithms: Algorithms,
    /// Whether a NAT was detected (or faked; kernel-libipsec fakes one unless `raw_esp`).
    pub nat_any: bool,
    /// CHILD_SAs of this IKE_SA.
    pub children: Vec<ChildSa>,
    /// Every scalar field as vici gave it.
    pub fields: BTreeMap<String, String>,
}

impl IkeSa {
    /// The IKE proposal as `swanctl --list-sas` prints it.
    pub fn proposal(&self) -> String {
        self.algorithms.describe()
    }

    /// The CHILD_SAs in state `INSTALLED`.
    pub fn installed_children(&self) -> impl Iterator<Item = &ChildSa> {
        self.children.iter().filter(|c| c.state == "INSTALLED")
    }
}

fn num<T: std::str::FromStr + Default>(v: &Vici, key: &str) -> T {
    v.str(key).and_then(|s| s.parse().ok()).unwrap_or_default()
}

fn string(v: &Vici, key: &str) -> String {
    v.str(key).unwrap_or_default().to_owned()
}

fn child(name: &str, v: &Vici) -> ChildSa {
    ChildSa {
        name: v.str("name").unwrap_or(name).to_owned(),
        unique_id: num(v, "uniqueid"),
        state: string(v, "state"),
        mode: string(v, "mode"),
        protocol: string(v, "protocol"),
        encap: v.str("encap") == Some("yes"),
        spi_in: string(v, "spi-in"),
        spi_out: string(v, "spi-out"),
        algorithms: Algorithms::from(v),
        bytes_in: num(v, "bytes-in"),
        packets_in: num(v, "packets-in"),
        bytes_out: num(v, "bytes-out"),
        packets_out: num(v, "packets-out"),
        local_ts: v.list("local-ts"),
        remote_ts: v.list("remote-ts"),
        fields: v.scalars(),
    }
}

/// Parses `swanctl --list-sas --pretty`.
pub fn parse_list_sas(text: &str) -> Result<Vec<IkeSa>> {
    let mut sas = Vec::new();
    for (msg, body) in parse_pretty(text)? {
        if msg != "list-sa event" {
            continue;
        }
        let Vici::Section(items) = body else { continue };
        for (name, v) in items {
            let children = match v.get("child-sas") {
                Some(Vici::Section(cs)) => cs.iter().map(|(n, c)| child(n, c)).collect(),
                _ => Vec::new(),
            };
            sas.push(IkeSa {
                unique_id: num(&v, "uniqueid"),
                state: string(&v, "state"),
                local_host: string(&v, "local-host"),
                local_port: num(&v, "local-port"),
                remote_host: string(&v, "remote-host"),
                remote_port: num(&v, "remote-port"),
                local_id: string(&v, "local-id"),
                remote_id: string(&v, "remote-id"),
                initiator: v.str("initiator") == Some("yes"),
                algorithms: Algorithms::from(&v),
                nat_any: v.str("nat-any") == Some("yes"),
                children,
                fields: v.scalars(),
                name,
            });
        }
    }
    Ok(sas)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "list-sa event {
  net {
    uniqueid = 1
    version = 2
    state = ESTABLISHED
    local-host = 192.0.2.1
    local-port = 500
    local-id = C=CH, O=strongSwan, CN=left
    remote-host = 192.0.2.2
    remote-port = 500
    remote-id = right
    initiator = yes
    encr-alg = AES_GCM_16
    encr-keysize = 256
    prf-alg = PRF_HMAC_SHA2_384
    dh-group = CURVE_25519
    ake1 = ML_KEM_768
    child-sas {
      net-2 {
        name = net
        uniqueid = 2
        reqid = 1
        state = INSTALLED
        mode = TUNNEL
        protocol = ESP
        spi-in = 9cf6ddb0
        spi-out = f2fe10cf
        encr-alg = AES_GCM_16
        encr-keysize = 256
        dh-group = CURVE_25519
        ake1 = ML_KEM_768
        bytes-in = 168
        packets-in = 2
        bytes-out = 168
        packets-out = 2
        local-ts = [
          198.51.100.1/32
        ]
        remote-ts = [
          198.51.100.2/32
        ]
      }
    }
  }
}
list-sas reply {
}
";

    #[test]
    fn parses_pretty_list_sas() {
        let sas = parse_list_sas(SAMPLE).unwrap();
        assert_eq!(sas.len(), 1);
        let sa = &sas[0];
        assert_eq!(sa.name, "net");
        assert_eq!(sa.state, "ESTABLISHED");
        assert_eq!(sa.local_id, "C=CH, O=strongSwan, CN=left");
        assert!(sa.initiator);
        assert_eq!(
            sa.proposal(),
            "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768"
        );
        assert_eq!(sa.algorithms.key_exchanges(), ["CURVE_25519", "ML_KEM_768"]);
        let c = &sa.children[0];
        assert_eq!(
            (c.name.as_str(), c.unique_id, c.state.as_str()),
            ("net", 2, "INSTALLED")
        );
        assert_eq!(
            c.algorithms.describe(),
            "AES_GCM_16-256/CURVE_25519/KE1_ML_KEM_768"
        );
        assert_eq!((c.bytes_in, c.packets_out), (168, 2));
        assert_eq!(c.remote_ts, ["198.51.100.2/32"]);
        assert!(!c.encap);
    }

    #[test]
    fn rejects_truncated_output() {
        assert!(parse_list_sas("list-sa event {\n  net {\n").is_err());
    }
}
