//! What `list-conns`, `list-sas` and `stats` show.

use std::collections::BTreeMap;

use ikev2::{EspSpi, SaId};

use super::{ChildRecord, Driver, SaEntry, SaState, sa_name};
use crate::config::{Connection, PpkSourceKind, format_selector};
use crate::proto::{
    ChildConfView, ChildSaCounters, ChildSaView, ChildStatsView, ConnView, IkeSaView, StatsView,
};

impl Driver {
    pub(super) fn stats(&self) -> StatsView {
        let engine = self
            .endpoint
            .stats()
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let counters = self.sink.counters();
        let children = self
            .sas
            .iter()
            .flat_map(|(id, e)| {
                let counters = &counters;
                e.children.iter().map(move |c| ChildStatsView {
                    connection: e.connection.clone(),
                    ike_sa: sa_name(*id),
                    child: c.name.clone(),
                    inbound_spi: format!("{:08x}", c.inbound_spi),
                    outbound_spi: format!("{:08x}", c.outbound_spi),
                    counters: counters.get(&c.inbound_spi).cloned().unwrap_or_default(),
                })
            })
            .collect::<Vec<_>>();
        StatsView {
            uptime_secs: self.started.elapsed().as_secs(),
            engine,
            ike_sas: self.sas.len(),
            ike_sas_established: self
                .sas
                .values()
                .filter(|e| e.state == SaState::Established)
                .count(),
            child_sas: children.len(),
            children,
            daemon: self
                .counters
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .chain(
                    self.sockets
                        .counters
                        .fields()
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v)),
                )
                .collect(),
            datapath: self.sink.datapath_stats(),
            n3iwf: self.n3iwf_stats(),
        }
    }

    pub(super) fn conn_view(&self, c: &Connection) -> ConnView {
        let hybrid = if c.hybrid_explicit {
            c.hybrid.as_str().to_string()
        } else {
            format!("{} (inferred)", c.hybrid.as_str())
        };
        ConnView {
            name: c.name.clone(),
            local_addrs: c.local_addrs.iter().map(ToString::to_string).collect(),
            remote_addrs: c.remote_addrs.iter().map(ToString::to_string).collect(),
            remote_port: c.remote_port,
            local_id: c.local_id.clone(),
            remote_id: c.remote_id.clone(),
            auth: c.auth_method().as_str().into(),
            proposals: c.proposals.clone(),
            start_action: c.start_action.as_str().into(),
            fragment_size: c.fragment_size,
            ppk_id: c
                .ppk
                .as_ref()
                .filter(|p| p.source == PpkSourceKind::Secrets)
                .map(|p| p.id.clone()),
            ppk_required: c.ppk.as_ref().is_some_and(|p| p.required),
            ppk_source: c.ppk.as_ref().map(|p| match p.source {
                PpkSourceKind::Secrets => "secrets".into(),
                PpkSourceKind::Qkd => "qkd".into(),
            }),
            hybrid,
            qkd_fallback: c.qkd_fallback,
            qkd_peer_sae_id: c.qkd_peer_sae_id.clone(),
            children: c
                .children
                .iter()
                .map(|ch| ChildConfView {
                    name: ch.name.clone(),
                    local_ts: ch.local_ts.iter().map(format_selector).collect(),
                    remote_ts: ch.remote_ts.iter().map(format_selector).collect(),
                    esp_proposals: ch.esp_proposals.clone(),
                })
                .collect(),
            ike_sas: self.sas.values().filter(|e| e.connection == c.name).count(),
        }
    }

    pub(super) fn sa_view(
        &self,
        id: SaId,
        e: &SaEntry,
        counters: &BTreeMap<EspSpi, ChildSaCounters>,
    ) -> IkeSaView {
        let info = e.info.as_ref();
        IkeSaView {
            id: sa_name(id),
            connection: e.connection.clone(),
            state: match e.state {
                SaState::Connecting => "connecting".into(),
                SaState::Established => "established".into(),
            },
            initiator: e.initiator,
            local: e.local.to_string(),
            remote: e.remote.to_string(),
            local_spi: sa_name(id),
            remote_spi: info.map(|i| format!("{:016x}", i.remote_spi.0)),
            proposal: info.map(|i| i.proposal.clone()),
            ppk_used: info.is_some_and(|i| i.ppk_used),
            nat_detected: info.is_some_and(|i| i.nat_detected),
            intermediate_exchanges: info.map_or(0, |i| i.intermediate_exchanges),
            established_secs: e.established_at.map(|t| t.elapsed().as_secs()),
            hybrid: self
                .conn(&e.connection)
                .map(|c| c.hybrid.as_str().to_string())
                .unwrap_or_default(),
            ppk: self.ppk_view(id, &e.connection, info.map(|i| i.ppk_used)),
            timings: e.timings.view(),
            children: e.children.iter().map(|c| child_view(c, counters)).collect(),
        }
    }
}

pub(super) fn child_view(
    c: &ChildRecord,
    counters: &BTreeMap<EspSpi, ChildSaCounters>,
) -> ChildSaView {
    ChildSaView {
        name: c.name.clone(),
        inbound_spi: format!("{:08x}", c.inbound_spi),
        outbound_spi: format!("{:08x}", c.outbound_spi),
        proposal: c.proposal.clone(),
        local_ts: c.local_ts.clone(),
        remote_ts: c.remote_ts.clone(),
        installed_secs: c.installed_at.elapsed().as_secs(),
        counters: counters.get(&c.inbound_spi).cloned().unwrap_or_default(),
    }
}
