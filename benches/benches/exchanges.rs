//! CPU per exchange and per side, in memory, on the public `ikev2::Endpoint` API: IKE_SA_INIT,
//! IKE_INTERMEDIATE, IKE_AUTH, CREATE_CHILD_SA without and with key exchanges, for every
//! key-exchange scenario and every compiled-in crypto provider.
//!
//! `cargo bench -p benches --features rustcrypto --bench exchanges`
//! Environment: `PQB_QUICK=1` (default provider, two scenarios, shorter runs),
//! `PQB_WALL_PER_BENCH_MS` (wall-clock budget of one benchmark, default 2500).
//!
//! Each iteration runs a whole flow between fresh endpoints (an `Endpoint` cannot be copied
//! mid-handshake) and reports only the calls into the measured side for the measured exchange.
//! The measurement time is scaled down by how much of a flow that is, so every benchmark takes
//! about the same wall-clock time.

use std::time::{Duration, Instant};

use benches::flow::{FlowTimes, Side, Stage, exchanges, run_flow};
use benches::{Scenario, providers, scenarios};
use criterion::Criterion;
use ipsec_crypto::CryptoProvider;

fn main() {
    let quick = std::env::var_os("PQB_QUICK").is_some();
    let wall_ms: u64 = std::env::var("PQB_WALL_PER_BENCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 800 } else { 2500 });
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(wall_ms / 10))
        .configure_from_args();
    let mut provs = providers();
    let mut scns = scenarios();
    if quick {
        provs.truncate(1);
        scns.retain(|(n, _)| *n == "x25519" || *n == "x25519+mlkem768");
    }
    for p in provs {
        for (name, s) in &scns {
            bench_scenario(&mut c, p, name, s, Duration::from_millis(wall_ms));
        }
    }
    c.final_summary();
}

fn bench_scenario(
    c: &mut Criterion,
    p: &'static dyn CryptoProvider,
    name: &str,
    s: &Scenario,
    wall: Duration,
) {
    let intermediate = s.ike.contains("ke1_");
    let mut g = c.benchmark_group(format!("{}/{name}", p.name()));
    for side in [Side::Initiator, Side::Responder] {
        for ex in exchanges(Stage::ChildKe, intermediate) {
            let stage = stage_for(ex);
            let share = share_of_flow(s, p, stage, side, ex);
            let measure = wall.mul_f64(share).clamp(Duration::from_millis(20), wall);
            g.measurement_time(measure);
            g.bench_function(format!("{}/{ex}", side.name()), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| pick(&run_flow(s, p, stage), side, ex))
                        .sum()
                });
            });
        }
    }
    g.finish();
}

/// The shortest flow that contains exchange `ex`.
fn stage_for(ex: &str) -> Stage {
    match ex {
        benches::flow::CHILD => Stage::Child,
        benches::flow::CHILD_KE => Stage::ChildKe,
        _ => Stage::Initial,
    }
}

fn pick(t: &FlowTimes, side: Side, ex: &str) -> Duration {
    t.get(&(side, ex.to_string())).copied().unwrap_or_default()
}

/// The measured part's share of a flow's wall-clock time, from a few trial flows.
fn share_of_flow(
    s: &Scenario,
    p: &'static dyn CryptoProvider,
    stage: Stage,
    side: Side,
    ex: &str,
) -> f64 {
    let (mut part, mut all) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..5 {
        let t = Instant::now();
        let times = run_flow(s, p, stage);
        all += t.elapsed();
        part += pick(&times, side, ex);
    }
    (part.as_secs_f64() / all.as_secs_f64().max(1e-9)).clamp(0.0, 1.0)
}
