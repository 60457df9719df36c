//! Human-readable output: aligned tables and one-line events. `--json` bypasses all of this.

use std::collections::BTreeMap;

use iked_control::proto::{
    ConnView, DownView, IkeSaView, LoadView, MonitorEvent, RekeyView, StatsView, UpView,
    VersionView,
};

mod n3iwf;

pub(crate) use self::n3iwf::{list_amfs, list_ues};

pub(crate) fn list_conns(conns: &[ConnView]) -> String {
    if conns.is_empty() {
        return "no connections configured\n".into();
    }
    let rows = conns
        .iter()
        .map(|c| {
            let ppk = c.ppk_id.as_ref().map_or_else(
                || "-".into(),
                |p| {
                    if c.ppk_required {
                        format!("{p} (required)")
                    } else {
                        p.clone()
                    }
                },
            );
            vec![
                c.name.clone(),
                c.local_id.clone(),
                c.remote_addrs.join(","),
                c.remote_port.to_string(),
                c.remote_id.clone().unwrap_or_else(|| "%any".into()),
                c.auth.clone(),
                ppk,
                c.start_action.clone(),
                c.ike_sas.to_string(),
                c.proposals.join(","),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "NAME",
            "LOCAL ID",
            "REMOTE ADDRS",
            "PORT",
            "REMOTE ID",
            "AUTH",
            "PPK",
            "START",
            "IKE SAS",
            "PROPOSALS",
        ],
        rows,
    );
    let children = conns
        .iter()
        .flat_map(|c| {
            c.children.iter().map(move |ch| {
                vec![
                    c.name.clone(),
                    ch.name.clone(),
                    ch.local_ts.join(","),
                    ch.remote_ts.join(","),
                    ch.esp_proposals.join(","),
                ]
            })
        })
        .collect();
    out.push('\n');
    out.push_str(&table(
        &[
            "CONNECTION",
            "CHILD",
            "LOCAL TS",
            "REMOTE TS",
            "ESP PROPOSALS",
        ],
        children,
    ));
    out
}

pub(crate) fn list_sas(sas: &[IkeSaView]) -> String {
    if sas.is_empty() {
        return "no IKE SAs\n".into();
    }
    let rows = sas
        .iter()
        .map(|s| {
            vec![
                s.connection.clone(),
                s.id.clone(),
                s.state.clone(),
                role(s.initiator).into(),
                s.local.clone(),
                s.remote.clone(),
                s.established_secs.map_or_else(|| "-".into(), age),
                flags(s),
                if s.hybrid.is_empty() {
                    "-".into()
                } else {
                    s.hybrid.clone()
                },
                s.proposal.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "CONNECTION",
            "IKE SA",
            "STATE",
            "ROLE",
            "LOCAL",
            "REMOTE",
            "AGE",
            "FLAGS",
            "POLICY",
            "PROPOSAL",
        ],
        rows,
    );
    let ppks: Vec<Vec<String>> = sas
        .iter()
        .filter_map(|s| {
            let p = s.ppk.as_ref()?;
            Some(vec![
                s.id.clone(),
                p.source.clone(),
                if p.used { "yes".into() } else { "no".into() },
                p.id.clone().unwrap_or_else(|| "-".into()),
                p.reason.clone(),
            ])
        })
        .collect();
    push_table(&mut out, &["IKE SA", "PPK", "USED", "PPK ID", "WHY"], ppks);
    let children: Vec<Vec<String>> = sas
        .iter()
        .flat_map(|s| {
            s.children.iter().map(move |c| {
                vec![
                    s.id.clone(),
                    c.name.clone(),
                    c.inbound_spi.clone(),
                    c.outbound_spi.clone(),
                    c.local_ts.join(","),
                    c.remote_ts.join(","),
                    c.counters.bytes_in.to_string(),
                    c.counters.bytes_out.to_string(),
                    c.counters.packets_in.to_string(),
                    c.counters.packets_out.to_string(),
                    c.counters.drops.to_string(),
                    c.proposal.clone(),
                ]
            })
        })
        .collect();
    push_table(
        &mut out,
        &[
            "IKE SA",
            "CHILD",
            "IN SPI",
            "OUT SPI",
            "LOCAL TS",
            "REMOTE TS",
            "BYTES IN",
            "BYTES OUT",
            "PKTS IN",
            "PKTS OUT",
            "DROPS",
            "PROPOSAL",
        ],
        children,
    );
    out
}

pub(crate) fn stats(s: &StatsView) -> String {
    let mut out = format!(
        "uptime     {}\nIKE SAs    {} ({} established)\nChild SAs  {}\n\n",
        age(s.uptime_secs),
        s.ike_sas,
        s.ike_sas_established,
        s.child_sas
    );
    out.push_str(&table(
        &["ENGINE COUNTER", "VALUE"],
        counter_rows(&s.engine),
    ));
    push_table(
        &mut out,
        &["DAEMON COUNTER", "VALUE"],
        counter_rows(&s.daemon),
    );
    push_table(
        &mut out,
        &["DATAPATH COUNTER", "VALUE"],
        counter_rows(&s.datapath),
    );
    let rows = s
        .children
        .iter()
        .map(|c| {
            let n = &c.counters;
            let reasons: Vec<String> = n
                .drop_reasons
                .iter()
                .map(|(r, k)| format!("{r}={k}"))
                .collect();
            vec![
                c.connection.clone(),
                c.child.clone(),
                c.inbound_spi.clone(),
                n.bytes_in.to_string(),
                n.bytes_out.to_string(),
                n.packets_in.to_string(),
                n.packets_out.to_string(),
                n.drops.to_string(),
                reasons.join(","),
            ]
        })
        .collect();
    push_table(
        &mut out,
        &[
            "CONNECTION",
            "CHILD",
            "IN SPI",
            "BYTES IN",
            "BYTES OUT",
            "PACKETS IN",
            "PACKETS OUT",
            "DROPS",
            "DROP REASONS",
        ],
        rows,
    );
    if let Some(n) = &s.n3iwf {
        out.push_str(&n3iwf::stats(n));
    }
    out
}

pub(crate) fn load(v: &LoadView) -> String {
    let mut out = format!("loaded {}\n", v.file);
    for (label, names) in [
        ("added", &v.added),
        ("changed", &v.changed),
        ("removed", &v.removed),
        ("unchanged", &v.unchanged),
    ] {
        if !names.is_empty() {
            out.push_str(&format!("  {label:<10} {}\n", names.join(", ")));
        }
    }
    for w in &v.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

pub(crate) fn up(v: &UpView) -> String {
    let s = &v.ike_sa;
    let what = if v.already_up {
        "already up"
    } else {
        "established"
    };
    let mut out = format!(
        "{}: IKE SA {} {what} with {} ({})\n",
        s.connection,
        s.id,
        s.remote,
        s.proposal.as_deref().unwrap_or("-")
    );
    for c in &s.children {
        out.push_str(&format!(
            "  child {}: in {} out {} {} === {} ({})\n",
            c.name,
            c.inbound_spi,
            c.outbound_spi,
            c.local_ts.join(","),
            c.remote_ts.join(","),
            c.proposal
        ));
    }
    if let Some(p) = &s.ppk {
        out.push_str(&format!(
            "  ppk: {} {}{}: {}\n",
            p.source,
            if p.used { "used" } else { "not used" },
            p.id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default(),
            p.reason
        ));
    }
    for t in &s.timings {
        out.push_str(&format!(
            "  {:<28} {:>9.3} ms\n",
            t.phase,
            t.micros as f64 / 1000.0
        ));
    }
    out
}

pub(crate) fn down(name: &str, v: &DownView) -> String {
    if v.closed.is_empty() {
        return format!("{name}: no IKE SA to close\n");
    }
    let note = if v.delete_sent {
        " (DELETE sent to the peer)"
    } else {
        " (peer not notified)"
    };
    format!("{name}: closed IKE SA {}{note}\n", v.closed.join(", "))
}

pub(crate) fn rekey(v: &RekeyView) -> String {
    match &v.child {
        None => format!(
            "{}: IKE SA {} rekeyed, now {}\n",
            v.connection, v.old, v.new
        ),
        Some(c) => format!(
            "{}: Child SA {c} rekeyed in IKE SA {}: inbound SPI {} -> {}\n",
            v.connection, v.ike_sa, v.old, v.new
        ),
    }
}

pub(crate) fn version(ikectl: &str, v: &VersionView) -> String {
    format!(
        "ikectl {ikectl}\niked   {}\ncontrol protocol {}\n",
        v.daemon, v.protocol
    )
}

pub(crate) fn event(e: &MonitorEvent) -> String {
    match e {
        MonitorEvent::Initiating {
            connection,
            ike_sa,
            remote,
        } => format!("initiating          {connection} {ike_sa} to {remote}"),
        MonitorEvent::IkeSaEstablished { ike_sa: s } => format!(
            "ike-sa-established  {} {} {} {} {}",
            s.connection,
            s.id,
            role(s.initiator),
            s.remote,
            s.proposal.as_deref().unwrap_or("-")
        ),
        MonitorEvent::ChildSaInstalled {
            connection,
            ike_sa,
            child,
        } => {
            format!(
                "child-sa-installed  {connection} {ike_sa} {} in {} out {} {} === {}",
                child.name,
                child.inbound_spi,
                child.outbound_spi,
                child.local_ts.join(","),
                child.remote_ts.join(",")
            )
        }
        MonitorEvent::ChildSaRetired {
            connection,
            ike_sa,
            child,
            inbound_spi,
        } => format!("child-sa-retired    {connection} {ike_sa} {child} in {inbound_spi}"),
        MonitorEvent::IkeSaFailed {
            connection,
            ike_sa,
            error,
        } => format!(
            "ike-sa-failed       {} {ike_sa}: {error}",
            connection.as_deref().unwrap_or("-")
        ),
        MonitorEvent::IkeSaClosed {
            connection,
            ike_sa,
            reason,
        } => format!(
            "ike-sa-closed       {} {ike_sa}: {reason}",
            connection.as_deref().unwrap_or("-")
        ),
        MonitorEvent::PpkResolved {
            connection,
            ike_sa,
            ppk,
        } => format!(
            "ppk-resolved        {} {ike_sa} {}: {}",
            connection.as_deref().unwrap_or("-"),
            ppk.source,
            ppk.reason
        ),
        MonitorEvent::ChildSaExpired {
            connection,
            ike_sa,
            child,
            inbound_spi,
            hard,
        } => {
            format!(
                "child-sa-expired    {connection} {ike_sa} {child} in {inbound_spi} ({})",
                if *hard {
                    "hard: deleting"
                } else {
                    "soft: rekeying"
                }
            )
        }
        MonitorEvent::ConfigLoaded { load } => format!(
            "config-loaded       {} (+{} ~{} -{})",
            load.file,
            load.added.len(),
            load.changed.len(),
            load.removed.len()
        ),
        MonitorEvent::Lagged { missed } => format!("lagged              {missed} events dropped"),
        other => format!("{other:?}"),
    }
}

/// Appends a blank line and the table of `rows`, or nothing when there are none.
fn push_table(out: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(headers, rows));
    }
}

/// One `name, value` row per counter, in name order.
fn counter_rows(counters: &BTreeMap<String, u64>) -> Vec<Vec<String>> {
    counters
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect()
}

/// Left-aligned columns separated by two spaces, without trailing blanks.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(ToString::to_string).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn role(initiator: bool) -> &'static str {
    if initiator { "initiator" } else { "responder" }
}

fn flags(s: &IkeSaView) -> String {
    let mut f = Vec::new();
    if s.intermediate_exchanges > 0 {
        f.push(format!("int:{}", s.intermediate_exchanges));
    }
    if s.ppk_used {
        f.push("ppk".into());
    }
    if s.nat_detected {
        f.push("nat".into());
    }
    if f.is_empty() {
        "-".into()
    } else {
        f.join(",")
    }
}

/// `42s`, `3m05s`, `2h03m`, `1d02h`.
fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use iked_control::proto::{ChildConfView, ChildSaCounters, ChildSaView, PhaseView, PpkView};

    use super::*;

    fn sa() -> IkeSaView {
        IkeSaView {
            id: "0123456789abcdef".into(),
            connection: "site-b".into(),
            state: "established".into(),
            initiator: true,
            local: "127.0.0.1:40000".into(),
            remote: "127.0.0.1:40001".into(),
            local_spi: "0123456789abcdef".into(),
            remote_spi: Some("fedcba9876543210".into()),
            proposal: Some("aes256gcm16-prfsha384-x25519-ke1_mlkem768".into()),
            ppk_used: false,
            nat_detected: false,
            intermediate_exchanges: 1,
            established_secs: Some(185),
            hybrid: "pqc+qkd".into(),
            ppk: Some(PpkView {
                source: "qkd".into(),
                used: true,
                id: Some("6f1c0c3e-6a4e-4b4e-9a55-0f2d7c1b9e21".into()),
                reason: "QKD key from enc_keys".into(),
            }),
            timings: vec![
                PhaseView {
                    phase: "IKE_SA_INIT".into(),
                    micros: 812,
                },
                PhaseView {
                    phase: "initiate -> child installed".into(),
                    micros: 4321,
                },
            ],
            children: vec![ChildSaView {
                name: "net".into(),
                inbound_spi: "c0ffee01".into(),
                outbound_spi: "0badf00d".into(),
                proposal: "aes256gcm16".into(),
                local_ts: vec!["10.1.0.0/16".into()],
                remote_ts: vec!["10.2.0.0/16".into()],
                installed_secs: 185,
                counters: ChildSaCounters {
                    bytes_in: 1500,
                    bytes_out: 42,
                    ..ChildSaCounters::default()
                },
            }],
        }
    }

    #[test]
    fn list_sas_table() {
        let expected = "\
CONNECTION  IKE SA            STATE        ROLE       LOCAL            REMOTE           AGE    FLAGS  POLICY   PROPOSAL
site-b      0123456789abcdef  established  initiator  127.0.0.1:40000  127.0.0.1:40001  3m05s  int:1  pqc+qkd  aes256gcm16-prfsha384-x25519-ke1_mlkem768

IKE SA            PPK  USED  PPK ID                                WHY
0123456789abcdef  qkd  yes   6f1c0c3e-6a4e-4b4e-9a55-0f2d7c1b9e21  QKD key from enc_keys

IKE SA            CHILD  IN SPI    OUT SPI   LOCAL TS     REMOTE TS    BYTES IN  BYTES OUT  PKTS IN  PKTS OUT  DROPS  PROPOSAL
0123456789abcdef  net    c0ffee01  0badf00d  10.1.0.0/16  10.2.0.0/16  1500      42         0        0         0      aes256gcm16
";
        assert_eq!(list_sas(&[sa()]), expected);
        assert_eq!(list_sas(&[]), "no IKE SAs\n");
    }

    #[test]
    fn list_conns_table() {
        let conn = ConnView {
            name: "site-b".into(),
            local_addrs: vec![],
            remote_addrs: vec!["192.0.2.2".into()],
            remote_port: 500,
            local_id: "site-a.example".into(),
            remote_id: Some("site-b.example".into()),
            auth: "psk".into(),
            proposals: vec!["aes256gcm16-prfsha384-x25519-ke1_mlkem768".into()],
            start_action: "start".into(),
            fragment_size: Some(1280),
            ppk_id: Some("qkd-1".into()),
            ppk_required: true,
            ppk_source: Some("secrets".into()),
            hybrid: "pqc (inferred)".into(),
            qkd_fallback: false,
            qkd_peer_sae_id: None,
            children: vec![ChildConfView {
                name: "net".into(),
                local_ts: vec!["10.1.0.0/16".into()],
                remote_ts: vec!["10.2.0.0/16".into(), "10.3.0.0/16".into()],
                esp_proposals: vec!["aes256gcm16".into()],
            }],
            ike_sas: 1,
        };
        let expected = "\
NAME    LOCAL ID        REMOTE ADDRS  PORT  REMOTE ID       AUTH  PPK               START  IKE SAS  PROPOSALS
site-b  site-a.example  192.0.2.2     500   site-b.example  psk   qkd-1 (required)  start  1        aes256gcm16-prfsha384-x25519-ke1_mlkem768

CONNECTION  CHILD  LOCAL TS     REMOTE TS                ESP PROPOSALS
site-b      net    10.1.0.0/16  10.2.0.0/16,10.3.0.0/16  aes256gcm16
";
        assert_eq!(list_conns(&[conn]), expected);
    }

    #[test]
    fn up_and_events() {
        let v = UpView {
            already_up: false,
            ike_sa: sa(),
        };
        assert_eq!(
            up(&v),
            "site-b: IKE SA 0123456789abcdef established with 127.0.0.1:40001 (aes256gcm16-prfsha384-x25519-ke1_mlkem768)\n  \
             child net: in c0ffee01 out 0badf00d 10.1.0.0/16 === 10.2.0.0/16 (aes256gcm16)\n  \
             ppk: qkd used (6f1c0c3e-6a4e-4b4e-9a55-0f2d7c1b9e21): QKD key from enc_keys\n  \
             IKE_SA_INIT                      0.812 ms\n  \
             initiate -> child installed      4.321 ms\n"
        );
        let e = MonitorEvent::IkeSaFailed {
            connection: Some("site-b".into()),
            ike_sa: "0123456789abcdef".into(),
            error: "no proposal chosen".into(),
        };
        assert_eq!(
            event(&e),
            "ike-sa-failed       site-b 0123456789abcdef: no proposal chosen"
        );
        assert_eq!(
            down("site-b", &DownView::default()),
            "site-b: no IKE SA to close\n"
        );
    }

    #[test]
    fn ages() {
        assert_eq!(age(42), "42s");
        assert_eq!(age(185), "3m05s");
        assert_eq!(age(7380), "2h03m");
        assert_eq!(age(93_600), "1d02h");
    }
}
