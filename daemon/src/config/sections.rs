//! Validation of `[qkd]`, `[dataplane]` and the byte and packet limits of children.

use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::bounds::{MAX_QKD_TIMEOUT, MIN_QKD_TIMEOUT};
use super::load::Validator;
use super::raw::{Amount, RawChild, RawDataplane, RawQkd};
use super::values::{amount, prefix};
use super::{DaemonSettings, DataplaneSettings, Encapsulation, QkdSettings, TrafficLimits};

impl Validator<'_> {
    /// Checks `[qkd]`: an https URL, our SAE ID, readable PEM files (relative to the
    /// configuration's directory), the key size and the request timeout.
    pub(super) fn qkd(&mut self, raw: Option<&Spanned<RawQkd>>) -> Option<QkdSettings> {
        let q = raw?.get_ref();
        let errors_before = self.errors.len();
        if !q.kme_url.get_ref().starts_with("https://") {
            self.error(
                &q.kme_url.span(),
                "qkd.kme_url",
                "must be an https:// URL (ETSI GS QKD 014 requires TLS)",
            );
        }
        if q.sae_id.get_ref().is_empty() {
            self.error(&q.sae_id.span(), "qkd.sae_id", "must not be empty");
        }
        let ca = self.pem_file("qkd.ca", &q.ca);
        let cert = self.pem_file("qkd.cert", &q.cert);
        let key = self.pem_file("qkd.key", &q.key);
        let key_size = q
            .key_size
            .as_ref()
            .map_or(DEFAULT_QKD_KEY_BITS, |k| *k.get_ref());
        if let Some(k) = &q.key_size
            && (key_size % 8 != 0 || !(256..=8192).contains(&key_size))
        {
            self.error(&k.span(), "qkd.key_size", format!("{key_size} bits: use a multiple of 8 from 256 to 8192 (a PPK needs at least 256 bits)"));
        }
        let timeout = self
            .opt_duration("qkd.timeout", q.timeout.as_ref(), MAX_QKD_TIMEOUT)
            .unwrap_or(DEFAULT_QKD_TIMEOUT);
        if let Some(t) = &q.timeout
            && timeout < MIN_QKD_TIMEOUT
        {
            self.error(
                &t.span(),
                "qkd.timeout",
                "must be at least 100ms (a KME round trip over TLS)",
            );
        }
        let max_requests = self.request_cap("qkd.max_requests", q.max_requests.as_ref(), 32);
        let max_requests_per_peer = self.request_cap(
            "qkd.max_requests_per_peer",
            q.max_requests_per_peer.as_ref(),
            4,
        );
        (self.errors.len() == errors_before).then(|| QkdSettings {
            kme_url: q.kme_url.get_ref().clone(),
            sae_id: q.sae_id.get_ref().clone(),
            ca,
            cert,
            key,
            key_size,
            timeout,
            max_requests,
            max_requests_per_peer,
        })
    }

    /// A cap on concurrent KME requests: 1 to [`MAX_KME_REQUESTS`].
    fn request_cap(&mut self, field: &str, raw: Option<&Spanned<i64>>, default: usize) -> usize {
        let Some(r) = raw else { return default };
        match usize::try_from(*r.get_ref()) {
            Ok(v) if (1..=MAX_KME_REQUESTS).contains(&v) => v,
            _ => {
                let msg = format!(
                    "{} is not a count from 1 to {MAX_KME_REQUESTS}",
                    r.get_ref()
                );
                self.error(&r.span(), field, msg);
                default
            }
        }
    }

    /// Checks `[dataplane]` against `[daemon]`: ESP in UDP shares `natt_port` with IKE, and the
    /// outer address must be one the daemon listens on.
    pub(super) fn dataplane(
        &mut self,
        raw: Option<&Spanned<RawDataplane>>,
        daemon: &DaemonSettings,
    ) -> Option<DataplaneSettings> {
        let section = raw?;
        let d = section.get_ref();
        let errors_before = self.errors.len();
        let tun = self.tun_name(d.tun.as_ref());
        let mtu = self.tun_mtu(d.mtu.as_ref());
        let addresses = self.prefixes("dataplane.addresses", &d.addresses, true);
        let routes = self.prefixes("dataplane.routes", &d.routes, false);
        let encapsulation = self.encapsulation(section, daemon);
        let local = self.dataplane_local(section, daemon);
        if encapsulation == Encapsulation::Udp && daemon.listen.len() > 1 {
            self.warn(
                &section.span(),
                "dataplane",
                "ESP in UDP: the NAT-T port is served on dataplane.local only",
            );
        }
        let settings = DataplaneSettings {
            tun,
            mtu,
            addresses,
            routes,
            local: local?,
            encapsulation,
            workers: d.workers.unwrap_or(0),
            offloads: d.offloads.unwrap_or(true),
            n3: None,
            n3_ue_mtu: 1500,
            n3_oversize: dataplane::OversizePolicy::Fragment,
        };
        (self.errors.len() == errors_before).then_some(settings)
    }

    /// `dataplane.tun`: an interface name the kernel accepts.
    fn tun_name(&mut self, raw: Option<&Spanned<String>>) -> String {
        let tun = raw.map_or_else(|| DEFAULT_TUN.to_string(), |t| t.get_ref().clone());
        if let Some(t) = raw
            && (tun.is_empty() || tun.len() > 15 || tun.contains(['/', ' ', '\t', '%']))
        {
            self.error(
                &t.span(),
                "dataplane.tun",
                "an interface name is 1-15 characters without '/', '%' or blanks",
            );
        }
        tun
    }

    /// `dataplane.mtu`: 576 to 9000.
    fn tun_mtu(&mut self, raw: Option<&Spanned<u32>>) -> u32 {
        let mtu = raw.map_or(DEFAULT_MTU, |m| *m.get_ref());
        if let Some(m) = raw
            && !(576..=9000).contains(&mtu)
        {
            self.error(
                &m.span(),
                "dataplane.mtu",
                format!("{mtu} is outside 576..9000"),
            );
        }
        mtu
    }

    /// `dataplane.encapsulation`: `udp` (the default, which needs `daemon.natt_port`) or `raw`.
    fn encapsulation(
        &mut self,
        section: &Spanned<RawDataplane>,
        daemon: &DaemonSettings,
    ) -> Encapsulation {
        let raw = section.get_ref().encapsulation.as_ref();
        let encapsulation = match raw.map(|e| (e.get_ref().as_str(), e.span())) {
            None | Some(("udp", _)) => Encapsulation::Udp,
            Some(("raw", _)) => Encapsulation::Raw,
            Some((other, span)) => {
                self.error(
                    &span,
                    "dataplane.encapsulation",
                    format!("unknown encapsulation '{other}' (use udp or raw)"),
                );
                Encapsulation::Udp
            }
        };
        if encapsulation == Encapsulation::Udp && daemon.natt_port.is_none() {
            let span = raw.map_or_else(|| section.span(), Spanned::span);
            self.error(
                &span,
                "dataplane.encapsulation",
                "\"udp\" needs daemon.natt_port (ESP in UDP shares it with IKE, RFC 3948)",
            );
        }
        encapsulation
    }

    /// `rekey_bytes`, `life_bytes`, `rekey_packets`, `life_packets` of a child; a soft limit
    /// must stay below its hard one.
    pub(super) fn traffic_limits(&mut self, field: &str, c: &RawChild) -> TrafficLimits {
        let mut get = |name: &str, raw: &Option<Spanned<Amount>>| -> Option<u64> {
            let v = raw.as_ref()?;
            match amount(v.get_ref()) {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(e) => {
                    self.error(&v.span(), &format!("{field}.{name}"), e);
                    None
                }
            }
        };
        let limits = TrafficLimits {
            rekey_bytes: get("rekey_bytes", &c.rekey_bytes),
            life_bytes: get("life_bytes", &c.life_bytes),
            rekey_packets: get("rekey_packets", &c.rekey_packets),
            life_packets: get("life_packets", &c.life_packets),
        };
        for (soft, hard, name, span) in [
            (
                limits.rekey_bytes,
                limits.life_bytes,
                "life_bytes",
                c.life_bytes.as_ref().map(Spanned::span),
            ),
            (
                limits.rekey_packets,
                limits.life_packets,
                "life_packets",
                c.life_packets.as_ref().map(Spanned::span),
            ),
        ] {
            if let (Some(s), Some(h), Some(span)) = (soft, hard, span)
                && s >= h
            {
                self.error(
                    &span,
                    &format!("{field}.{name}"),
                    format!("must be larger than rekey_{}", &name[5..]),
                );
            }
        }
        limits
    }

    /// The outer address: `dataplane.local`, or the only concrete `daemon.listen` address.
    fn dataplane_local(
        &mut self,
        section: &Spanned<RawDataplane>,
        daemon: &DaemonSettings,
    ) -> Option<IpAddr> {
        let Some(raw) = &section.get_ref().local else {
            let concrete: Vec<IpAddr> = daemon
                .listen
                .iter()
                .copied()
                .filter(|a| !a.is_unspecified())
                .collect();
            if let [only] = concrete[..] {
                return Some(only);
            }
            self.error(&section.span(), "dataplane.local", "required unless daemon.listen holds exactly one concrete address (ESP and IKE must share our outer address)");
            return None;
        };
        let Ok(ip) = raw.get_ref().parse::<IpAddr>() else {
            self.error(
                &raw.span(),
                "dataplane.local",
                format!("'{}' is not an IP address", raw.get_ref()),
            );
            return None;
        };
        if ip.is_unspecified() {
            self.error(
                &raw.span(),
                "dataplane.local",
                "must be a concrete address, not a wildcard",
            );
            return None;
        }
        if !daemon.listens_on(ip) {
            self.error(
                &raw.span(),
                "dataplane.local",
                format!("{ip} is not covered by daemon.listen"),
            );
        }
        Some(ip)
    }

    /// A list of `address/prefix`; `host_bits` allows an interface address such as
    /// `10.1.0.1/24`, otherwise the network must be written exactly.
    fn prefixes(
        &mut self,
        field: &str,
        raw: &[Spanned<String>],
        host_bits: bool,
    ) -> Vec<(IpAddr, u8)> {
        raw.iter()
            .filter_map(|p| {
                prefix(p.get_ref(), host_bits)
                    .map_err(|e| self.error(&p.span(), field, e))
                    .ok()
            })
            .collect()
    }

    /// A PEM file relative to the configuration's directory, which must be readable.
    fn pem_file(&mut self, field: &str, raw: &Spanned<String>) -> PathBuf {
        let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
        let path = dir.join(raw.get_ref());
        if raw.get_ref().is_empty() {
            self.error(&raw.span(), field, "must not be empty");
        } else if let Err(e) = std::fs::File::open(&path) {
            let span: Range<usize> = raw.span();
            self.error(&span, field, format!("cannot read {}: {e}", path.display()));
        }
        path
    }
}

const DEFAULT_TUN: &str = "iked0";
const DEFAULT_MTU: u32 = 1420;
const DEFAULT_QKD_KEY_BITS: u32 = 256;
const DEFAULT_QKD_TIMEOUT: Duration = Duration::from_secs(5);

/// The most concurrent KME requests a cap may allow (each holds a TLS connection).
const MAX_KME_REQUESTS: usize = 1024;
