//! Latency of one `enc_keys` (master at KME A) plus `dec_keys` (slave at KME B) round trip
//! over mutual TLS on loopback, against the in-process simulator.
//!
//! `cargo run --release -p qkd-kme-sim --example qkd_roundtrip [ROUNDS]`
//!
//! "warm" reuses each client's kept-alive connection; "cold" builds new clients, so every
//! request pays a TCP connect and a full TLS handshake.

use std::time::{Duration, Instant};

use qkd_client::{ClientConfig, KmeClient};
use qkd_kme_sim::{SimConfig, SimPki};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(50), |s| s.parse())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(rounds.clamp(1, 10_000)))
}

async fn run(rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let pki = SimPki::generate(&["alice", "bob"], "KME_A", "KME_B")?;
    let sim = qkd_kme_sim::spawn(SimConfig::new(pki.kme_tls())).await?;
    let client = |sae: &str, url: String| -> Result<KmeClient, qkd_client::QkdError> {
        let creds = &pki
            .sae(sae)
            .ok_or_else(|| qkd_client::QkdError::Config("no SAE".into()))?
            .cert;
        KmeClient::new(ClientConfig::new(
            url,
            creds.cert_pem.clone(),
            creds.key_pem.clone(),
            pki.ca_pem.clone(),
        ))
    };

    let alice = client("alice", sim.url_a())?;
    let bob = client("bob", sim.url_b())?;
    let mut enc = Vec::with_capacity(rounds);
    let mut dec = Vec::with_capacity(rounds);
    for i in 0..rounds + WARMUP {
        let t0 = Instant::now();
        let keys = alice.enc_keys("bob", 1, 256).await?;
        let t1 = Instant::now();
        let ids: Vec<_> = keys.iter().map(|k| k.key_id()).collect();
        let got = bob.dec_keys("alice", &ids).await?;
        let t2 = Instant::now();
        assert_eq!(got[0].dangerous_key(), keys[0].dangerous_key());
        if i >= WARMUP {
            enc.push(t1 - t0);
            dec.push(t2 - t1);
        }
    }
    report("warm enc_keys", &mut enc);
    report("warm dec_keys", &mut dec);
    let mut both: Vec<Duration> = enc.iter().zip(&dec).map(|(a, b)| *a + *b).collect();
    report("warm round trip", &mut both);

    let mut cold = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        let keys = client("alice", sim.url_a())?
            .enc_keys("bob", 1, 256)
            .await?;
        let ids: Vec<_> = keys.iter().map(|k| k.key_id()).collect();
        client("bob", sim.url_b())?.dec_keys("alice", &ids).await?;
        cold.push(t0.elapsed());
    }
    report("cold round trip (2 TLS handshakes)", &mut cold);
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:>36}: median {:>8.1} µs  p10 {:>8.1} µs  p90 {:>8.1} µs  (n={})",
        at(0.5).as_secs_f64() * 1e6,
        at(0.1).as_secs_f64() * 1e6,
        at(0.9).as_secs_f64() * 1e6,
        samples.len()
    );
}

const WARMUP: usize = 5;
