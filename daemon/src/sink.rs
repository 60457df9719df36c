//! Where established Child SAs go: the datapath installs them, the logging sink only records.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ikev2::wire::IpSelector;
use ikev2::{ChildSa, EspSpi, SaId};
use tokio::sync::mpsc;

use crate::config::{TrafficLimits, format_selector};
use crate::proto::ChildSaCounters;

/// Receives the Child SAs the engine negotiates and retires them when their IKE SA goes.
///
/// [`install`](Self::install) takes the [`ChildSa`] by value: its keys move into the datapath
/// (or are zeroized when the value is dropped) and are never copied by the daemon.
///
/// A datapath that owns the NAT-T port (ESP in UDP, RFC 3948) also carries IKE on it:
/// [`ike_address`](Self::ike_address) names the port, [`send_ike`](Self::send_ike) sends
/// there, and received IKE messages arrive as [`DatapathEvent::Ike`].
pub trait ChildSaSink: Send + 'static {
    /// Installs both directions of a Child SA (its outer addresses and encapsulation are in
    /// `child`), with the byte and packet `limits` of its template.
    ///
    /// # Errors
    /// When the datapath cannot take the SA; the daemon logs it and keeps the IKE SA.
    fn install(
        &mut self,
        ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
    ) -> Result<(), SinkError>;

    /// Installs a user-plane Child SA of a PDU session: both directions, but outside the
    /// policy table (no route to the TUN device); the user-plane table of
    /// [`add_user_plane`](Self::add_user_plane) sends on it.
    ///
    /// # Errors
    /// As [`install`](Self::install); without a datapath there is no user plane.
    fn install_unrouted(
        &mut self,
        ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        limits: TrafficLimits,
    ) -> Result<(), SinkError> {
        let _ = (ike_sa, connection, limits);
        drop(child);
        Err(SinkError(
            "the user plane needs the datapath ([dataplane])".into(),
        ))
    }

    /// Installs a PDU session's user plane (its Child SAs are installed already).
    ///
    /// # Errors
    /// When the datapath refuses it (a TEID or SPI in use) or there is none.
    fn add_user_plane(&mut self, session: dataplane::UserPlaneSession) -> Result<(), SinkError> {
        let _ = session;
        Err(SinkError(
            "the user plane needs the datapath ([dataplane])".into(),
        ))
    }

    /// Moves a session to the SAs of a rekey; the old inbound SAs deliver until retired.
    ///
    /// # Errors
    /// An unknown DL TEID, or SPIs in use.
    fn update_user_plane(
        &mut self,
        dl_teid: dataplane::Teid,
        children: dataplane::UserPlaneChildren,
    ) -> Result<(), SinkError> {
        let _ = (dl_teid, children);
        Err(SinkError(
            "the user plane needs the datapath ([dataplane])".into(),
        ))
    }

    /// Removes a session's user plane.
    fn remove_user_plane(&mut self, dl_teid: dataplane::Teid) {
        let _ = dl_teid;
    }

    /// Sends a GTP-U Echo Request to a UPF; returns its sequence number.
    ///
    /// # Errors
    /// No N3 socket, or sending failed.
    fn send_gtpu_echo(&mut self, to: SocketAddr) -> Result<u16, SinkError> {
        let _ = to;
        Err(SinkError(
            "the user plane needs the datapath ([dataplane])".into(),
        ))
    }

    /// Every user-plane session's traffic counters.
    fn user_plane_stats(&self) -> Vec<dataplane::UserPlaneStats> {
        Vec::new()
    }

    /// Removes a Child SA, identified by the SPI of the packets we receive.
    fn retire(&mut self, ike_sa: SaId, inbound_spi: EspSpi);

    /// Sends a Child SA's outbound packets to a new peer address (a NAT rebinding). With raw
    /// ESP only the address counts.
    fn move_peer(&mut self, inbound_spi: EspSpi, remote: SocketAddr) {
        let _ = (inbound_spi, remote);
    }

    /// Traffic counters of every installed Child SA, by inbound SPI.
    fn counters(&self) -> BTreeMap<EspSpi, ChildSaCounters>;

    /// Datapath-wide counters by name; empty without a datapath.
    fn datapath_stats(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }

    /// The socket address on which the datapath carries IKE behind the non-ESP marker; the
    /// daemon then leaves that port to it.
    fn ike_address(&self) -> Option<SocketAddr> {
        None
    }

    /// Sends an IKE message (not a NAT keepalive) from [`ike_address`](Self::ike_address),
    /// behind the non-ESP marker.
    ///
    /// # Errors
    /// When there is no such socket or sending fails.
    fn send_ike(&self, remote: SocketAddr, message: &[u8]) -> Result<(), SinkError> {
        let _ = (remote, message);
        Err(SinkError("this datapath carries no IKE".into()))
    }

    /// Sends a NAT-keepalive (one octet 0xFF, no marker) from
    /// [`ike_address`](Self::ike_address).
    ///
    /// # Errors
    /// When there is no such socket or sending fails.
    fn send_nat_keepalive(&self, remote: SocketAddr) -> Result<(), SinkError> {
        let _ = remote;
        Err(SinkError("this datapath carries no IKE".into()))
    }

    /// Installs (or replaces) trap policy `id` for a Child SA template with `start_action =
    /// "trap"`: matching traffic without an SA comes back as [`DatapathEvent::Acquire`].
    ///
    /// # Errors
    /// When the datapath cannot enforce the selectors, or has no traps.
    fn install_trap(
        &mut self,
        id: u32,
        local_ts: &[IpSelector],
        remote_ts: &[IpSelector],
    ) -> Result<(), SinkError> {
        let _ = (id, local_ts, remote_ts);
        Err(SinkError("traps need the datapath ([dataplane])".into()))
    }

    /// Removes trap policy `id`.
    fn remove_trap(&mut self, id: u32) {
        let _ = id;
    }

    /// The datapath's events; the daemon takes them once, at start.
    fn take_events(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        None
    }

    /// IKE messages received on [`ike_address`](Self::ike_address), each a
    /// [`DatapathEvent::Ike`], already admitted per source and bounded by the datapath; the
    /// daemon takes them once, at start, and queues them with those of its own sockets.
    fn take_ike(&mut self) -> Option<mpsc::Receiver<DatapathEvent>> {
        None
    }

    /// The lifetime events raised since the last call. They are kept until collected, so none
    /// is lost: the daemon calls this on [`DatapathEvent::LifetimesPending`] and once a second.
    fn take_lifetime_events(&mut self) -> Vec<LifetimeEvent> {
        Vec::new()
    }

    /// Why the datapath no longer works (a worker thread died), if it does not.
    ///
    /// # Errors
    /// The reason, for the daemon to exit on.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

/// What a datapath reports to the daemon.
#[derive(Debug)]
#[non_exhaustive]
pub enum DatapathEvent {
    /// An IKE message received on the datapath's UDP port, without the non-ESP marker.
    Ike {
        local: SocketAddr,
        remote: SocketAddr,
        data: Vec<u8>,
    },
    /// ESP from `remote` for an SPI the datapath does not have (rate-limited).
    UnknownSpi { remote: SocketAddr, spi: EspSpi },
    /// Outbound traffic from `src` to `dst` hit trap policy `trap` and no SA (rate-limited);
    /// the packet was dropped.
    Acquire { trap: u32, src: IpAddr, dst: IpAddr },
    /// SAs reached a byte or packet lifetime or used up their sequence numbers: collect them
    /// with [`ChildSaSink::take_lifetime_events`].
    LifetimesPending,
    /// A UPF has no context for the UL TEID `teid` we sent a G-PDU to (rate-limited).
    GtpuErrorIndication { upf: SocketAddr, teid: u32 },
    /// A UPF answered a GTP-U Echo Request (rate-limited per UPF).
    GtpuEchoResponse { upf: SocketAddr },
}

/// An SA that reached a byte or packet lifetime or used up its sequence numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifetimeEvent {
    pub spi: EspSpi,
    pub outbound: bool,
    pub kind: LifetimeKind,
}

/// Which limit an SA reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifetimeKind {
    /// Rekey the Child SA.
    Soft,
    /// The SA stopped; delete the Child SA.
    Hard,
    /// No sequence number is left to send with (RFC 4303 §3.3.3); rekey it.
    SequenceExhausted,
}

/// A sink that could not install a Child SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError(pub String);

/// Logs and records Child SAs without moving traffic; their keys are dropped (and zeroized) on
/// arrival. Used until the datapath is wired in, and in tests.
#[derive(Debug, Default)]
pub struct LoggingSink {
    installed: BTreeMap<EspSpi, Installed>,
}

/// What [`LoggingSink`] keeps about a Child SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub ike_sa: SaId,
    pub connection: String,
    pub name: String,
    pub outbound_spi: EspSpi,
    pub proposal: String,
}

impl LoggingSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Child SAs installed and not retired, by inbound SPI.
    pub fn installed(&self) -> &BTreeMap<EspSpi, Installed> {
        &self.installed
    }
}

impl ChildSaSink for LoggingSink {
    fn install(
        &mut self,
        ike_sa: SaId,
        connection: &str,
        child: ChildSa,
        _limits: TrafficLimits,
    ) -> Result<(), SinkError> {
        let local: Vec<String> = child.local_ts.iter().map(format_selector).collect();
        let remote: Vec<String> = child.remote_ts.iter().map(format_selector).collect();
        tracing::info!(
            child = %child.name,
            peer = %child.remote,
            inbound_spi = %format_args!("{:08x}", child.inbound_spi),
            outbound_spi = %format_args!("{:08x}", child.outbound_spi),
            proposal = %child.suite,
            local_ts = %local.join(","),
            remote_ts = %remote.join(","),
            "Child SA recorded (no datapath: traffic is not protected)"
        );
        let record = Installed {
            ike_sa,
            connection: connection.into(),
            name: child.name.clone(),
            outbound_spi: child.outbound_spi,
            proposal: child.suite.to_string(),
        };
        self.installed.insert(child.inbound_spi, record);
        Ok(())
    }

    fn retire(&mut self, _ike_sa: SaId, inbound_spi: EspSpi) {
        if self.installed.remove(&inbound_spi).is_some() {
            tracing::info!(%inbound_spi, "Child SA removed");
        }
    }

    fn counters(&self) -> BTreeMap<EspSpi, ChildSaCounters> {
        BTreeMap::new()
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}
