//! The UE's PDU session once registered (TS 24.502 §7.5, TS 24.501 §6.4.1): the request in
//! a UL NAS TRANSPORT, the N3IWF's CREATE_CHILD_SA answered by the engine, the user-plane
//! Child SA with its 5G_QOS_INFO and UP_IP4_ADDRESS, the ACCEPT with the PDU address, then
//! the traffic.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use ikev2::wire::NotifyType;
use ikev2::{ChildSa, StatusNotify};
use n3iwf::ids::PduSessionId;
use n3iwf::wire::notify3gpp::N3gppNotify;
use serde::Serialize;

use super::Session;
use crate::inner::gre::Qfi;
use crate::inner::{EspLink, StackConfig};
use crate::nas::SNssai;
use crate::nas::sm::Dnn;
use crate::ue::{NwuUe, PduSessionRequest, UeEvent, UePduSession};
use crate::ue_sim::summary::Phase;
use crate::ue_sim::traffic::{Traffic, TrafficReport};
use crate::ue_sim::user_plane::{UpCounters, UpSetup, UserPlane};

/// What a UE reports of its PDU session.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PduSessionReport {
    pub id: u8,
    pub pdu_address: Option<String>,
    pub qfis: Vec<u8>,
    /// The N3IWF's GRE end (UP_IP4_ADDRESS).
    pub n3iwf_up_address: Option<String>,
    /// The Child SA's SPIs, ours (inbound) and the N3IWF's.
    pub spi_in: Option<String>,
    pub spi_out: Option<String>,
    pub traffic: Option<TrafficReport>,
    pub user_plane: Option<UpCounters>,
}

/// Where the PDU session is.
#[derive(Default)]
pub(super) struct PduState {
    requested: Option<Instant>,
    create_child: Option<Instant>,
    child_up: Option<Instant>,
    accepted: Option<Instant>,
    child: Option<ChildSa>,
    session: Option<UePduSession>,
    pub(super) user_plane: Option<UserPlane>,
    pub(super) traffic: Option<Traffic>,
    pub(super) wake: Option<Instant>,
    report: PduSessionReport,
}

impl PduState {
    pub(super) fn done(&self) -> bool {
        self.traffic.as_ref().is_some_and(Traffic::is_done)
    }
}

impl Session {
    /// Asks for the PDU session of the plan, after REGISTRATION COMPLETE.
    pub(super) fn request_pdu_session(&mut self, id: u8) -> Result<(), String> {
        let request = PduSessionRequest {
            id: PduSessionId(id),
            snssai: SNssai::new(1, None),
            dnn: Dnn::new("internet").ok_or("DNN")?,
        };
        let pdu = self
            .nwu
            .nas()
            .request_pdu_session(&request)
            .map_err(|e| format!("PDU SESSION ESTABLISHMENT REQUEST: {e}"))?;
        self.uplink.extend_from_slice(&NwuUe::frame_uplink(&pdu));
        self.pdu.requested = Some(Instant::now());
        self.pdu.report.id = id;
        self.stage = "pdu-session";
        Ok(())
    }

    /// The N3IWF's CREATE_CHILD_SA request arrived (the first one after the request).
    pub(super) fn note_create_child(&mut self, now: Instant) {
        if let (Some(requested), None) = (self.pdu.requested, self.pdu.create_child) {
            self.pdu.create_child = Some(now);
            self.report.record(Phase::PduCreateChildSa, now - requested);
        }
    }

    /// A Child SA after the signalling one: the user plane, once the ACCEPT is there too.
    pub(super) fn user_plane_child(&mut self, child: ChildSa) -> Result<(), String> {
        if self.pdu.child.is_some() || self.pdu.user_plane.is_some() {
            return Ok(());
        }
        let now = Instant::now();
        self.pdu.child_up = Some(now);
        if let Some(at) = self.pdu.create_child.or(self.pdu.requested) {
            self.report.record(Phase::PduChildSaUp, now - at);
        }
        self.pdu.child = Some(child);
        self.stage = "pdu-accept";
        self.start_user_plane()
    }

    /// 5GSM events of the NAS side.
    pub(super) fn pdu_event(&mut self, event: UeEvent) -> Result<(), String> {
        match event {
            UeEvent::PduSessionEstablished(session) => {
                let now = Instant::now();
                self.pdu.accepted = Some(now);
                if let Some(up) = self.pdu.child_up.or(self.pdu.requested) {
                    self.report.record(Phase::PduAccept, now - up);
                }
                if let Some(requested) = self.pdu.requested {
                    self.report.record(Phase::PduTotal, now - requested);
                }
                self.pdu.session = Some(session);
                self.start_user_plane()
            }
            UeEvent::PduSessionRejected { id, cause } => Err(format!(
                "PDU SESSION ESTABLISHMENT REJECT for session {} (5GSM cause {cause:?})",
                id.0
            )),
            UeEvent::PduSessionReleased { id, .. } => {
                Err(format!("the network released PDU session {}", id.0))
            }
            _ => Ok(()),
        }
    }

    /// With both the Child SA and the ACCEPT: GRE on the Child SA, the stack on the PDU
    /// address, and the traffic.
    fn start_user_plane(&mut self) -> Result<(), String> {
        let (Some(session), Some(inner)) = (self.pdu.session.as_ref(), self.inner) else {
            return Ok(());
        };
        let Some(child) = self.pdu.child.take() else {
            return Ok(());
        };
        let (qos_qfis, n3iwf) = notifies(&child.peer_notifies)?;
        let pdu_address = session
            .address
            .ok_or("ACCEPT without an IPv4 PDU address")?;
        // The default QoS rule's QFI; the N3IWF's 5G_QOS_INFO must list it for this SA.
        let qfi = session.qfis.first().map(|q| q.value()).ok_or("no QFI")?;
        if !qos_qfis.is_empty() && !qos_qfis.contains(&qfi) {
            return Err(format!(
                "5G_QOS_INFO lists QFIs {qos_qfis:?}, not the default {qfi}"
            ));
        }
        let report = &mut self.pdu.report;
        report.pdu_address = Some(pdu_address.to_string());
        report.qfis = session.qfis.iter().map(|q| q.value()).collect();
        report.n3iwf_up_address = Some(n3iwf.to_string());
        report.spi_in = Some(format!("{:08x}", child.inbound_spi.0));
        report.spi_out = Some(format!("{:08x}", child.outbound_spi.0));
        let link = EspLink::from_child_sa(self.provider, child)
            .map_err(|e| format!("user-plane SA: {e}"))?;
        let plan = self.params.pdu_session.ok_or("no PDU session plan")?;
        let setup = UpSetup {
            inner,
            n3iwf,
            pdu_address,
            qfi: Qfi::new(qfi).ok_or("QFI")?,
            protocol: plan.gre,
        };
        let mut config = StackConfig::new(IpAddr::V4(pdu_address));
        config.random_seed = 0x9d0 ^ self.index as u64;
        let now = Instant::now();
        self.pdu.user_plane = Some(UserPlane::new(link, setup, config, now));
        self.pdu.traffic = Some(Traffic::new(plan.traffic, now));
        self.stage = "user-plane";
        Ok(())
    }

    /// Runs the traffic; its report once done.
    pub(super) fn user_plane_io(&mut self) {
        let (Some(up), Some(traffic)) = (self.pdu.user_plane.as_mut(), self.pdu.traffic.as_mut())
        else {
            return;
        };
        self.pdu.wake = traffic.step(up, Instant::now());
        if traffic.is_done() {
            self.pdu.report.traffic = Some(traffic.report().clone());
            self.pdu.report.user_plane = Some(up.counters());
            self.report.pdu_session = Some(self.pdu.report.clone());
        }
    }
}

/// The QFIs of 5G_QOS_INFO and the UP_IP4_ADDRESS of a user-plane Child SA.
fn notifies(notifies: &[StatusNotify]) -> Result<(Vec<u8>, Ipv4Addr), String> {
    let (mut qfis, mut address) = (Vec::new(), None);
    for n in notifies {
        match N3gppNotify::parse_data(NotifyType(n.notify_type), &n.data) {
            Ok(Some(N3gppNotify::QosInfo(info))) => {
                qfis.extend(info.qfis.iter().map(|q| q.value()));
            }
            Ok(Some(N3gppNotify::UpIp4Address(a))) => address = Some(a),
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "notify {} of the user-plane SA: {e}",
                    n.notify_type
                ));
            }
        }
    }
    let address = address.ok_or("the user-plane CREATE_CHILD_SA had no UP_IP4_ADDRESS")?;
    Ok((qfis, address))
}
