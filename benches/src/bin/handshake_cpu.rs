//! Benchmark: CPU time per side of a full in-memory handshake (IKE_SA_INIT, IKE_INTERMEDIATE,
//! IKE_AUTH with the first Child SA), median over many runs, for several scenarios and providers.
//!
//! `cargo run --profile dist -p benches --bin handshake_cpu [-- RUNS]`

use std::time::Duration;

use benches::{Scenario, median, run_handshake};
use ipsec_crypto::CryptoProvider;

// One push per provider compiled in.
#[allow(clippy::vec_init_then_push)]
fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let providers: Vec<&'static dyn CryptoProvider> = vec![
        #[cfg(feature = "default-provider")]
        ipsec_crypto::default_provider(),
        #[cfg(feature = "rustcrypto")]
        ipsec_crypto::rustcrypto_provider(),
    ];
    let scenarios = [
        (
            "x25519",
            Scenario {
                ike: "aes256gcm16-prfsha384-x25519".into(),
                esp: "aes256gcm16".into(),
                ppk: None,
            },
        ),
        ("x25519+mlkem768", Scenario::hybrid(None)),
        (
            "x25519+mlkem768+ppk",
            Scenario::hybrid(Some(vec![0x42; 32])),
        ),
        (
            "x25519+mlkem1024",
            Scenario {
                ike: "aes256gcm16-prfsha384-x25519-ke1_mlkem1024".into(),
                esp: "aes256gcm16".into(),
                ppk: None,
            },
        ),
    ];
    println!(
        "{:<12} {:<22} {:>14} {:>14} {:>14}  (median of {runs} runs, µs of CPU)",
        "provider", "scenario", "initiator", "responder", "both"
    );
    for p in &providers {
        for (name, s) in &scenarios {
            let _ = run_handshake(s, *p, *p); // warm-up
            let mut i = Vec::with_capacity(runs);
            let mut r = Vec::with_capacity(runs);
            let mut both = Vec::with_capacity(runs);
            for _ in 0..runs {
                let run = run_handshake(s, *p, *p);
                i.push(run.initiator.total);
                r.push(run.responder.total);
                both.push(run.initiator.total + run.responder.total);
            }
            println!(
                "{:<12} {:<22} {:>14} {:>14} {:>14}",
                p.name(),
                name,
                us(median(i)),
                us(median(r)),
                us(median(both))
            );
        }
    }
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}
