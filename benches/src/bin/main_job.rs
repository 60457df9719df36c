//! The main job on its embedded default: a hybrid X25519 + ML-KEM-768 IKEv2 handshake between two
//! endpoints, keyed additionally with a post-quantum preshared key, with per-exchange timings.
//!
//! This in-memory form runs until the daemon can bring up the same tunnel between two network
//! namespaces.

use std::time::Duration;

use benches::{Scenario, median, run_handshake};

fn main() {
    let provider = ipsec_crypto::default_provider();
    let mut ppk = vec![0u8; 32];
    if provider.fill_random(&mut ppk).is_err() {
        eprintln!("error: the system random number generator failed");
        std::process::exit(1);
    }
    let scenario = Scenario::hybrid(Some(ppk));
    let first = run_handshake(&scenario, provider, provider);
    println!("IKE SA established: {} (PPK used: {})", first.proposal, first.ppk_used);
    println!("  {} datagrams, {} bytes on the wire", first.datagrams, first.bytes);
    let runs = 200;
    let mut by_phase: std::collections::BTreeMap<(String, &str), Vec<Duration>> = Default::default();
    for _ in 0..runs {
        let run = run_handshake(&scenario, provider, provider);
        for (side, times) in [("initiator", &run.initiator), ("responder", &run.responder)] {
            for (ex, d) in &times.per_exchange {
                by_phase.entry((ex.clone(), side)).or_default().push(*d);
            }
            by_phase.entry(("total".into(), side)).or_default().push(times.total);
        }
    }
    println!("\nCPU time per phase (median of {runs} handshakes, provider {}):", provider.name());
    println!("  {:<18} {:>12} {:>12}", "phase", "initiator", "responder");
    for phase in ["IKE_SA_INIT", "IKE_INTERMEDIATE", "IKE_AUTH", "total"] {
        let get = |side| by_phase.get(&(phase.to_string(), side)).map(|v| format!("{:.1} µs", median(v.clone()).as_secs_f64() * 1e6)).unwrap_or_else(|| "-".into());
        println!("  {:<18} {:>12} {:>12}", phase, get("initiator"), get("responder"));
    }
}
