//! Pieces of the `ike_load` handshake-rate generator: its arguments, its one-line JSON report,
//! and CPU accounting from `/proc`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ikev2::{ChildConfig, ConnectionConfig, Identity, Lifetime, ProposalSpec};

use crate::selector;

/// Command-line arguments of `ike_load`.
#[derive(Debug)]
pub struct Args {
    pub target: SocketAddr,
    pub locals: Vec<IpAddr>,
    pub count: usize,
    pub duration: Duration,
    /// How long in-flight handshakes may finish after `duration`.
    pub grace: Duration,
    pub concurrency: usize,
    /// Handshakes started per second at most; 0 starts them as fast as slots free up.
    pub rate: u64,
    pub proposal: String,
    pub esp: String,
    pub psk: String,
    pub id: String,
    pub remote_id: Option<String>,
    pub responder_pid: Option<u32>,
    pub label: String,
    /// Exit 1 unless every one of `count` handshakes completed.
    pub require_all: bool,
}

impl Args {
    pub const USAGE: &'static str = "usage: ike_load --target IP:PORT --local IP [--local IP ...] \
[--count N] [--duration SECS] [--grace SECS] [--concurrency N] [--rate PER_S] [--proposal P] [--esp P] \
[--psk TEXT] [--id ID] [--remote-id ID] [--responder-pid PID] [--label NAME] [--require-all]";

    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    /// A message naming the bad or missing argument.
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut a = Self {
            target: "0.0.0.0:500".parse().map_err(|_| "literal")?,
            locals: Vec::new(),
            count: 1000,
            duration: Duration::from_secs(10),
            grace: Duration::from_secs(3),
            concurrency: 32,
            rate: 0,
            proposal: "aes256gcm16-prfsha384-x25519-ke1_mlkem768".into(),
            esp: "aes256gcm16".into(),
            psk: "pqb load test pre-shared key 0123456789".into(),
            id: "load.example".into(),
            remote_id: None,
            responder_pid: None,
            label: "load".into(),
            require_all: false,
        };
        let mut target = false;
        while let Some(flag) = it.next() {
            if flag == "--require-all" {
                a.require_all = true;
                continue;
            }
            let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let bad = format!("{flag}: bad value {v:?}");
            match flag.as_str() {
                "--target" => {
                    a.target = v.parse().map_err(|_| bad.clone())?;
                    target = true;
                }
                "--local" => a.locals.push(v.parse().map_err(|_| bad.clone())?),
                "--count" => a.count = v.parse().map_err(|_| bad.clone())?,
                "--duration" => {
                    a.duration = Duration::from_secs_f64(v.parse().map_err(|_| bad.clone())?)
                }
                "--grace" => a.grace = Duration::from_secs_f64(v.parse().map_err(|_| bad.clone())?),
                "--concurrency" => a.concurrency = v.parse().map_err(|_| bad.clone())?,
                "--rate" => a.rate = v.parse().map_err(|_| bad.clone())?,
                "--proposal" => a.proposal = v,
                "--esp" => a.esp = v,
                "--psk" => a.psk = v,
                "--id" => a.id = v,
                "--remote-id" => a.remote_id = Some(v),
                "--responder-pid" => a.responder_pid = Some(v.parse().map_err(|_| bad.clone())?),
                "--label" => a.label = v,
                _ => return Err(format!("unknown argument {flag}")),
            }
        }
        if !target || a.locals.is_empty() || a.concurrency == 0 {
            return Err("--target and at least one --local are required".into());
        }
        Ok(a)
    }
}

/// The initiators' connection: PSK, one Child SA 10.1.0.0/16 <-> 10.2.0.0/16, no rekeying.
///
/// # Panics
/// On a proposal the engine cannot parse.
pub fn initiator_connection(a: &Args) -> ConnectionConfig {
    let ike = ProposalSpec::parse_ike(&a.proposal).expect("--proposal");
    let mut c = ConnectionConfig::new("load", Identity::fqdn(&a.id), a.psk.as_bytes(), vec![ike]);
    c.remote_id = a.remote_id.as_deref().map(Identity::fqdn);
    c.ike_lifetime = Lifetime::NONE;
    let mut child = ChildConfig::new(
        "net",
        vec![ProposalSpec::parse_esp(&a.esp).expect("--esp")],
        vec![selector("10.1.0.0", "10.1.255.255")],
        vec![selector("10.2.0.0", "10.2.255.255")],
    );
    child.lifetime = Lifetime::NONE;
    c.children.push(child);
    c
}

/// The result of one `ike_load` run.
#[derive(Debug)]
pub struct Report {
    pub label: String,
    pub target: String,
    pub proposal: String,
    pub concurrency: usize,
    pub sources: usize,
    pub requested: usize,
    pub started: usize,
    pub completed: usize,
    pub failed: usize,
    /// From the first initiation to the last completion.
    pub elapsed_s: f64,
    pub responder_cpu_s: Option<f64>,
    pub generator_cpu_s: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p90_ms: Option<f64>,
}

impl Report {
    /// Completed IKE SAs per second.
    pub fn rate(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.completed as f64 / self.elapsed_s
        } else {
            0.0
        }
    }

    /// One line of JSON.
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or_else(|| "null".to_string(), |x| format!("{x:.6}"));
        let per_hs = self
            .responder_cpu_s
            .filter(|_| self.completed > 0)
            .map(|c| c * 1e6 / self.completed as f64);
        format!(
            "{{\"bench\":\"ike_load\",\"label\":{},\"target\":{},\"proposal\":{},\"concurrency\":{},\
\"sources\":{},\"requested\":{},\"started\":{},\"completed\":{},\"failed\":{},\"elapsed_s\":{:.6},\
\"rate_per_s\":{:.1},\"responder_cpu_s\":{},\"responder_cpu_per_handshake_us\":{},\
\"generator_cpu_s\":{},\"latency_p50_ms\":{},\"latency_p90_ms\":{}}}",
            json_str(&self.label),
            json_str(&self.target),
            json_str(&self.proposal),
            self.concurrency,
            self.sources,
            self.requested,
            self.started,
            self.completed,
            self.failed,
            self.elapsed_s,
            self.rate(),
            opt(self.responder_cpu_s),
            opt(per_hs),
            opt(self.generator_cpu_s),
            opt(self.latency_p50_ms),
            opt(self.latency_p90_ms),
        )
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// User plus system CPU seconds of process `pid` (all its threads), from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks())
}

/// USER_HZ: 100 on every Linux architecture we run on; `getconf` confirms it when present.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The `p`-th percentile (nearest rank) of sorted durations.
pub fn percentile(sorted: &[Duration], p: usize) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}
