//! Where the driver meets the N3IWF glue (`crate::n3iwf`): engine events of UEs' IKE SAs go
//! to it, its inputs and deadline are served by the engine task, and it acts on the engine
//! through [`IkeSide`].

use std::time::Instant;

use ikev2::{ChildRequest, EapStep, EspSpi, Event, SaId};

use super::{ConnEntry, Driver, LoadView};
use crate::config::{Config, N3IWF_CONNECTION};
use crate::n3iwf::{IkeSide, N3iwfGlue, N3iwfInput};
use crate::proto::ErrorCode;

impl Driver {
    /// Runs `f` on the glue (when the daemon is an N3IWF), then acts on the core's outputs.
    fn with_n3iwf(&mut self, f: impl FnOnce(&mut N3iwfGlue, Instant)) {
        let Some(mut glue) = self.n3iwf.take() else {
            return;
        };
        f(&mut glue, Instant::now());
        glue.drain(self);
        self.n3iwf = Some(glue);
    }

    pub(super) fn n3iwf_input(&mut self, input: N3iwfInput) {
        self.with_n3iwf(|g, now| g.input(input, now));
    }

    pub(super) fn n3iwf_deadline(&self) -> Option<Instant> {
        self.n3iwf.as_ref().and_then(N3iwfGlue::poll_timeout)
    }

    pub(super) fn n3iwf_timeout(&mut self, now: Instant) {
        if self.n3iwf_deadline().is_some_and(|t| t <= now) {
            self.with_n3iwf(|g, now| g.handle_timeout(now));
        }
    }

    /// `Event::EapStarted` and `Event::EapMessage`: the N3IWF's connection runs EAP-5G; any
    /// other EAP is failed (iked runs no other EAP method).
    pub(super) fn n3iwf_eap(&mut self, sa: SaId, message: Option<Vec<u8>>) {
        let snapshot = self.endpoint.sa(sa);
        let ours = snapshot
            .as_ref()
            .is_some_and(|s| s.connection == N3IWF_CONNECTION);
        let known = self.n3iwf.as_ref().is_some_and(|g| g.has_ue(sa));
        match (message, snapshot) {
            (None, Some(s)) if ours && self.n3iwf.is_some() => {
                self.with_n3iwf(|g, now| g.eap_started(sa, s.remote, now));
            }
            (Some(m), _) if known => self.with_n3iwf(|g, now| g.eap_message(sa, &m, now)),
            _ => {
                // EAP packets are never logged.
                tracing::info!(ike_sa = %super::sa_name(sa), "the peer asked for EAP, which only the N3IWF's connection runs: failing it");
                let _ = self
                    .endpoint
                    .eap_respond(Instant::now(), sa, EapStep::Failure);
            }
        }
    }

    /// The events the glue follows for UEs' IKE SAs, after the driver's own handling. EAP
    /// events go through [`Driver::n3iwf_eap`] instead.
    pub(super) fn n3iwf_note(&mut self, event: &Event) {
        match event {
            Event::IkeSaFailed { sa, error } => {
                if let Some(g) = self.n3iwf.as_mut() {
                    g.ike_sa_failed(*sa, error);
                }
            }
            Event::IkeSaClosed { sa, reason } => {
                let (sa, reason) = (*sa, *reason);
                self.with_n3iwf(|g, now| g.ike_sa_closed(sa, reason, now));
            }
            Event::IkeSaRekeyed { old, new } => {
                let (old, new) = (*old, *new);
                self.with_n3iwf(|g, now| g.ike_sa_rekeyed(old, new, now));
            }
            Event::PeerAddressChanged { sa, remote, .. } => {
                let (sa, remote) = (*sa, *remote);
                self.with_n3iwf(|g, now| g.peer_moved(sa, remote, now));
            }
            Event::ChildSaFailed {
                sa,
                tag: Some(tag),
                reason,
                ..
            } => {
                let (sa, tag) = (*sa, *tag);
                if self.n3iwf.as_ref().is_some_and(|g| g.has_ue(sa)) {
                    tracing::info!(ike_sa = %super::sa_name(sa), %tag, ?reason, "user-plane Child SA not created");
                    self.with_n3iwf(|g, now| g.user_plane_child_failed(sa, tag, now));
                }
            }
            _ => {}
        }
    }

    /// A user-plane Child SA is in the datapath (or could not be put there: then it is
    /// deleted and the core told it failed).
    pub(super) fn n3iwf_user_plane_child(
        &mut self,
        sa: SaId,
        tag: ikev2::ChildTag,
        replaces: Option<EspSpi>,
        spis: (EspSpi, EspSpi),
        installed: bool,
    ) {
        if installed {
            self.with_n3iwf(|g, now| g.user_plane_child_up(sa, tag, replaces, spis, now));
            return;
        }
        let _ = self.endpoint.close_child(Instant::now(), sa, spis.0);
        if replaces.is_none() {
            self.with_n3iwf(|g, now| g.user_plane_child_failed(sa, tag, now));
        }
    }

    /// GTP-U Error Indications and Echo Responses from the datapath's N3 socket.
    pub(super) fn n3iwf_gtpu(&mut self, event: crate::sink::DatapathEvent) {
        use crate::sink::DatapathEvent as E;
        match event {
            E::GtpuErrorIndication { upf, teid } => {
                self.with_n3iwf(|g, now| g.gtpu_error_indication(upf, teid, now));
            }
            E::GtpuEchoResponse { upf } => {
                if let Some(g) = self.n3iwf.as_mut() {
                    g.gtpu_echo_response(upf);
                }
            }
            _ => {}
        }
    }

    /// A Child SA is in the datapath; the first one of a UE's IKE SA is its signalling SA.
    pub(super) fn n3iwf_child_installed(&mut self, sa: SaId, first: bool) {
        if first {
            self.with_n3iwf(|g, now| g.signalling_sa_up(sa, now));
        }
    }

    /// `[n3iwf]` is read at start only: a reload keeps the running N3IWF's connection (and its
    /// UEs' SAs) whatever the new file says, and warns when it differs.
    pub(super) fn n3iwf_hold(
        &mut self,
        config: &mut Config,
        view: &mut LoadView,
    ) -> Option<ConnEntry> {
        let pos = config
            .connections
            .iter()
            .position(|c| c.name == N3IWF_CONNECTION && config.n3iwf.is_some());
        let new = pos.map(|i| config.connections.remove(i));
        let held = self
            .conns
            .iter()
            .position(|c| c.conn.name == N3IWF_CONNECTION && self.n3iwf.is_some())
            .map(|i| self.conns.remove(i));
        let running = self.n3iwf.as_ref().map(N3iwfGlue::settings);
        let same = match (&held, &new, running, &config.n3iwf) {
            (Some(h), Some(n), Some(a), Some(b)) => h.conn.same_as(n) && a.same_as(b),
            (None, None, None, None) => true,
            _ => false,
        };
        if !same {
            view.warnings
                .push("[n3iwf] settings changed; they apply when iked restarts".into());
        }
        if held.is_some() {
            view.unchanged.push(N3IWF_CONNECTION.into());
        }
        held
    }
}

impl Driver {
    /// A view of the N3IWF, or the error saying there is none.
    pub(super) fn n3iwf_view<T>(
        &self,
        f: impl FnOnce(&N3iwfGlue) -> T,
    ) -> Result<T, (ErrorCode, String)> {
        self.n3iwf.as_ref().map(f).ok_or_else(|| {
            (
                ErrorCode::NotFound,
                "this daemon is not an N3IWF ([n3iwf] is not configured)".into(),
            )
        })
    }

    /// The N3IWF section of `stats`.
    pub(super) fn n3iwf_stats(&self) -> Option<crate::proto::N3iwfStatsView> {
        self.n3iwf.as_ref().map(|g| g.stats_view(Instant::now()))
    }
}

impl IkeSide for Driver {
    fn eap_respond(&mut self, sa: SaId, step: EapStep) -> bool {
        self.endpoint.eap_respond(Instant::now(), sa, step).is_ok()
    }

    fn create_child(&mut self, sa: SaId, request: ChildRequest) -> Result<(), String> {
        self.endpoint
            .create_child_with(Instant::now(), sa, request)
            .map_err(|e| e.to_string())
    }

    fn close_child(&mut self, sa: SaId, inbound_spi: EspSpi) {
        if let Err(e) = self.endpoint.close_child(Instant::now(), sa, inbound_spi) {
            tracing::debug!(ike_sa = %super::sa_name(sa), %inbound_spi, error = %e, "user-plane Child SA already gone");
        }
    }

    fn sink(&mut self) -> &mut dyn crate::sink::ChildSaSink {
        self.sink.as_mut()
    }

    fn close_ike_sa(&mut self, sa: SaId, reason: &str) {
        if self.sas.contains_key(&sa) {
            self.detach(sa, reason);
        } else {
            // Not established yet: a DELETE goes out if it ever is; until then the half-open
            // timeout reaps it.
            let _ = self.endpoint.close(Instant::now(), sa);
        }
    }
}
