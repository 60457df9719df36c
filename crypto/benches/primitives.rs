//! The two providers side by side on the primitives that matter for IKEv2 and ESP:
//! ML-KEM-768 key generation, encapsulation and decapsulation, X25519 key generation plus
//! agreement, AES-256-GCM sealing of 1400 octets, HMAC-SHA-256 over 64 octets.
//!
//! With the default provider compiled in, it also times HMAC-SHA-256 on ring and aws-lc-rs, the
//! measurement behind using RustCrypto HMAC in both providers.
//!
//! Run: `cargo bench -p ipsec-crypto --all-features --bench primitives`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ipsec_crypto::{AeadAlgorithm, CryptoProvider, KeGroup, PrfAlgorithm};

/// Every compiled provider.
fn providers() -> Vec<&'static dyn CryptoProvider> {
    vec![
        #[cfg(feature = "default-provider")]
        ipsec_crypto::default_provider(),
        #[cfg(feature = "rustcrypto")]
        ipsec_crypto::rustcrypto_provider(),
    ]
}

/// Short label for a provider.
fn label(provider: &dyn CryptoProvider) -> &'static str {
    if provider.name().starts_with("default") {
        "default"
    } else {
        "rustcrypto"
    }
}

fn ml_kem_768(c: &mut Criterion) {
    let mut group = c.benchmark_group("ml-kem-768");
    for provider in providers() {
        let ke = provider
            .key_exchange(KeGroup::MlKem768)
            .expect("ML-KEM-768");
        let name = label(provider);
        group.bench_function(format!("{name}/keygen"), |b| {
            b.iter(|| black_box(ke.start().expect("keygen")));
        });
        let ek = ke.start().expect("keygen").public().to_vec();
        group.bench_function(format!("{name}/encaps"), |b| {
            b.iter(|| black_box(ke.respond(black_box(&ek)).expect("encaps")));
        });
        group.bench_function(format!("{name}/decaps"), |b| {
            b.iter_batched(
                || {
                    let active = ke.start().expect("keygen");
                    let (ct, _) = ke.respond(active.public()).expect("encaps");
                    (active, ct)
                },
                |(active, ct)| black_box(active.complete(&ct).expect("decaps")),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn x25519(c: &mut Criterion) {
    let mut group = c.benchmark_group("x25519");
    for provider in providers() {
        let ke = provider.key_exchange(KeGroup::X25519).expect("X25519");
        let peer = ke.start().expect("keygen").public().to_vec();
        group.bench_function(format!("{}/keygen+agree", label(provider)), |b| {
            b.iter(|| black_box(ke.respond(black_box(&peer)).expect("agree")));
        });
    }
    group.finish();
}

fn aes_256_gcm(c: &mut Criterion) {
    let mut group = c.benchmark_group("aes-256-gcm");
    group.throughput(criterion::Throughput::Bytes(1400));
    for provider in providers() {
        let aead = provider
            .aead(AeadAlgorithm::Aes256Gcm16)
            .expect("AES-256-GCM");
        let key = aead.new_key(&vec![0x42; aead.keymat_len()]).expect("key");
        let mut packet = vec![0u8; 1400];
        let mut seq = 0u64;
        group.bench_function(format!("{}/seal-1400B", label(provider)), |b| {
            b.iter(|| {
                seq += 1;
                let tag = key.seal_in_place(&seq.to_be_bytes(), b"spi|seq", &mut packet);
                black_box(tag.expect("seal"))
            });
        });
    }
    group.finish();
}

fn hmac_sha256(c: &mut Criterion) {
    let mut group = c.benchmark_group("hmac-sha256-64B");
    let data = [0x5au8; 64];
    let key_bytes = [0x0bu8; 32];
    for provider in providers() {
        let prf = provider
            .prf(PrfAlgorithm::HmacSha256)
            .expect("HMAC-SHA-256");
        let name = label(provider);
        group.bench_function(format!("{name}/with-key-setup"), |b| {
            b.iter(|| {
                let mut out = [0u8; 32];
                prf.key(black_box(&key_bytes)).compute(&[&data], &mut out);
                black_box(out)
            });
        });
        let key = prf.key(&key_bytes);
        group.bench_function(format!("{name}/keyed"), |b| {
            b.iter(|| {
                let mut out = [0u8; 32];
                key.compute(&[black_box(&data)], &mut out);
                black_box(out)
            });
        });
    }
    #[cfg(feature = "default-provider")]
    {
        let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
        group.bench_function("ring/with-key-setup", |b| {
            b.iter(|| {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, black_box(&key_bytes));
                black_box(ring::hmac::sign(&key, &data))
            });
        });
        group.bench_function("ring/keyed", |b| {
            b.iter(|| black_box(ring::hmac::sign(&ring_key, black_box(&data))));
        });
        let aws_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key_bytes);
        group.bench_function("aws-lc-rs/with-key-setup", |b| {
            b.iter(|| {
                let key =
                    aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, black_box(&key_bytes));
                black_box(aws_lc_rs::hmac::sign(&key, &data))
            });
        });
        group.bench_function("aws-lc-rs/keyed", |b| {
            b.iter(|| black_box(aws_lc_rs::hmac::sign(&aws_key, black_box(&data))));
        });
    }
    group.finish();
}

criterion_group!(benches, ml_kem_768, x25519, aes_256_gcm, hmac_sha256);
criterion_main!(benches);
