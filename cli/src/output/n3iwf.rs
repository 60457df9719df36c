//! `list-ues`, `list-amfs` and the N3IWF section of `stats`.

use iked_control::proto::{AmfView, N3iwfStatsView, UeView};

use super::{age, table};

pub(crate) fn list_ues(ues: &[UeView]) -> String {
    if ues.is_empty() {
        return "no UEs\n".into();
    }
    let dash = || "-".to_string();
    let ms = |m: Option<u64>| m.map_or_else(dash, |m| format!("{:.1}", m as f64 / 1000.0));
    let rows = ues
        .iter()
        .map(|u| {
            vec![
                u.ike_sa.clone(),
                u.outer.clone(),
                u.state.clone(),
                u.amf.clone().unwrap_or_else(dash),
                u.ran_ue_ngap_id.map_or_else(dash, |r| r.to_string()),
                u.amf_ue_ngap_id.map_or_else(dash, |a| a.to_string()),
                u.inner_address.clone().unwrap_or_else(dash),
                ms(Some(u.timings.amf_wait_micros)),
                ms(u.timings.eap_success_micros),
                ms(u.timings.signalling_sa_micros),
                ms(u.timings.nas_tcp_micros),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "IKE SA",
            "OUTER",
            "STATE",
            "AMF",
            "RAN UE ID",
            "AMF UE ID",
            "INNER",
            "AMF MS",
            "EAP OK MS",
            "SA UP MS",
            "NAS TCP MS",
        ],
        rows,
    );
    out.push_str("(times in ms from the UE's first IKE_AUTH request; AMF MS: time spent waiting for the AMF)\n");
    out
}

pub(crate) fn list_amfs(amfs: &[AmfView]) -> String {
    if amfs.is_empty() {
        return "no AMFs configured\n".into();
    }
    let dash = || "-".to_string();
    let rows = amfs
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.address.clone(),
                a.transport.clone(),
                a.association.clone(),
                a.up_secs.map_or_else(dash, age),
                a.ng_setup.clone(),
                a.amf_name.clone().unwrap_or_else(dash),
                a.outbound_streams
                    .zip(a.inbound_streams)
                    .map_or_else(dash, |(o, i)| format!("{o}/{i}")),
                a.ues.to_string(),
                format!("{}/{}/{}", a.connects, a.connect_failures, a.losses),
                a.last_error.clone().unwrap_or_else(dash),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "AMF",
            "ADDRESS",
            "TRANSPORT",
            "SCTP",
            "UP",
            "NG SETUP",
            "AMF NAME",
            "STREAMS OUT/IN",
            "UES",
            "UP/FAILED/LOST",
            "LAST ERROR",
        ],
        rows,
    );
    out.push_str("(UP/FAILED/LOST: associations set up, attempts failed, associations lost)\n");
    out
}

/// The N3IWF section of `stats`.
pub(crate) fn stats(n: &N3iwfStatsView) -> String {
    let mut out = format!(
        "\nN3IWF      {} UEs ({} inner addresses), {} EAP-5G started, {} registered\n\n",
        n.ues, n.inner_addresses_in_use, n.eap_started, n.registrations
    );
    let ends: Vec<Vec<String>> = [("failure", &n.failures), ("release", &n.releases)]
        .into_iter()
        .flat_map(|(kind, map)| {
            map.iter()
                .map(move |(c, v)| vec![kind.to_string(), c.clone(), v.to_string()])
        })
        .collect();
    if !ends.is_empty() {
        out.push_str(&table(&["UE END", "CAUSE", "COUNT"], ends));
        out.push('\n');
    }
    let ngap = n
        .ngap
        .iter()
        .map(|c| {
            vec![
                c.procedure.clone(),
                c.direction.clone(),
                c.messages.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["NGAP PROCEDURE", "DIRECTION", "MESSAGES"], ngap));
    out.push('\n');
    let counters = n
        .counters
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    out.push_str(&table(&["N3IWF COUNTER", "VALUE"], counters));
    out.push('\n');
    out.push_str(&list_amfs(&n.amfs));
    out
}
