//! Turning raw outputs (criterion's directory, this machine, the datapath report) into the JSON
//! files under `benches/results/`.

use std::path::Path;

use serde_json::{Value, json};

/// Every benchmark of `benches/benches/exchanges.rs` found under criterion's output directory:
/// `{provider, scenario, side, exchange, median_ns, median_lo_ns, median_hi_ns, mean_ns}`.
pub fn criterion(dir: &Path) -> Value {
    let mut out = Vec::new();
    walk(dir, &mut |p| {
        if !p.ends_with("new/benchmark.json") {
            return;
        }
        let (Some(b), Some(e)) = (read(p), read(&p.with_file_name("estimates.json"))) else {
            return;
        };
        let Some(full) = b["full_id"].as_str() else {
            return;
        };
        let parts: Vec<&str> = full.split('/').collect();
        let [provider, scenario, side, exchange] = parts[..] else {
            return;
        };
        if side != "initiator" && side != "responder" {
            return;
        }
        out.push(json!({
            "provider": provider, "scenario": scenario, "side": side, "exchange": exchange,
            "median_ns": e["median"]["point_estimate"],
            "median_lo_ns": e["median"]["confidence_interval"]["lower_bound"],
            "median_hi_ns": e["median"]["confidence_interval"]["upper_bound"],
            "mean_ns": e["mean"]["point_estimate"],
        }));
    });
    out.sort_by_key(|v| v.to_string());
    Value::Array(out)
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

/// A JSON file, or `None`.
pub fn read(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// CPU model, cores and kernel of this machine, from `/proc`.
pub fn machine(date: &str, commit: &str, rustc: &str) -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    json!({
        "cpu": field("model name").unwrap_or_else(|| "unknown".into()),
        "cores": cores,
        "kernel": kernel.trim(),
        "memory_gib": mem_kib.map(|k| (k as f64 / 1048576.0 * 10.0).round() / 10.0),
        "date": date, "commit": commit, "rustc": rustc,
    })
}

/// The markdown tables of the datapath benchmark's `RESULTS.md`, with its provenance lines.
pub fn datapath(results_md: &Path) -> Value {
    let Ok(text) = std::fs::read_to_string(results_md) else {
        return Value::Null;
    };
    let written = text
        .lines()
        .find(|l| l.starts_with("Written by"))
        .unwrap_or("");
    let machine: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("## Machine"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("- "))
        .collect();
    let mut tables = Vec::new();
    let mut current: Vec<Vec<String>> = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            section = line.trim_start_matches("## ").to_string();
        }
        if line.starts_with('|') {
            if !line.contains("---") {
                current.push(
                    line.trim_matches('|')
                        .split('|')
                        .map(|c| c.trim().trim_matches('*').to_string())
                        .collect(),
                );
            }
        } else if !current.is_empty() {
            let rows = std::mem::take(&mut current);
            tables.push(json!({"section": section, "header": rows[0], "rows": rows[1..]}));
        }
    }
    if !current.is_empty() {
        tables.push(json!({"section": section, "header": current[0], "rows": current[1..]}));
    }
    json!({
        "source": "benches/datapath/RESULTS.md",
        "written_by": written,
        "machine": machine,
        "tables": tables,
    })
}
