//! The flood section of `docs/benchmarks.md`, from `benches/results/flood.json`
//! (`scripts/bench-flood.sh`).

use std::fmt::Write as _;

use serde_json::Value;

/// What each flood phase is.
fn describe(kind: &str) -> &'static str {
    match kind {
        "none" => "none (legitimate handshakes only)",
        "spoof4" => "IKE_SA_INIT, spoofed IPv4 sources → :500",
        "spoof6" => "IKE_SA_INIT, spoofed IPv6 sources (many /64s) → :500",
        "frag" => "fragmented IKE_AUTH never completed, 64 real sources → :500",
        "spoof4500" => "IKE_SA_INIT, spoofed IPv4 sources → :4500, tunnel rekeying",
        _ => "?",
    }
}

/// The lowest tunnel throughput of the flood phases as a fraction of the unflooded run.
pub fn worst_fraction(flood: &Value) -> Option<f64> {
    let base = flood["baseline_mbps"].as_f64().filter(|b| *b > 0.0)?;
    flood["phases"]
        .as_array()?
        .iter()
        .filter(|p| p["kind"] != "none")
        .filter_map(|p| p["tunnel_mbps"].as_f64())
        .map(|m| m / base)
        .reduce(f64::min)
}

pub fn flood_section(md: &mut String, flood: &Value) {
    let _ = writeln!(md, "## Under flood\n");
    let Some(phases) = flood["phases"].as_array().filter(|a| !a.is_empty()) else {
        let _ = writeln!(md, "Not measured in this run (`scripts/bench-flood.sh`).\n");
        return;
    };
    let base = flood["baseline_mbps"].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        md,
        "`scripts/bench-flood.sh` (run {} at {}): iked b in a namespace answers floods from a third\n\
namespace while a tunnel from iked a carries one iperf3 TCP stream and legitimate peers\n\
(`ike_load`, 20 handshakes/s) keep connecting; {} s per phase; spoofed floods paced at {}\n\
datagrams/s (0: unpaced), the fragment flood at {} initiators/s; b's half-open budget\n\
`half_open_memory` = {} KiB. \"b received\" is what reached b's engine (the rest was lost in\n\
socket queues). RSS is b's whole process (datapath included): peak during the phase minus\n\
the value before it. Counters are b's engine counters over the phase.\n\n\
| flood | sent (rate) | b received | tunnel Mbit/s (× unflooded) | b's RSS growth | legitimate handshakes | cookies / half-open drops (count, bytes) / evicted | Child SA rekeyed |\n\
|---|---:|---:|---:|---:|---:|---:|---|",
        flood["date"].as_str().unwrap_or("?"),
        flood["commit"].as_str().unwrap_or("?"),
        flood["seconds_per_phase"],
        flood["spoof_rate_target"],
        flood["frag_rate_target"],
        flood["half_open_budget_kib"],
    );
    for p in phases {
        phase_row(md, p, base);
    }
    let _ = writeln!(md);
}

fn phase_row(md: &mut String, p: &Value, base: f64) {
    let mbps = p["tunnel_mbps"].as_f64().unwrap_or(0.0);
    let fraction = if base > 0.0 { mbps / base } else { 0.0 };
    let sent = match p["flood"]["sent"].as_u64() {
        Some(n) => format!(
            "{n} ({:.0}/s)",
            p["flood"]["rate_pps"].as_f64().unwrap_or(0.0)
        ),
        None => "–".into(),
    };
    let legit = &p["legit"];
    let c = &p["counters"];
    let _ = writeln!(
        md,
        "| {} | {sent} | {} | {mbps:.0} ({fraction:.2}) | {} KiB | {} of {} (p50 {} ms) | {} / {}, {} / {} | {} |",
        describe(p["kind"].as_str().unwrap_or("")),
        c["datagrams_received"],
        p["rss_growth_kib"],
        legit["completed"],
        legit["started"],
        legit["latency_p50_ms"]
            .as_f64()
            .map_or_else(|| "–".into(), |x| format!("{x:.1}")),
        c["cookies_sent"],
        c["dropped_half_open_limit"],
        c["dropped_half_open_memory"],
        c["half_open_evicted"],
        if p["rekeyed"] == true {
            "yes"
        } else {
            "**no**"
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_worst_phase_sets_the_fraction_and_rows_show_each_phase() {
        let flood = json!({
            "baseline_mbps": 1000.0, "seconds_per_phase": 15, "half_open_budget_kib": 16384,
            "phases": [
                {"kind": "none", "tunnel_mbps": 1000.0, "legit": {"completed": 10, "started": 10}},
                {"kind": "spoof4", "tunnel_mbps": 900.0, "flood": {"sent": 300, "rate_pps": 20.0},
                 "legit": {"completed": 9, "started": 10, "latency_p50_ms": 3.25},
                 "counters": {"cookies_sent": 250, "dropped_half_open_limit": 0,
                              "dropped_half_open_memory": 4, "half_open_evicted": 1,
                              "datagrams_received": 280}, "rekeyed": true, "rss_growth_kib": 12}
            ]
        });
        assert_eq!(worst_fraction(&flood), Some(0.9));
        let mut md = String::new();
        flood_section(&mut md, &flood);
        assert!(
            md.contains("| IKE_SA_INIT, spoofed IPv4 sources → :500 | 300 (20/s) | 280 | 900 (0.90) | 12 KiB | 9 of 10 (p50 3.2 ms) | 250 / 0, 4 / 1 | yes |"),
            "{md}"
        );
        let mut none = String::new();
        flood_section(&mut none, &Value::Null);
        assert!(none.contains("Not measured"));
        assert_eq!(worst_fraction(&Value::Null), None);
    }
}
