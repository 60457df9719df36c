//! The N3IWF user plane's per-packet work in the workers, without I/O: uplink (decrypted
//! IP/GRE from the UE → G-PDU to the UPF) and downlink (G-PDU → inner IP/GRE → ESP sealed for
//! the UE, AES-256-GCM). Prints nanoseconds per 1400-byte user packet (best of several runs, so
//! that other load on the machine matters less). The ESP open of the uplink is measured by the
//! `pipeline` example.
//!
//! ```text
//! cargo run --release -p dataplane --example user_plane
//! ```

use std::hint::black_box;
use std::time::Instant;

use dataplane::bench_support::UserPlaneBench;
use esp::{Cipher, OutboundSa, SaConfig, Spi};
use ipsec_crypto::{AeadAlgorithm, SecretBytes, default_provider};

const USER_LEN: usize = 1400;
const ROUNDS: usize = 20_000;
const REPEATS: usize = 7;

fn main() {
    let mut bench = UserPlaneBench::default();
    let cfg = SaConfig::new(
        Spi(0x1001),
        Cipher::Aead(AeadAlgorithm::Aes256Gcm16),
        SecretBytes::new(vec![7; 36]),
    );
    let mut sa = OutboundSa::new(default_provider(), cfg).expect("SA");
    let user = ipv4(
        [10, 60, 0, 7],
        [198, 51, 100, 1],
        17,
        &vec![0x5a; USER_LEN - 20],
    );
    let mut gre = vec![0x20, 0, 0x08, 0, 5, 0, 0, 0];
    gre.extend_from_slice(&user);
    let inner = ipv4([10, 45, 0, 2], [10, 45, 0, 1], 47, &gre);
    let mut gpdu = vec![0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0x45, 0];
    gpdu.extend_from_slice(&user);
    let len = (gpdu.len() - 8) as u16;
    gpdu[2..4].copy_from_slice(&len.to_be_bytes());

    let ul = best_ns(|| black_box(bench.uplink(black_box(&inner))).expect("uplink"));
    let dl = best_ns(|| black_box(bench.downlink(black_box(&gpdu), &mut sa)).expect("downlink"));
    println!(
        "user plane, ns per {USER_LEN}-byte user packet: uplink GRE → G-PDU {ul:.0}; \
         downlink G-PDU → GRE → ESP seal (AES-256-GCM) {dl:.0}"
    );
}

/// Nanoseconds per call of `f`, best of [`REPEATS`] runs of [`ROUNDS`] calls.
fn best_ns(mut f: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..REPEATS {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() / ROUNDS as f64 * 1e9);
    }
    best
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&((20 + body.len()) as u16).to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(body);
    p
}
