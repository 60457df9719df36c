//! On-traffic initiation (`start_action = "trap"`) and INVALID_SPI reports: the datapath holds a
//! trap policy per child of a trap connection; traffic that matches one and no SA arrives as an
//! acquire, and the connection is initiated unless it already has an IKE SA. Trapped packets
//! are dropped by the datapath (the sender's retransmission goes through once the SA is up).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ikev2::EspSpi;

use super::{ConnEntry, Driver};
use crate::config::StartAction;

impl Driver {
    /// Installs the trap policies of connection `name` (if it is a trap connection).
    pub(super) fn install_traps(&mut self, name: &str) {
        let Some(entry) = self.conns.iter().find(|c| c.conn.name == name) else {
            return;
        };
        if entry.conn.start_action != StartAction::Trap {
            return;
        }
        let children: Vec<String> = entry.conn.children.iter().map(|c| c.name.clone()).collect();
        self.trap_children(name, &children);
    }

    /// Installs a trap policy for each of `children` of connection `name` that has none yet
    /// (`start_action`, `dpd_action` or `close_action` = "trap").
    pub(super) fn trap_children(&mut self, name: &str, children: &[String]) {
        let Some(pos) = self.conns.iter().position(|c| c.conn.name == name) else {
            return;
        };
        let wanted: Vec<_> = self.conns[pos]
            .conn
            .children
            .iter()
            .filter(|c| children.contains(&c.name))
            .filter(|c| !self.conns[pos].traps.iter().any(|(_, n)| *n == c.name))
            .map(|c| (c.name.clone(), c.local_ts.clone(), c.remote_ts.clone()))
            .collect();
        for (child, local, remote) in wanted {
            self.next_trap += 1;
            let id = self.next_trap;
            match self.sink.install_trap(id, &local, &remote) {
                Ok(()) => {
                    tracing::info!(connection = %name, %child, trap = id, "trap policy installed");
                    self.conns[pos].traps.push((id, child));
                    self.trap_owner.insert(id, name.to_string());
                }
                Err(e) => {
                    tracing::warn!(connection = %name, %child, error = %e.0, "no trap policy: the trap action acts as none");
                }
            }
        }
    }

    /// Removes the trap policies of a connection leaving the configuration or changing.
    pub(super) fn drop_traps(&mut self, entry: &mut ConnEntry) {
        for (id, _) in std::mem::take(&mut entry.traps) {
            self.sink.remove_trap(id);
            self.trap_owner.remove(&id);
        }
    }

    /// Traffic hit a trap: initiate its connection unless an IKE SA exists or is coming.
    pub(super) fn acquire(&mut self, trap: u32, src: IpAddr, dst: IpAddr) {
        let Some(name) = self.trap_owner.get(&trap).cloned() else {
            tracing::debug!(trap, "acquire for a removed trap");
            return;
        };
        self.count("acquires");
        if self.sas.values().any(|e| e.connection == name) {
            return;
        }
        tracing::info!(connection = %name, %src, %dst, "traffic hit a trap policy: initiating");
        if let Err((_, e)) = self.initiate(&name) {
            self.count("acquire_failures");
            tracing::warn!(connection = %name, error = %e, "start_action = trap: cannot initiate");
        }
    }

    /// ESP for an SPI we do not have. It may be a Child SA we are still installing (the peer
    /// that answered our CREATE_CHILD_SA sends on it at once), so the report waits
    /// [`INVALID_SPI_GRACE`] and goes out only if the SPI is still not ours.
    pub(super) fn unknown_spi(&mut self, remote: SocketAddr, spi: EspSpi) {
        if self.unknown_spis.len() >= MAX_PENDING_REPORTS
            || self.unknown_spis.iter().any(|(_, _, s)| *s == spi)
        {
            return;
        }
        self.unknown_spis
            .push((Instant::now() + INVALID_SPI_GRACE, remote, spi));
    }

    /// When the next pending unknown-SPI report is due.
    pub(super) fn unknown_spi_deadline(&self) -> Option<Instant> {
        self.unknown_spis.iter().map(|(t, _, _)| *t).min()
    }

    /// Sends the reports that are due: INVALID_SPI (RFC 7296 §1.5) in the IKE SA with that
    /// peer, if any.
    pub(super) fn report_unknown_spis(&mut self, now: Instant) {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.unknown_spis)
            .into_iter()
            .partition(|(t, _, _)| *t <= now);
        self.unknown_spis = later;
        for (_, remote, spi) in due {
            let ours = self
                .sas
                .values()
                .any(|e| e.children.iter().any(|c| c.inbound_spi == spi));
            if ours {
                continue;
            }
            if self
                .endpoint
                .report_invalid_spi(now, remote.ip(), spi)
                .is_ok()
            {
                self.count("invalid_spi_reported");
                tracing::debug!(%remote, %spi, "ESP with an unknown SPI: INVALID_SPI sent");
            } else {
                self.count("invalid_spi_unreported");
                tracing::debug!(%remote, %spi, "ESP with an unknown SPI from a peer without an IKE SA");
            }
        }
    }
}

/// How long an unknown SPI may take to become one of our Child SAs before it is reported.
const INVALID_SPI_GRACE: Duration = Duration::from_secs(1);
/// Reports waiting for their grace period.
const MAX_PENDING_REPORTS: usize = 64;
