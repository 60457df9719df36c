//! The N3IWF's metrics: registrations, failures and releases by cause, NGAP messages by
//! procedure and direction, and each AMF's association and NG Setup state.

use std::fmt::Write as _;

use super::escape;
use crate::proto::N3iwfStatsView;

/// Appends the N3IWF's metrics to `out`.
pub(super) fn render(out: &mut String, n: &N3iwfStatsView) {
    header(out, "ues", "gauge", "UE contexts of the N3IWF.");
    let _ = writeln!(out, "iked_n3iwf_ues {}", n.ues);
    header(
        out,
        "inner_addresses",
        "gauge",
        "UE inner addresses handed out.",
    );
    let _ = writeln!(
        out,
        "iked_n3iwf_inner_addresses {}",
        n.inner_addresses_in_use
    );
    header(
        out,
        "eap_started_total",
        "counter",
        "UEs that started EAP-5G.",
    );
    let _ = writeln!(out, "iked_n3iwf_eap_started_total {}", n.eap_started);
    let help = "UEs registered: signalling SA up and INITIAL CONTEXT SETUP RESPONSE sent.";
    header(out, "registrations_total", "counter", help);
    let _ = writeln!(out, "iked_n3iwf_registrations_total {}", n.registrations);
    for (name, help, map) in [
        (
            "ue_failures_total",
            "UE contexts that ended before registration, by cause.",
            &n.failures,
        ),
        (
            "ue_releases_total",
            "UE contexts that ended after registration, by cause.",
            &n.releases,
        ),
    ] {
        header(out, name, "counter", help);
        for (cause, v) in map {
            let _ = writeln!(out, "iked_n3iwf_{name}{{cause=\"{}\"}} {v}", escape(cause));
        }
    }
    let help = "NGAP messages by procedure (TS 38.413) and direction.";
    header(out, "ngap_messages_total", "counter", help);
    for c in &n.ngap {
        let _ = writeln!(
            out,
            "iked_n3iwf_ngap_messages_total{{procedure=\"{}\",direction=\"{}\"}} {}",
            escape(&c.procedure),
            c.direction,
            c.messages
        );
    }
    amfs(out, n);
    for (name, v) in &n.counters {
        header(
            out,
            &format!("{name}_total"),
            "counter",
            &format!("The N3IWF counter '{name}'."),
        );
        let _ = writeln!(out, "iked_n3iwf_{name}_total {v}");
    }
}

/// Per AMF: association up (1) or down (0), NG Setup ready, and the association counters.
fn amfs(out: &mut String, n: &N3iwfStatsView) {
    let help = "Whether the N2 association with the AMF is up.";
    header(out, "amf_association_up", "gauge", help);
    for a in &n.amfs {
        let up = u8::from(a.association == "up");
        let _ = writeln!(
            out,
            "iked_n3iwf_amf_association_up{{amf=\"{}\"}} {up}",
            escape(&a.name)
        );
    }
    let help = "Whether NG Setup with the AMF is done (it serves UEs).";
    header(out, "amf_ready", "gauge", help);
    for a in &n.amfs {
        let ready = u8::from(a.ng_setup == "ready");
        let _ = writeln!(
            out,
            "iked_n3iwf_amf_ready{{amf=\"{}\"}} {ready}",
            escape(&a.name)
        );
    }
    for (name, help) in [
        (
            "amf_associations_total",
            "N2 associations set up with the AMF.",
        ),
        (
            "amf_association_failures_total",
            "Failed attempts to set up the N2 association.",
        ),
        (
            "amf_association_losses_total",
            "N2 associations with the AMF that went down.",
        ),
        (
            "amf_association_restarts_total",
            "N2 association restarts by the AMF.",
        ),
    ] {
        header(out, name, "counter", help);
        for a in &n.amfs {
            let v = match name {
                "amf_associations_total" => a.connects,
                "amf_association_failures_total" => a.connect_failures,
                "amf_association_losses_total" => a.losses,
                _ => a.restarts,
            };
            let _ = writeln!(out, "iked_n3iwf_{name}{{amf=\"{}\"}} {v}", escape(&a.name));
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(
        out,
        "# HELP iked_n3iwf_{name} {help}\n# TYPE iked_n3iwf_{name} {kind}"
    );
}
