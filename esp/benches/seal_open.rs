//! Seal and open of one packet with the default provider: 64-byte and 1400-byte inner IPv4
//! packets, AES-256-GCM and ChaCha20-Poly1305, one core.
//!
//! `cargo bench -p esp --bench seal_open`. Criterion prints time per packet and throughput of
//! inner bytes. Open runs on a copy of the sealed packet prepared outside the timed part, with
//! the replay window disabled so the same packet can be opened again. `aead/N` is the
//! provider's AEAD alone on the same payload, so that the datapath's own share shows as the
//! difference measured in the same run (the machines are shared and noisy).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Spi};
use ipsec_crypto::{AeadAlgorithm, SecretBytes};

const SIZES: [usize; 2] = [64, 1400];
const ALGORITHMS: [(&str, AeadAlgorithm); 2] = [
    ("aes256gcm16", AeadAlgorithm::Aes256Gcm16),
    ("chacha20poly1305", AeadAlgorithm::ChaCha20Poly1305),
];

fn config(alg: AeadAlgorithm) -> SaConfig {
    let mut cfg = SaConfig::new(
        Spi(0x0100_0001),
        Cipher::Aead(alg),
        SecretBytes::new(vec![0x42; 36]),
    );
    cfg.esn = true;
    cfg.replay_window = 0;
    cfg
}

fn inner_ipv4(len: usize) -> Vec<u8> {
    let mut p = vec![0xa5; len];
    p[..4].copy_from_slice(&[0x45, 0, (len >> 8) as u8, len as u8]);
    p
}

fn seal_open(c: &mut Criterion) {
    let provider = ipsec_crypto::default_provider();
    for (name, alg) in ALGORITHMS {
        let mut group = c.benchmark_group(format!("esp/{name}"));
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let mut out = OutboundSa::new(provider, config(alg)).expect("outbound SA");
            let start = OutboundSa::HEADROOM;
            let mut buf = vec![0; start + size + OutboundSa::TAILROOM];
            buf[start..start + size].copy_from_slice(&inner_ipv4(size));
            group.bench_function(format!("seal/{size}"), |b| {
                b.iter(|| {
                    // Sealing encrypts in place: restore the version nibble it reads.
                    buf[start] = 0x45;
                    out.seal(&mut buf, start, size).expect("seal")
                });
            });

            let key = provider
                .aead(alg)
                .expect("AEAD")
                .new_key(&[0x42; 36])
                .expect("key");
            let mut payload = vec![0xa5; (size + 2).next_multiple_of(4)];
            group.bench_function(format!("aead/{size}"), |b| {
                b.iter(|| {
                    key.seal_in_place(&[1; 8], &[2; 8], &mut payload)
                        .expect("seal")
                });
            });

            buf[start..start + size].copy_from_slice(&inner_ipv4(size));
            let range = out.seal(&mut buf, start, size).expect("seal");
            let packet = buf[range].to_vec();
            let mut inb = InboundSa::new(provider, config(alg)).expect("inbound SA");
            group.bench_function(format!("open/{size}"), |b| {
                b.iter_batched_ref(
                    || packet.clone(),
                    |p| inb.open(p).expect("open"),
                    BatchSize::SmallInput,
                );
            });
        }
        group.finish();
    }
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
