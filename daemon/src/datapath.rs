//! The userspace ESP datapath as a [`ChildSaSink`]: Child SAs negotiated by the engine go into
//! [`dataplane::DataplaneHandle`], and its events (IKE on the shared NAT-T port, SA lifetimes)
//! come back to the driver.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::Command;

use dataplane::{
    ChildSaId, Dataplane, DataplaneConfig, DataplaneEvent, DataplaneHandle, DataplaneStats,
    Direction, IkeMessage, SaStats, TunConfig,
};
use esp::{
    AddrRange, Cipher, DropReason, Lifetime, PortRange, SaConfig, SaEvent, Spi, TrafficSelector,
};
use ikev2::wire::IpSelector;
use ikev2::{ChildSa, EspSpi, Negotiated, SaId};
use ipsec_crypto::CryptoProvider;
use tokio::sync::mpsc;

use crate::config::{DataplaneSettings, Encapsulation, TrafficLimits, format_selector};
use crate::handover::RekeyHandover;
use crate::proto::ChildSaCounters;
use crate::sink::{ChildSaSink, DatapathEvent, LifetimeEvent, LifetimeKind, SinkError};

/// Child SAs installed in the userspace ESP dataplane (TUN device plus workers).
pub struct DataplaneSink {
    handle: DataplaneHandle,
    encapsulation: Encapsulation,
    ike_address: Option<SocketAddr>,
    /// By inbound SPI.
    installed: HashMap<Spi, ChildSaId>,
    /// Rekeys in progress, to move outbound traffic at the right moment.
    rekeys: RekeyHandover,
    events: Option<mpsc::Receiver<DatapathEvent>>,
    ike: Option<mpsc::Receiver<DatapathEvent>>,
    /// The threads that forward the dataplane's events and IKE messages.
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl DataplaneSink {
    /// Creates the TUN device (with its addresses and routes), binds the ESP socket(s) and
    /// starts the workers. With ESP in UDP the socket is `natt_port` on `settings.local`,
    /// shared with IKE.
    ///
    /// # Errors
    /// When a step needs privileges the process lacks, the device or port is taken, or `ip
    /// route` fails.
    pub fn start(
        settings: &DataplaneSettings,
        natt_port: Option<u16>,
        ike_rate_per_source: u32,
        provider: &'static dyn CryptoProvider,
    ) -> Result<Self, SinkError> {
        let mut tun = TunConfig::new(&settings.tun);
        tun.mtu = settings.mtu;
        tun.offloads = settings.offloads;
        // The dataplane sets an IPv4 address (SIOCSIFADDR), so a second one would replace the
        // first: it takes the first IPv4 address and the IPv6 ones, `ip addr` adds the rest.
        let first_v4 = settings.addresses.iter().position(|(a, _)| a.is_ipv4());
        let (direct, extra): (Vec<_>, Vec<_>) = settings
            .addresses
            .iter()
            .enumerate()
            .partition(|(i, (a, _))| a.is_ipv6() || Some(*i) == first_v4);
        tun.addresses = direct.into_iter().map(|(_, a)| *a).collect();
        let (encapsulation, ike_address) = match (settings.encapsulation, natt_port) {
            (Encapsulation::Udp, Some(port)) => (
                dataplane::Encapsulation::Udp { port },
                Some(SocketAddr::new(settings.local, port)),
            ),
            (Encapsulation::Udp, None) => {
                return Err(SinkError("ESP in UDP needs daemon.natt_port".into()));
            }
            (Encapsulation::Raw, _) => (dataplane::Encapsulation::Raw, None),
        };
        let mut config = DataplaneConfig::new(tun, settings.local, encapsulation);
        config.workers = settings.workers;
        config.ike_rate_per_source = ike_rate_per_source;
        config.n3 = settings.n3;
        config.n3_ue_mtu = settings.n3_ue_mtu;
        config.n3_oversize = settings.n3_oversize;
        let (handle, events) =
            Dataplane::start(config, provider).map_err(|e| SinkError(format!("dataplane: {e}")))?;
        for (_, &(addr, len)) in extra {
            ip(&[
                "addr",
                "add",
                &format!("{addr}/{len}"),
                "dev",
                handle.tun_name(),
            ])?;
        }
        for &(net, len) in &settings.routes {
            ip(&[
                "route",
                "replace",
                &format!("{net}/{len}"),
                "dev",
                handle.tun_name(),
            ])?;
        }
        let (tx, rx) = mpsc::channel(EVENT_BACKLOG);
        let mut threads = vec![spawn("dataplane-events", move || {
            forward_events(&events, &tx);
        })?];
        let mut ike = None;
        if let (Some(local), Some(messages)) = (ike_address, handle.take_ike_messages()) {
            let (tx, rx) = mpsc::channel(IKE_BACKLOG);
            threads.push(spawn("dataplane-ike", move || {
                forward_ike(&messages, &tx, local);
            })?);
            ike = Some(rx);
        }
        tracing::info!(tun = %handle.tun_name(), local = %settings.local, encapsulation = ?settings.encapsulation, routes = settings.routes.len(), "datapath started");
        Ok(Self {
            handle,
            encapsulation: settings.encapsulation,
            ike_address,
            installed: HashMap::new(),
            rekeys: RekeyHandover::default(),
            events: Some(rx),
            ike,
            threads,
        })
    }
}

impl ChildSaSink for DataplaneSink {
    fn install(
        &mut self,
        _ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
    ) -> Result<(), SinkError> {
        self.install_pair(connection, child, limits, false)
    }

    fn install_unrouted(
        &mut self,
        _ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
    ) -> Result<(), SinkError> {
        self.install_pair(connection, child, limits, true)
    }

    fn add_user_plane(&mut self, session: dataplane::UserPlaneSession) -> Result<(), SinkError> {
        self.handle
            .add_user_plane(session)
            .map_err(|e| SinkError(e.to_string()))
    }

    fn update_user_plane(
        &mut self,
        dl_teid: dataplane::Teid,
        children: dataplane::UserPlaneChildren,
    ) -> Result<(), SinkError> {
        self.handle
            .update_user_plane(dl_teid, children)
            .map_err(|e| SinkError(e.to_string()))
    }

    fn remove_user_plane(&mut self, dl_teid: dataplane::Teid) {
        if let Err(e) = self.handle.remove_user_plane(dl_teid) {
            tracing::debug!(dl_teid = dl_teid.get(), error = %e, "user plane already gone");
        }
    }

    fn send_gtpu_echo(&mut self, to: SocketAddr) -> Result<u16, SinkError> {
        self.handle
            .send_gtpu_echo(to)
            .map_err(|e| SinkError(e.to_string()))
    }

    fn user_plane_stats(&self) -> Vec<dataplane::UserPlaneStats> {
        self.handle.user_plane_stats()
    }

    fn retire(&mut self, _ike_sa: SaId, inbound_spi: EspSpi) {
        let Some(id) = self.installed.remove(&esp_spi(inbound_spi)) else {
            return;
        };
        if let Some(next) = self.rekeys.removed(esp_spi(inbound_spi))
            && let Err(e) = self.handle.activate_outbound(next)
        {
            tracing::debug!(error = %e, "successor of a removed Child SA is gone");
        }
        match self.handle.remove_child_sa(id) {
            Ok(()) => {
                tracing::info!(%inbound_spi, "Child SA removed from the datapath")
            }
            Err(e) => {
                tracing::warn!(%inbound_spi, error = %e, "cannot remove Child SA from the datapath")
            }
        }
    }

    fn move_peer(&mut self, inbound_spi: EspSpi, remote: SocketAddr) {
        let Some(id) = self.installed.get(&esp_spi(inbound_spi)).copied() else {
            return;
        };
        let peer = if self.encapsulation == Encapsulation::Udp {
            remote
        } else {
            SocketAddr::new(remote.ip(), 0)
        };
        match self.handle.set_peer(id, peer) {
            Ok(()) => {
                tracing::info!(%inbound_spi, %peer, "Child SA follows the peer's new address")
            }
            Err(e) => {
                tracing::warn!(%inbound_spi, error = %e, "cannot move Child SA to the peer's new address")
            }
        }
    }

    fn counters(&self) -> BTreeMap<EspSpi, ChildSaCounters> {
        let by_outbound: HashMap<Spi, Spi> = self
            .installed
            .iter()
            .map(|(i, id)| (id.outbound_spi, *i))
            .collect();
        let mut out: BTreeMap<EspSpi, ChildSaCounters> = BTreeMap::new();
        for s in self.handle.sa_stats() {
            let key = match s.direction {
                Direction::Inbound if self.installed.contains_key(&s.spi) => s.spi,
                Direction::Outbound => match by_outbound.get(&s.spi) {
                    Some(i) => *i,
                    None => continue,
                },
                _ => continue,
            };
            add_counters(out.entry(engine_spi(key)).or_default(), &s);
        }
        out
    }

    fn datapath_stats(&self) -> BTreeMap<String, u64> {
        stats_map(&self.handle.stats())
    }

    fn ike_address(&self) -> Option<SocketAddr> {
        self.ike_address
    }

    fn send_ike(&self, remote: SocketAddr, message: &[u8]) -> Result<(), SinkError> {
        self.handle
            .send_ike(remote, message)
            .map_err(|e| SinkError(e.to_string()))
    }

    fn send_nat_keepalive(&self, remote: SocketAddr) -> Result<(), SinkError> {
        self.handle
            .send_nat_keepalive(remote)
            .map_err(|e| SinkError(e.to_string()))
    }

    fn install_trap(
        &mut self,
        id: u32,
        local_ts: &[IpSelector],
        remote_ts: &[IpSelector],
    ) -> Result<(), SinkError> {
        let (sel, pairs) = selector(local_ts, remote_ts)?;
        if pairs > 1 {
            tracing::warn!(
                trap = id,
                pairs,
                "a trap covers only the first selector pair"
            );
        }
        self.handle.install_trap(id, sel);
        Ok(())
    }

    fn remove_trap(&mut self, id: u32) {
        self.handle.remove_trap(id);
    }

    fn take_events(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        self.events.take()
    }

    fn take_ike(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        self.ike.take()
    }

    fn take_lifetime_events(&mut self) -> Vec<LifetimeEvent> {
        self.handle
            .take_sa_events()
            .into_iter()
            .map(|r| LifetimeEvent {
                spi: engine_spi(r.spi),
                outbound: r.direction == Direction::Outbound,
                kind: match r.event {
                    SaEvent::SoftLifetime => LifetimeKind::Soft,
                    SaEvent::HardLifetime => LifetimeKind::Hard,
                    SaEvent::SequenceExhausted => LifetimeKind::SequenceExhausted,
                },
            })
            .collect()
    }

    fn health(&self) -> Result<(), String> {
        if !self.handle.workers_alive() {
            return Err("a datapath worker thread died".into());
        }
        match self.threads.iter().find(|t| t.is_finished()) {
            Some(t) => Err(format!(
                "the datapath thread {} ended",
                t.thread().name().unwrap_or("?")
            )),
            None => Ok(()),
        }
    }
}

/// The engine's name for an SPI as the datapath's. `ikev2` and `esp` do not know each other;
/// this and [`engine_spi`] are where the daemon crosses between them.
fn esp_spi(spi: EspSpi) -> Spi {
    Spi(spi.0)
}

/// The datapath's name for an SPI as the engine's.
fn engine_spi(spi: Spi) -> EspSpi {
    EspSpi(spi.0)
}

fn spawn(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, SinkError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| SinkError(format!("{name} thread: {e}")))
}

/// Runs on its own thread: the dataplane's channel is a blocking one. Ends when the dataplane
/// stops (its sender goes) or the daemon stops listening. These events are few (unknown SPIs
/// and acquires are rate-limited, lifetime doorbells coalesce), so waiting for room loses none.
fn forward_events(
    events: &std::sync::mpsc::Receiver<DataplaneEvent>,
    tx: &mpsc::Sender<DatapathEvent>,
) {
    for event in events {
        let out = match event {
            DataplaneEvent::SaEvents => DatapathEvent::LifetimesPending,
            DataplaneEvent::UnknownSpi { spi, from } => DatapathEvent::UnknownSpi {
                remote: from,
                spi: engine_spi(spi),
            },
            DataplaneEvent::Acquire { trap, src, dst } => DatapathEvent::Acquire { trap, src, dst },
            DataplaneEvent::GtpuErrorIndication { from, teid } => {
                DatapathEvent::GtpuErrorIndication {
                    upf: from,
                    teid: teid.get(),
                }
            }
            DataplaneEvent::GtpuEchoResponse { from, .. } => {
                DatapathEvent::GtpuEchoResponse { upf: from }
            }
            _ => continue,
        };
        if tx.blocking_send(out).is_err() {
            return;
        }
    }
}

/// Runs on its own thread: IKE messages from the dataplane's bounded queue to the daemon's.
/// While the daemon's queue is full this waits, the dataplane's queue fills, and the dataplane
/// counts what it drops (`ike_dropped`).
fn forward_ike(
    messages: &std::sync::mpsc::Receiver<IkeMessage>,
    tx: &mpsc::Sender<DatapathEvent>,
    local: SocketAddr,
) {
    for IkeMessage { from, message } in messages {
        let event = DatapathEvent::Ike {
            local,
            remote: from,
            data: message,
        };
        if tx.blocking_send(event).is_err() {
            return;
        }
    }
}

/// The engine's selectors as the datapath's single selector pair (the first pair of one
/// address family whose protocols agree), and the number of usable pairs.
fn selector(
    local: &[IpSelector],
    remote: &[IpSelector],
) -> Result<(TrafficSelector, usize), SinkError> {
    let mut usable = local
        .iter()
        .flat_map(|l| remote.iter().filter_map(move |r| pair(l, r)));
    let Some(first) = usable.next() else {
        let l: Vec<String> = local.iter().map(format_selector).collect();
        let r: Vec<String> = remote.iter().map(format_selector).collect();
        return Err(SinkError(format!(
            "no selector pair the datapath can enforce in {} === {}",
            l.join(","),
            r.join(",")
        )));
    };
    Ok((first, 1 + usable.count()))
}

fn pair(l: &IpSelector, r: &IpSelector) -> Option<TrafficSelector> {
    let protocol = match (l.ip_protocol, r.ip_protocol) {
        (0, 0) => None,
        (0, p) | (p, 0) => Some(p),
        (a, b) if a == b => Some(a),
        _ => return None,
    };
    let mut ts = TrafficSelector::new(
        AddrRange::new(l.start_addr, l.end_addr)?,
        AddrRange::new(r.start_addr, r.end_addr)?,
    );
    if l.start_addr.is_ipv4() != r.start_addr.is_ipv4() {
        return None;
    }
    ts.protocol = protocol;
    ts.local_ports = PortRange {
        start: l.start_port,
        end: l.end_port,
    };
    ts.remote_ports = PortRange {
        start: r.start_port,
        end: r.end_port,
    };
    Some(ts)
}

fn cipher(suite: &Negotiated) -> Result<Cipher, SinkError> {
    if let Some(a) = suite.aead() {
        return Ok(Cipher::Aead(a));
    }
    if let Some((cipher, integ)) = suite.cbc() {
        return Ok(Cipher::Cbc { cipher, integ });
    }
    Err(SinkError(format!(
        "the datapath has no ESP transform for {suite}"
    )))
}

fn esp_lifetime(l: TrafficLimits) -> Lifetime {
    Lifetime {
        soft_bytes: l.rekey_bytes,
        hard_bytes: l.life_bytes,
        soft_packets: l.rekey_packets,
        hard_packets: l.life_packets,
    }
}

fn add_counters(c: &mut ChildSaCounters, s: &SaStats) {
    let mut drops = s.selector_mismatches;
    if s.selector_mismatches != 0 {
        *c.drop_reasons
            .entry("selector_mismatch".into())
            .or_default() += s.selector_mismatches;
    }
    for r in DropReason::ALL {
        let n = s.drops.get(r);
        if n != 0 {
            drops += n;
            *c.drop_reasons.entry(r.as_str().into()).or_default() += n;
        }
    }
    c.drops += drops;
    match s.direction {
        Direction::Inbound => {
            c.bytes_in += s.bytes;
            c.packets_in += s.packets;
        }
        Direction::Outbound => {
            c.bytes_out += s.bytes;
            c.packets_out += s.packets;
        }
    }
}

fn stats_map(s: &DataplaneStats) -> BTreeMap<String, u64> {
    [
        ("tun_reads", s.tun_reads),
        ("tun_writes", s.tun_writes),
        ("tun_errors", s.tun_errors),
        ("segments_out", s.segments_out),
        ("segment_errors", s.segment_errors),
        ("no_policy", s.no_policy),
        ("esp_sent", s.esp_sent),
        ("send_calls", s.send_calls),
        ("send_errors", s.send_errors),
        ("gso_fallbacks", s.gso_fallbacks),
        ("recv_calls", s.recv_calls),
        ("datagrams_in", s.datagrams_in),
        ("malformed", s.malformed),
        ("unknown_spi", s.unknown_spi),
        ("unknown_spi_reports", s.unknown_spi_reports),
        ("trapped", s.trapped),
        ("acquires", s.acquires),
        ("keepalives", s.keepalives),
        ("ike_packets", s.ike_packets),
        ("ike_rate_limited", s.ike_rate_limited),
        ("ike_dropped", s.ike_dropped),
        ("events_dropped", s.events_dropped),
        ("sa_events", s.sa_events),
        ("sa_event_doorbells_lost", s.sa_event_doorbells_lost),
        ("coalesced", s.coalesced),
        ("inner_bad_checksums", s.inner_bad_checksums),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Runs `ip ARGS…` (routes, and IPv4 addresses beyond the first): `ipsec-sys` has no call for
/// them yet.
fn ip(args: &[&str]) -> Result<(), SinkError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| SinkError(format!("running ip: {e}")))?;
    if !out.status.success() {
        return Err(SinkError(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Datapath events waiting for the driver before the dataplane's thread blocks.
const EVENT_BACKLOG: usize = 1024;
/// IKE messages from the datapath waiting for the driver before its thread blocks.
const IKE_BACKLOG: usize = 64;

impl DataplaneSink {
    /// Installs both SAs; `unrouted` ones (user-plane SAs of PDU sessions) stay out of the SPD:
    /// the user-plane table sends on them, and their rekeys switch there too.
    fn install_pair(
        &mut self,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
        unrouted: bool,
    ) -> Result<(), SinkError> {
        let udp = self.encapsulation == Encapsulation::Udp;
        if child.udp_encapsulation && !udp {
            return Err(SinkError("a NAT was detected and this Child SA needs ESP in UDP, but the datapath runs raw ESP (dataplane.encapsulation = \"raw\")".into()));
        }
        if !child.udp_encapsulation && udp {
            return Err(SinkError("the peer did not agree to UDP encapsulation, which this datapath needs (dataplane.encapsulation = \"udp\")".into()));
        }
        let (selector, pairs) = selector(&child.local_ts, &child.remote_ts)?;
        if pairs > 1 {
            tracing::warn!(child = %child.name, pairs, "the datapath enforces one selector pair per Child SA: only the first is protected, traffic of the others is dropped");
        }
        let cipher = cipher(&child.suite)?;
        let esn = child.suite.esn_enabled();
        let peer = if udp {
            child.remote
        } else {
            SocketAddr::new(child.remote.ip(), 0)
        };
        let name = child.name.clone();
        // As rekey responder, keep sending on the old SA until the peer deletes it.
        let child_replaces = child.replaces;
        let deferred = child_replaces.filter(|_| !child.we_initiated);
        let ChildSa {
            inbound_spi,
            outbound_spi,
            inbound_keys,
            outbound_keys,
            ..
        } = child;
        let lifetime = esp_lifetime(limits);
        let sa = |spi, keys| {
            let mut c = SaConfig::new(spi, cipher, keys);
            c.esn = esn;
            c.lifetime = lifetime;
            c
        };
        let inbound = sa(esp_spi(inbound_spi), inbound_keys);
        let outbound = sa(esp_spi(outbound_spi), outbound_keys);
        let pair = dataplane::ChildSa {
            selector,
            peer,
            inbound,
            outbound,
        };
        let id = match (unrouted, deferred) {
            (true, _) => self.handle.install_child_sa_unrouted(pair),
            (false, Some(_)) => self.handle.install_child_sa_deferred(pair),
            (false, None) => self.handle.install_child_sa(pair),
        }
        .map_err(|e| SinkError(e.to_string()))?;
        self.installed.insert(esp_spi(inbound_spi), id);
        match (child_replaces, deferred) {
            _ if unrouted => {}
            (_, Some(old)) => self.rekeys.peer(esp_spi(old), id),
            (Some(old), None) => self.rekeys.ours(esp_spi(old), esp_spi(inbound_spi)),
            (None, None) => {}
        }
        tracing::info!(
            %connection,
            child = %name,
            %peer,
            %inbound_spi,
            %outbound_spi,
            encapsulation = if udp { "udp" } else { "esp" },
            "Child SA installed in the datapath"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> IpSelector {
        crate::config::traffic_selector(s).expect("selector")
    }

    #[test]
    fn selectors_become_one_pair() {
        let (sel, n) = selector(&[ts("10.1.0.0/16")], &[ts("10.2.0.0/16[tcp/443]")]).expect("pair");
        assert_eq!(n, 1);
        assert_eq!(sel.protocol, Some(6));
        assert_eq!(sel.remote_ports, PortRange::single(443));
        assert_eq!(sel.local_ports, PortRange::ANY);
        assert!(sel.local.contains("10.1.2.3".parse().expect("ip")));
        let (_, n) = selector(
            &[ts("10.1.0.0/16"), ts("::/0")],
            &[ts("10.2.0.0/16"), ts("fd00::/8")],
        )
        .expect("pairs");
        assert_eq!(n, 2);
        let e =
            selector(&[ts("10.1.0.0/16[udp]")], &[ts("10.2.0.0/16[tcp]")]).expect_err("disjoint");
        assert_eq!(
            e.0,
            "no selector pair the datapath can enforce in 10.1.0.0/16[udp] === 10.2.0.0/16[tcp]"
        );
    }

    #[test]
    fn limits_map_to_esp_lifetimes() {
        let l = esp_lifetime(TrafficLimits {
            rekey_bytes: Some(1),
            life_bytes: Some(2),
            rekey_packets: None,
            life_packets: Some(4),
        });
        assert_eq!(
            l,
            Lifetime {
                soft_bytes: Some(1),
                hard_bytes: Some(2),
                soft_packets: None,
                hard_packets: Some(4)
            }
        );
    }
}
