//! The control API of the N3IWF user plane: PDU sessions in, rekeys, removal, and GTP-U path
//! supervision (the owner runs the timers; the dataplane sends and reports).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use crate::config::{DataplaneError, io_err};
use crate::handle::DataplaneHandle;
use crate::user_plane::{UserPlaneChildren, UserPlaneSession, UserPlaneStats};
use userplane::{Teid, write_echo_request};

impl DataplaneHandle {
    /// Installs a PDU session's user plane. Its Child SAs should be installed first with
    /// [`DataplaneHandle::install_child_sa_unrouted`]: from now on ESP on its inbound SAs must
    /// carry GRE from the UE to the UP address and goes to the UPF as GTP-U, and G-PDUs to
    /// `dl_teid` go down the Child SA of their QFI (or the default). A downlink packet whose
    /// SA is not installed is dropped and counted (`up_no_sa`).
    ///
    /// # Errors
    /// [`DataplaneError::TeidInUse`], [`DataplaneError::SpiInUse`] when an inbound SPI belongs
    /// to another session, [`DataplaneError::InvalidUserPlane`] for TEID 0, mixed address
    /// families or too many inbound SAs.
    pub fn add_user_plane(&self, session: UserPlaneSession) -> Result<(), DataplaneError> {
        self.shared.table.update(|t| t.up.add(&session))
    }

    /// Rekeys a session's Child SAs: the QFI → SA mapping and the default switch at once (the
    /// workers take the new SAs from their next batch), and the new inbound SAs are added. The
    /// old inbound SAs keep delivering until they are removed with
    /// [`DataplaneHandle::remove_child_sa`], so nothing in flight is lost.
    ///
    /// # Errors
    /// [`DataplaneError::UnknownTeid`], or as [`DataplaneHandle::add_user_plane`] for the
    /// inbound SAs.
    pub fn update_user_plane(
        &self,
        dl_teid: Teid,
        children: UserPlaneChildren,
    ) -> Result<(), DataplaneError> {
        self.shared
            .table
            .update(|t| t.up.update(dl_teid, &children))
    }

    /// Removes a session's user plane (its Child SAs stay until removed): G-PDUs to `dl_teid`
    /// get Error Indications from now on.
    ///
    /// # Errors
    /// [`DataplaneError::UnknownTeid`].
    pub fn remove_user_plane(&self, dl_teid: Teid) -> Result<(), DataplaneError> {
        self.shared.table.update(|t| t.up.remove(dl_teid))
    }

    /// Every user-plane session's counters, by DL TEID.
    pub fn user_plane_stats(&self) -> Vec<UserPlaneStats> {
        self.shared.table.read().up.stats()
    }

    /// Number of user-plane sessions installed.
    pub fn user_plane_sessions(&self) -> usize {
        self.shared.table.read().up.len()
    }

    /// Sends a GTP-U Echo Request to `to` from the N3 socket and returns its sequence number;
    /// the answer comes as [`DataplaneEvent::GtpuEchoResponse`](crate::DataplaneEvent).
    ///
    /// # Errors
    /// [`DataplaneError::NoN3`] without an N3 socket; [`DataplaneError::Io`] when sending fails.
    pub fn send_gtpu_echo(&self, to: SocketAddr) -> Result<u16, DataplaneError> {
        let sock = self.n3_socket.as_ref().ok_or(DataplaneError::NoN3)?;
        let sequence = self.echo_sequence.fetch_add(1, Ordering::Relaxed);
        let mut msg = [0; 12];
        let n = write_echo_request(&mut msg, sequence).unwrap_or(0);
        sock.send_to(&msg[..n], to)
            .map_err(io_err("sending a GTP-U Echo Request"))?;
        Ok(sequence)
    }
}
