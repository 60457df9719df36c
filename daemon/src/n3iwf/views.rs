//! What `list-ues`, `list-amfs` and `stats` show of the N3IWF.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ::n3iwf::AmfRef;
use ::n3iwf::ngap::procedure_name;
use ::n3iwf::node::{Direction, Stats};
use n2_transport::{LowerLayer, TransportKind};

use super::outputs::sa_name;
use super::{AmfLink, N3iwfGlue};
use crate::config::AmfSettings;
use crate::proto::{AmfView, N3iwfStatsView, NgapCountView, UeTimingsView, UeView};

impl N3iwfGlue {
    /// Every UE context, by IKE SA.
    pub(crate) fn ue_views(&self) -> Vec<UeView> {
        let mut ues: Vec<UeView> = self
            .core
            .ues()
            .map(|u| UeView {
                ike_sa: sa_name(u.ike_sa),
                outer: u.outer.to_string(),
                amf: u.amf.map(|a| self.label(a).to_string()),
                ran_ue_ngap_id: u.ran_ue_ngap_id.map(|r| r.0),
                amf_ue_ngap_id: u.amf_ue_ngap_id.map(|a| a.value()),
                state: u.state.into(),
                inner_address: u.inner_address.map(|a| a.to_string()),
                timings: UeTimingsView {
                    amf_wait_micros: micros(u.timings.amf_time),
                    eap_success_micros: u.timings.kn3iwf.map(micros),
                    signalling_sa_micros: u.timings.signalling_sa_up.map(micros),
                    nas_tcp_micros: u.timings.nas_tcp_ready.map(micros),
                },
            })
            .collect();
        ues.sort_by(|a, b| a.ike_sa.cmp(&b.ike_sa));
        ues
    }

    /// Every configured AMF, in configuration order.
    pub(crate) fn amf_views(&self, now: Instant) -> Vec<AmfView> {
        let mut per_amf: BTreeMap<AmfRef, usize> = BTreeMap::new();
        for u in self.core.ues() {
            if let Some(a) = u.amf {
                *per_amf.entry(a).or_default() += 1;
            }
        }
        self.core
            .amfs()
            .zip(&self.amfs)
            .zip(&self.settings.amfs)
            .map(|((core, link), settings)| {
                let ues = per_amf.get(&core.amf).copied().unwrap_or(0);
                amf_view(settings, link, &core, ues, now)
            })
            .collect()
    }

    pub(crate) fn stats_view(&self, now: Instant) -> N3iwfStatsView {
        let stats = self.core.stats();
        let causes = |it: &mut dyn Iterator<Item = (::n3iwf::node::EndCause, u64)>| {
            it.map(|(c, n)| (c.as_str().to_string(), n)).collect()
        };
        N3iwfStatsView {
            ues: self.core.ue_count(),
            inner_addresses_in_use: self.core.inner_addresses_in_use(),
            eap_started: stats.eap_started,
            registrations: stats.registrations,
            failures: causes(&mut stats.failures()),
            releases: causes(&mut stats.releases()),
            ngap: ngap_counts(stats),
            counters: self.counters(stats),
            amfs: self.amf_views(now),
        }
    }

    fn counters(&self, s: &Stats) -> BTreeMap<String, u64> {
        [
            ("ngap_refused", s.ngap_refused),
            ("error_indications_sent", s.error_indications_sent),
            ("eap_duplicates", s.eap_duplicates),
            ("ul_nas", s.ul_nas),
            ("dl_nas", s.dl_nas),
            ("dl_nas_queued", s.dl_nas_queued),
            ("dl_nas_not_delivered", s.dl_nas_not_delivered),
            ("nas_tcp_refused", s.nas_tcp_refused),
            ("nas_tcp_framing_errors", s.nas_tcp_framing_errors),
            ("release_command_timeouts", s.release_command_timeouts),
            ("ng_setup_retries", s.ng_setup_retries),
            ("unknown_references", s.unknown_references),
            ("pdu_sessions_set_up", s.sessions_set_up),
            ("pdu_sessions_failed", s.sessions_failed),
            ("pdu_sessions_released", s.sessions_released),
            ("user_plane_child_sa_requests", s.child_sa_requests),
            ("user_plane_child_sa_failures", s.child_sa_failures),
            ("user_plane_child_sa_rekeys", s.child_sa_rekeys),
            ("gtpu_error_indications", s.gtpu_error_indications),
        ]
        .into_iter()
        .chain(self.counters.iter().map(|(k, v)| (*k, *v)))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

fn amf_view(
    settings: &AmfSettings,
    link: &AmfLink,
    core: &::n3iwf::node::AmfView,
    ues: usize,
    now: Instant,
) -> AmfView {
    let up = link.up.as_ref();
    AmfView {
        name: settings.label.clone(),
        address: settings.address.to_string(),
        transport: transport_name(settings.transport).into(),
        association: if up.is_some() { "up" } else { "down" }.into(),
        ng_setup: core.state.into(),
        amf_name: core.name.clone(),
        served_guamis: core.served_guamis,
        relative_capacity: core.relative_capacity,
        outbound_streams: up.map(|a| a.streams.outbound),
        inbound_streams: up.map(|a| a.streams.inbound),
        up_secs: up.map(|a| now.saturating_duration_since(a.since).as_secs()),
        connects: link.connects,
        connect_failures: link.connect_failures,
        losses: link.losses,
        restarts: link.restarts,
        last_error: link.last_error.clone(),
        ues,
    }
}

fn ngap_counts(stats: &Stats) -> Vec<NgapCountView> {
    stats
        .ngap()
        .map(|(code, direction, messages)| NgapCountView {
            procedure: procedure_name(code).map_or_else(|| code.to_string(), str::to_string),
            code,
            direction: match direction {
                Direction::Sent => "sent",
                Direction::Received => "received",
            }
            .into(),
            messages,
        })
        .collect()
}

/// The transport as listings name it.
pub(crate) fn transport_name(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Kernel => "kernel",
        TransportKind::Usrsctp(LowerLayer::RawIp) => "usrsctp/raw",
        TransportKind::Usrsctp(LowerLayer::Udp { .. }) => "usrsctp/udp",
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
