//! Handshake rate: `ike_load` in the left namespace against an iked responder, then against a
//! charon responder, in the right namespace of one lab, with the same proposals.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use interop::{Charon, CharonConfig, Encap, Iked, IkedConfig, Lab, Node, StrongSwan, VETH};
use serde_json::{Value, json};

use super::config::{
    CHARON_LOAD_OPTIONS, CHARON_LOAD_THRESHOLD, LOAD_PSK, iked_load_responder,
    swanctl_load_responder,
};
use super::{ESP, IKE, Result, sibling};

/// Bounds of one load run.
#[derive(Clone, Debug)]
pub struct LoadArgs {
    pub count: usize,
    pub duration_s: f64,
    pub concurrency: usize,
    /// Source addresses the initiators are spread over.
    pub sources: usize,
    /// Handshakes of the first, short run against an empty responder (0: none).
    pub burst: usize,
}

/// Runs the load against both responders.
pub fn run_load(strongswan: &StrongSwan, a: &LoadArgs) -> Result<Value> {
    let ike_load = sibling("ike_load")?;
    let lab = Lab::for_daemon(strongswan, "pqbl").map_err(|e| format!("lab: {e}"))?;
    let (l, r) = (lab.left(), lab.right());
    let sources: Vec<Ipv4Addr> = (0..a.sources.clamp(1, 200))
        .map(|i| Ipv4Addr::new(192, 0, 2, 10 + i as u8))
        .collect();
    for ip in &sources {
        interop::run_ok(
            Command::new("ip").args([
                "-n",
                l.netns(),
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                VETH,
            ]),
            Duration::from_secs(10),
        )
        .map_err(|e| format!("adding {ip}: {e}"))?;
    }
    let mut runs = Vec::new();
    // A short run against an empty responder, then the sustained one against a fresh responder:
    // the difference shows how the rate depends on the IKE SAs already held.
    let mut plan = Vec::new();
    if a.burst > 0 {
        plan.push((format!("first {}", a.burst), a.burst));
    }
    plan.push((String::new(), a.count));
    for (what, count) in &plan {
        let run = LoadArgs {
            count: *count,
            ..a.clone()
        };
        let label = |name: &str| {
            if what.is_empty() {
                name.to_string()
            } else {
                format!("{name}, {what}")
            }
        };
        {
            let iked = Iked::start(r, l, "resp", &iked_load_config(), &iked_load_responder())
                .map_err(|e| format!("iked: {e}"))?;
            eprintln!("lab_bench load: iked responder (pid {})", iked.pid());
            runs.push(one_run(
                &ike_load,
                l,
                r,
                &label("iked"),
                iked.pid(),
                &sources,
                &run,
            )?);
        }
        {
            let charon = Charon::start(r, strongswan, "resp", &charon_load_config())
                .map_err(|e| format!("charon: {e}"))?;
            charon
                .load_conf(&swanctl_load_responder(r))
                .map_err(|e| format!("charon conf: {e}"))?;
            eprintln!(
                "lab_bench load: strongSwan responder (pid {})",
                charon.pid()
            );
            runs.push(one_run(
                &ike_load,
                l,
                r,
                &label("strongSwan"),
                charon.pid(),
                &sources,
                &run,
            )?);
        }
    }
    Ok(json!({
        "bench": "load",
        "ike_proposal": IKE,
        "esp_proposal": ESP,
        "auth": "PSK",
        "sources": sources.len(),
        "concurrency": a.concurrency,
        "count": a.count,
        "duration_s": a.duration_s,
        "strongswan": strongswan.describe(),
        "strongswan_settings": {
            "charon.cookie_threshold": CHARON_LOAD_THRESHOLD,
            "charon.block_threshold": CHARON_LOAD_THRESHOLD,
            "charon.init_limit_half_open": 0,
            "charon.init_limit_job_load": 0,
            "charon.threads": charon_load_config().threads,
            "connections.load.unique": "never",
            "plugins": "kernel-libipsec (raw_esp = yes), ml, openssl",
            "log": "filelog default = 0",
        },
        "iked_settings": {
            "engine defaults": "cookie_threshold 1000 half-open in all, 10 per source; half_open_limit 50000, 100 per source",
            "dataplane": "TUN, raw ESP, 1 worker",
            "log": "warn",
        },
        "runs": runs,
    }))
}

fn iked_load_config() -> IkedConfig {
    IkedConfig {
        encap: Encap::Raw,
        log: "warn".into(),
        daemon: String::new(),
        files: Vec::new(),
    }
}

fn charon_load_config() -> CharonConfig {
    CharonConfig {
        raw_esp: true,
        crypto_test_on_add: false,
        cookie_threshold: Some(CHARON_LOAD_THRESHOLD),
        block_threshold: Some(CHARON_LOAD_THRESHOLD),
        log_levels: vec![("default".into(), 0)],
        charon_options: CHARON_LOAD_OPTIONS.into(),
        ..CharonConfig::default()
    }
}

fn one_run(
    ike_load: &Path,
    from: &Node,
    to: &Node,
    label: &str,
    pid: u32,
    sources: &[Ipv4Addr],
    a: &LoadArgs,
) -> Result<Value> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let mut c = from.host_command(ike_load);
    c.args(["--target", &format!("{}:500", to.outer())])
        .args(["--count", &a.count.to_string()])
        .args(["--duration", &a.duration_s.to_string()])
        .args(["--concurrency", &a.concurrency.to_string()])
        .args(["--proposal", IKE, "--esp", ESP, "--psk", LOAD_PSK])
        .args(["--responder-pid", &pid.to_string(), "--label", label]);
    for ip in sources {
        c.args(["--local", &ip.to_string()]);
    }
    let out = interop::run(&mut c, Duration::from_secs_f64(a.duration_s + 60.0))
        .map_err(|e| format!("ike_load against {label}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let mut v: Value = serde_json::from_str(line).map_err(|e| {
        format!(
            "ike_load against {label}: {e}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    v["responder_process"] = json!(comm.trim());
    eprintln!("lab_bench load: {line}");
    Ok(v)
}
