//! PDU sessions' user plane: the core's Child SA requests become engine CREATE_CHILD_SAs
//! (tagged with the core's request id), their outcomes and rekeys go back to the core, and the
//! core's user-plane sessions go to the datapath. GTP-U path supervision sends Echo Requests to
//! every UPF in use and counts those left unanswered.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use ::n3iwf::IkeSaRef;
use ::n3iwf::ids::Teid;
use ::n3iwf::ngap::TransportAddress;
use ::n3iwf::node::{ChildRequestId, UserPlaneChildRequest, UserPlaneSession};
use dataplane::{GTPU_PORT, GreProtocolType, Qfi, UserPlaneChildren};
use esp::Spi;
use ikev2::wire::IpSelector;
use ikev2::{ChildRequest, ChildTag, EspSpi, SaId, StatusNotify};

use super::{IkeSide, N3iwfGlue};
use crate::config::USER_PLANE_CHILD;

/// What the glue keeps of the user plane: the UPF of each session (for path supervision) and
/// the state of the Echo Requests.
#[derive(Debug, Default)]
pub(crate) struct UserPlaneState {
    /// DL TEID → the UPF's N3 address.
    upfs: BTreeMap<u32, SocketAddr>,
    /// The UPFs sent an Echo Request that has not been answered yet, with the number of
    /// rounds in a row they missed.
    unanswered: BTreeMap<SocketAddr, u32>,
    next_echo: Option<Instant>,
}

impl N3iwfGlue {
    /// `Output::CreateChildSa`: CREATE_CHILD_SA towards the UE; refused at once when the
    /// engine cannot queue it.
    pub(super) fn create_child(
        &mut self,
        ike: &mut dyn IkeSide,
        sa: IkeSaRef,
        request: &UserPlaneChildRequest,
    ) {
        let outcome = child_request(request).and_then(|r| ike.create_child(SaId::from(sa), r));
        if let Err(e) = outcome {
            tracing::warn!(ike_sa = %super::outputs::sa_name(sa), pdu_session_id = request.pdu_session_id.0, error = %e, "user-plane Child SA not requested");
            self.count("user_plane_child_requests_refused");
            self.core
                .handle_child_sa_failed(sa, request.id, Instant::now());
        }
    }

    /// A tagged Child SA of a UE is installed: created for the core's request `tag`, or a
    /// rekey of one (`replaces`). Returns whether the core knew the IKE SA.
    pub(crate) fn user_plane_child_up(
        &mut self,
        sa: SaId,
        tag: ChildTag,
        replaces: Option<EspSpi>,
        spis: (EspSpi, EspSpi),
        now: Instant,
    ) {
        let (inbound, outbound) = (spis.0.0, spis.1.0);
        let ike = IkeSaRef::from(sa);
        match replaces {
            None => self.core.handle_child_sa_created(
                ike,
                ChildRequestId(tag.0),
                inbound,
                outbound,
                now,
            ),
            Some(old) => self
                .core
                .handle_child_sa_rekeyed(ike, old.0, inbound, outbound, now),
        }
    }

    /// `Event::ChildSaFailed` of a request of the core.
    pub(crate) fn user_plane_child_failed(&mut self, sa: SaId, tag: ChildTag, now: Instant) {
        self.core
            .handle_child_sa_failed(IkeSaRef::from(sa), ChildRequestId(tag.0), now);
    }

    /// Whether the child of this tag on this IKE SA is the core's (a UE's user-plane SA).
    pub(crate) fn owns_child(&self, sa: SaId, tag: Option<ChildTag>) -> bool {
        tag.is_some() && self.has_ue(sa)
    }

    pub(super) fn user_plane_add(&mut self, ike: &mut dyn IkeSide, session: &UserPlaneSession) {
        let Some(dp) = self.datapath_session(session) else {
            self.count("user_plane_sessions_unusable");
            return;
        };
        let upf = dp.upf;
        match ike.sink().add_user_plane(dp) {
            Ok(()) => {
                self.user_plane.upfs.insert(session.dl_teid.0, upf);
                tracing::info!(ike_sa = %super::outputs::sa_name(session.sa), pdu_session_id = session.pdu_session_id.0, dl_teid = session.dl_teid.0, %upf, "PDU session user plane installed");
            }
            Err(e) => {
                tracing::error!(dl_teid = session.dl_teid.0, error = %e, "PDU session user plane not installed");
                self.count("user_plane_install_failures");
            }
        }
    }

    pub(super) fn user_plane_update(&mut self, ike: &mut dyn IkeSide, session: &UserPlaneSession) {
        let teid = dataplane::Teid(session.dl_teid.0);
        if let Err(e) = ike.sink().update_user_plane(teid, children(session)) {
            tracing::error!(dl_teid = session.dl_teid.0, error = %e, "rekeyed user plane not installed");
            self.count("user_plane_update_failures");
        }
    }

    pub(super) fn user_plane_remove(&mut self, ike: &mut dyn IkeSide, dl_teid: Teid) {
        ike.sink().remove_user_plane(dataplane::Teid(dl_teid.0));
        self.user_plane.upfs.remove(&dl_teid.0);
    }

    /// `DatapathEvent::GtpuErrorIndication`: the UPF lost the session of this UL TEID.
    pub(crate) fn gtpu_error_indication(&mut self, upf: SocketAddr, teid: u32, now: Instant) {
        tracing::warn!(%upf, ul_teid = teid, "GTP-U Error Indication: the UPF has no such session");
        self.core
            .handle_gtpu_error_indication(upf.ip(), Teid(teid), now);
    }

    /// `DatapathEvent::GtpuEchoResponse`: the path to the UPF is alive.
    pub(crate) fn gtpu_echo_response(&mut self, upf: SocketAddr) {
        if let Some(missed) = self.user_plane.unanswered.remove(&upf)
            && missed > 0
        {
            tracing::info!(%upf, missed, "GTP-U path to the UPF answers again");
        }
    }

    /// The next Echo round, when supervision is on and a UPF is in use.
    pub(super) fn echo_deadline(&self) -> Option<Instant> {
        self.user_plane.next_echo
    }

    /// Sends the Echo round when due: each UPF still silent since the last round counts a
    /// missed response.
    pub(crate) fn supervise(&mut self, ike: &mut dyn IkeSide, now: Instant) {
        let Some(interval) = self.settings.user_plane.echo_interval else {
            return;
        };
        if self.user_plane.upfs.is_empty() {
            self.user_plane.next_echo = None;
            self.user_plane.unanswered.clear();
            return;
        }
        match self.user_plane.next_echo {
            Some(t) if t > now => return,
            None => {
                self.user_plane.next_echo = Some(now + interval);
                return;
            }
            Some(_) => {}
        }
        self.echo_round(ike);
        self.user_plane.next_echo = Some(now + interval);
    }

    fn echo_round(&mut self, ike: &mut dyn IkeSide) {
        let upfs: BTreeSet<SocketAddr> = self.user_plane.upfs.values().copied().collect();
        self.user_plane.unanswered.retain(|u, _| upfs.contains(u));
        for upf in upfs {
            if let Some(missed) = self.user_plane.unanswered.get_mut(&upf) {
                *missed += 1;
                let missed = *missed;
                self.count("gtpu_echo_responses_missed");
                tracing::warn!(%upf, missed, "no GTP-U Echo Response from the UPF");
            }
            match ike.sink().send_gtpu_echo(upf) {
                Ok(_) => {
                    self.count("gtpu_echo_requests");
                    self.user_plane.unanswered.entry(upf).or_insert(0);
                }
                Err(e) => {
                    tracing::debug!(%upf, error = %e, "GTP-U Echo Request not sent");
                    self.count("gtpu_echo_requests_unsent");
                }
            }
        }
    }

    /// The datapath's form of a session; `None` when the UPF's address is of no family we
    /// can reach from the N3 address.
    fn datapath_session(&self, s: &UserPlaneSession) -> Option<dataplane::UserPlaneSession> {
        let n3 = self.settings.core.n3_address?;
        let upf = upf_address(&s.upf.address, n3.is_ipv6())?;
        let default_qfi = s
            .children
            .iter()
            .find(|c| c.default)
            .and_then(|c| c.qfis.first())
            .and_then(|q| Qfi::new(q.value()).ok())
            .unwrap_or(Qfi::from_low_bits(0));
        Some(dataplane::UserPlaneSession {
            dl_teid: dataplane::Teid(s.dl_teid.0),
            upf: SocketAddr::new(upf, GTPU_PORT),
            ul_teid: dataplane::Teid(s.upf.teid.0),
            ue_address: IpAddr::V4(s.ue_inner_address),
            up_address: s.up_address,
            pdu_address: None,
            children: children(s),
            default_qfi,
            gre_protocol: self.gre_protocol(),
        })
    }

    fn gre_protocol(&self) -> GreProtocolType {
        self.settings.user_plane.gre_protocol
    }

    /// PDU sessions whose user plane is installed, with their UPF.
    #[cfg(test)]
    pub(crate) fn user_plane_upfs(&self) -> &BTreeMap<u32, SocketAddr> {
        &self.user_plane.upfs
    }
}

/// The engine's request for the core's: the user-plane template, our UP address/32 and the
/// UE's inner address/32, the 3GPP notifies, and the core's request id as tag.
fn child_request(r: &UserPlaneChildRequest) -> Result<ChildRequest, String> {
    let notifies = r
        .notifies()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|n| {
            n.data().map(|data| StatusNotify {
                notify_type: n.notify_type().0,
                data,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(ChildRequest {
        template: USER_PLANE_CHILD.into(),
        local_ts: vec![host(r.up_address)],
        remote_ts: vec![host(IpAddr::V4(r.ue_inner_address))],
        notifies,
        tag: ChildTag(r.id.0),
    })
}

/// `address/32` (or /128), any protocol and port.
fn host(address: IpAddr) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: u16::MAX,
        start_addr: address,
        end_addr: address,
    }
}

/// The outbound SA per QFI, the default, and the inbound SAs of a session.
fn children(s: &UserPlaneSession) -> UserPlaneChildren {
    let mut by_qfi = Vec::new();
    let mut default_spi = Spi(0);
    for c in &s.children {
        if c.default {
            default_spi = Spi(c.outbound_spi);
        }
        for q in &c.qfis {
            if let Ok(qfi) = Qfi::new(q.value()) {
                by_qfi.push((qfi, Spi(c.outbound_spi)));
            }
        }
    }
    if default_spi == Spi(0)
        && let Some(first) = s.children.first()
    {
        default_spi = Spi(first.outbound_spi);
    }
    UserPlaneChildren {
        default_spi,
        by_qfi,
        inbound: s.children.iter().map(|c| Spi(c.inbound_spi)).collect(),
    }
}

/// The UPF's address of the family of our N3 address.
fn upf_address(address: &TransportAddress, v6: bool) -> Option<IpAddr> {
    match (address, v6) {
        (TransportAddress::V4(a) | TransportAddress::Dual(a, _), false) => Some(IpAddr::V4(*a)),
        (TransportAddress::V6(a) | TransportAddress::Dual(_, a), true) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}
