//! Where established Child SAs go: the datapath installs them, the logging sink only records.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use ikev2::{ChildSa, SaId};

use crate::config::format_selector;
use crate::proto::ChildSaCounters;

/// Receives the Child SAs the engine negotiates and retires them when their IKE SA goes.
///
/// [`install`](Self::install) takes the [`ChildSa`] by value: its keys move into the datapath
/// (or are zeroized when the value is dropped) and are never copied by the daemon.
pub trait ChildSaSink: Send + 'static {
    /// Installs both directions of a Child SA whose ESP goes to and comes from `peer` (the IKE
    /// SA's remote address).
    ///
    /// # Errors
    /// When the datapath cannot take the SA; the daemon logs it and keeps the IKE SA.
    fn install(&mut self, ike_sa: SaId, connection: &str, peer: SocketAddr, child: ChildSa) -> Result<(), SinkError>;

    /// Removes a Child SA, identified by the SPI of the packets we receive.
    fn retire(&mut self, ike_sa: SaId, inbound_spi: u32);

    /// Traffic counters of an installed Child SA.
    fn counters(&self, inbound_spi: u32) -> ChildSaCounters;
}

/// A sink that could not install a Child SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError(pub String);

/// Logs and records Child SAs without moving traffic; their keys are dropped (and zeroized) on
/// arrival. Used until the datapath is wired in, and in tests.
#[derive(Debug, Default)]
pub struct LoggingSink {
    installed: BTreeMap<u32, Installed>,
}

/// What [`LoggingSink`] keeps about a Child SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub ike_sa: SaId,
    pub connection: String,
    pub name: String,
    pub outbound_spi: u32,
    pub proposal: String,
}

impl LoggingSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Child SAs installed and not retired, by inbound SPI.
    pub fn installed(&self) -> &BTreeMap<u32, Installed> {
        &self.installed
    }
}

impl ChildSaSink for LoggingSink {
    fn install(&mut self, ike_sa: SaId, connection: &str, peer: SocketAddr, child: ChildSa) -> Result<(), SinkError> {
        let local: Vec<String> = child.local_ts.iter().map(format_selector).collect();
        let remote: Vec<String> = child.remote_ts.iter().map(format_selector).collect();
        tracing::info!(
            child = %child.name,
            %peer,
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

    fn retire(&mut self, _ike_sa: SaId, inbound_spi: u32) {
        if self.installed.remove(&inbound_spi).is_some() {
            tracing::info!(inbound_spi = %format_args!("{inbound_spi:08x}"), "Child SA removed");
        }
    }

    fn counters(&self, _inbound_spi: u32) -> ChildSaCounters {
        ChildSaCounters::default()
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}
