//! The datapath's user-space work per packet, without I/O: a 64 KiB TCP super-packet is
//! segmented and sealed as the sender does, then opened and coalesced as the receiver does.
//! Prints nanoseconds per 1420-byte inner packet for each stage (best of several runs, so that
//! other load on the machine matters less).
//!
//! ```text
//! cargo run --release -p dataplane --example pipeline
//! ```

use std::hint::black_box;
use std::time::Instant;

use dataplane::{Coalescer, Segmenter};
use esp::{Cipher, InboundSa, OutboundSa, SaConfig, Spi};
use ipsec_crypto::{AeadAlgorithm, SecretBytes, default_provider};
use ipsec_sys::{GsoType, VirtioNetHdr};

const MSS: usize = 1368;
const ROUNDS: usize = 400;
const REPEATS: usize = 7;

fn main() {
    for alg in [AeadAlgorithm::Aes256Gcm16, AeadAlgorithm::ChaCha20Poly1305] {
        run(alg);
    }
}

fn run(alg: AeadAlgorithm) {
    let provider = default_provider();
    let cfg = || {
        SaConfig::new(
            Spi(0x1001),
            Cipher::Aead(alg),
            SecretBytes::new(vec![7; 36]),
        )
    };
    let mut out = OutboundSa::new(provider, cfg()).expect("SA");
    let mut inb = InboundSa::new(provider, cfg()).expect("SA");
    inb_window_off(&mut inb);
    let (hdr, big) = super_packet();
    let segments = big.len().div_ceil(MSS);
    let mut tx = vec![0u8; 1 << 20];
    let mut coalescer = Coalescer::new(4 << 20, 512, true);

    let mut best = [f64::MAX; 4];
    for _ in 0..REPEATS {
        let mut t = [0f64; 4];
        for _ in 0..ROUNDS {
            // Sender: segment into the send buffer, then seal in place.
            let start = Instant::now();
            let mut seg = Segmenter::new(&hdr, &big).expect("segmenter");
            let mut at = 0;
            let mut spans = [(0usize, 0usize); 64];
            let mut n = 0;
            while let Some(len) = seg.next_len() {
                let inner = at + OutboundSa::HEADROOM;
                seg.write_next(&mut tx[inner..]);
                spans[n] = (inner, len);
                n += 1;
                at = inner + len + OutboundSa::TAILROOM;
            }
            let t1 = Instant::now();
            let mut packets = [(0usize, 0usize); 64];
            for i in 0..n {
                let r = out.seal(&mut tx, spans[i].0, spans[i].1).expect("seal");
                packets[i] = (r.start, r.end);
            }
            let t2 = Instant::now();
            // Receiver: open in place, then coalesce and flush.
            let mut inners = [(0usize, 0usize); 64];
            for i in 0..n {
                let (s, e) = packets[i];
                let opened = inb.open(&mut tx[s..e]).expect("open");
                inners[i] = (s + opened.inner.start, s + opened.inner.end);
            }
            let t3 = Instant::now();
            for &(s, e) in &inners[..n] {
                coalescer.push(&tx[s..e]).expect("room");
            }
            let mut written = 0;
            coalescer.flush(|b| written += black_box(b).len());
            let t4 = Instant::now();
            assert!(written > big.len());
            t[0] += (t1 - start).as_secs_f64();
            t[1] += (t2 - t1).as_secs_f64();
            t[2] += (t3 - t2).as_secs_f64();
            t[3] += (t4 - t3).as_secs_f64();
        }
        for (b, v) in best.iter_mut().zip(t) {
            *b = b.min(v);
        }
    }
    let per = |v: f64| v / (ROUNDS * segments) as f64 * 1e9;
    println!(
        "{alg:?}: ns per {}-byte packet: segment {:.0}, seal {:.0}, open {:.0}, coalesce {:.0}; \
         total {:.0}",
        MSS + 52,
        per(best[0]),
        per(best[1]),
        per(best[2]),
        per(best[3]),
        per(best.iter().sum()),
    );
}

/// Replay checking would refuse the same sequence numbers on the next round: the benchmark
/// uses a fresh inbound SA state each round by disabling the window.
fn inb_window_off(sa: &mut InboundSa) {
    let provider = default_provider();
    let mut cfg = SaConfig::new(Spi(0x1001), sa.cipher(), SecretBytes::new(vec![7; 36]));
    cfg.replay_window = 0;
    *sa = InboundSa::new(provider, cfg).expect("SA");
}

/// A TCP/IPv4 super-packet of 47 full segments as the kernel hands it over with TSO.
fn super_packet() -> (VirtioNetHdr, Vec<u8>) {
    let payload = 47 * MSS;
    let mut p = vec![0u8; 52 + payload];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&((52 + payload) as u16).to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&[10, 99, 0, 1]);
    p[16..20].copy_from_slice(&[10, 99, 0, 2]);
    p[20..22].copy_from_slice(&40000u16.to_be_bytes());
    p[22..24].copy_from_slice(&5201u16.to_be_bytes());
    p[32] = 8 << 4;
    p[33] = 0x10;
    p[34..36].copy_from_slice(&512u16.to_be_bytes());
    p[40..52].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    for (i, b) in p[52..].iter_mut().enumerate() {
        *b = (i * 7) as u8;
    }
    let hdr = VirtioNetHdr {
        flags: VirtioNetHdr::F_NEEDS_CSUM,
        gso_type: GsoType::TcpV4,
        hdr_len: 52,
        gso_size: MSS as u16,
        csum_start: 20,
        csum_offset: 16,
        ..VirtioNetHdr::plain()
    };
    (hdr, p)
}
