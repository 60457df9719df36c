//! Benchmark: memory and time for many IKE SAs between two in-memory endpoints.
//!
//! Builds N IKE SAs (each with its first Child SA) from endpoint A (initiator) to endpoint B
//! (responder), measures resident memory (`/proc/self/statm`) and live heap (a counting
//! allocator) once all are established, then deletes them all (INFORMATIONAL with DELETE) and
//! times that. A driver's calls are made as a real one would: after each datagram it asks for
//! the next deadline ([`Endpoint::poll_timeout`]) and fires due timers, so the cost of the timer
//! structure is part of the figures.
//!
//! Per-side memory comes from a second build of the same N SAs, after which B and then A are
//! dropped: each drop frees exactly that side's heap.
//!
//! `cargo run --release -p benches --bin sa_scale -- [N] [IKE-PROPOSAL]`
//!
//! Prints a human-readable summary on stderr and one JSON line on stdout.

// The counting allocator must implement `GlobalAlloc`, an unsafe trait; it only forwards.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use benches::{Scenario, connection};
use ikev2::{Endpoint, EndpointConfig, Event, SaId, Transmit};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// SAs connected before the datagrams are exchanged; bounded so the half-open limits of the
/// responder are never the subject of the measurement.
const BATCH: usize = 500;

/// CPU time spent inside each endpoint.
#[derive(Default)]
struct Cpu {
    a: Duration,
    b: Duration,
}

struct Net {
    a: Endpoint,
    b: Endpoint,
    b_addr: SocketAddr,
    now: Instant,
    cpu: Cpu,
    a_up: Vec<SaId>,
    b_up: usize,
    a_closed: usize,
    b_closed: usize,
    failures: usize,
}

impl Net {
    fn new(scenario: &Scenario) -> Self {
        let rcfg = EndpointConfig {
            connections: vec![Arc::new(connection(scenario, false))],
            ..EndpointConfig::default()
        };
        let provider = ipsec_crypto::default_provider();
        Self {
            a: Endpoint::new(EndpointConfig::default(), provider),
            b: Endpoint::new(rcfg, provider),
            b_addr: "192.0.2.2:500".parse().expect("literal address"),
            now: Instant::now(),
            cpu: Cpu::default(),
            a_up: Vec::new(),
            b_up: 0,
            a_closed: 0,
            b_closed: 0,
            failures: 0,
        }
    }

    /// Delivers datagrams both ways until none is left (bounded rounds).
    fn pump(&mut self) {
        for _ in 0..64 {
            let to_b: Vec<Transmit> = std::iter::from_fn(|| self.a.poll_transmit()).collect();
            let to_a: Vec<Transmit> = std::iter::from_fn(|| self.b.poll_transmit()).collect();
            if to_a.is_empty() && to_b.is_empty() {
                break;
            }
            for d in &to_b {
                let t = Instant::now();
                self.b.handle_datagram(self.now, d.remote, d.local, &d.data);
                drive_timers(&mut self.b, self.now);
                self.cpu.b += t.elapsed();
            }
            for d in &to_a {
                let t = Instant::now();
                self.a.handle_datagram(self.now, d.remote, d.local, &d.data);
                drive_timers(&mut self.a, self.now);
                self.cpu.a += t.elapsed();
            }
            self.drain_events();
        }
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.a.poll_event() {
            match e {
                Event::IkeSaEstablished { sa, .. } => self.a_up.push(sa),
                Event::IkeSaClosed { .. } => self.a_closed += 1,
                Event::IkeSaFailed { .. } => self.failures += 1,
                _ => {}
            }
        }
        while let Some(e) = self.b.poll_event() {
            match e {
                Event::IkeSaEstablished { .. } => self.b_up += 1,
                Event::IkeSaClosed { .. } => self.b_closed += 1,
                Event::IkeSaFailed { .. } => self.failures += 1,
                _ => {}
            }
        }
    }

    /// Builds `n` IKE SAs; returns the wall time.
    fn build(&mut self, n: usize, scenario: &Scenario) -> Duration {
        let conn = Arc::new(connection(scenario, true));
        let start = Instant::now();
        let mut made = 0;
        while made < n {
            let batch = BATCH.min(n - made);
            let t = Instant::now();
            for i in made..made + batch {
                // One source address per SA, as many clients would be: the responder's
                // per-source COOKIE threshold stays out of the measurement.
                let local = SocketAddr::new(client_addr(i), 500);
                self.a
                    .connect(self.now, conn.clone(), local, self.b_addr)
                    .expect("connect");
            }
            self.cpu.a += t.elapsed();
            made += batch;
            self.pump();
        }
        start.elapsed()
    }

    /// Deletes every IKE SA A established; returns the wall time.
    fn teardown(&mut self) -> Duration {
        let ids = std::mem::take(&mut self.a_up);
        let start = Instant::now();
        for chunk in ids.chunks(BATCH) {
            let t = Instant::now();
            for sa in chunk {
                self.a.close(self.now, *sa);
            }
            self.cpu.a += t.elapsed();
            self.pump();
        }
        start.elapsed()
    }
}

/// What a driver does after each input: ask for the next deadline, fire it when due.
fn drive_timers(ep: &mut Endpoint, now: Instant) {
    if ep.poll_timeout().is_some_and(|t| t <= now) {
        ep.handle_timeout(now);
    }
}

/// A distinct IPv4 address in 10.0.0.0/8 for SA `i`.
fn client_addr(i: usize) -> IpAddr {
    let i = (i as u32) & 0x00ff_ffff;
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i))
}

/// Resident set size from `/proc/self/statm` (pages of 4 KiB).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn per_sa(bytes: usize, n: usize) -> usize {
    bytes / n.max(1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let ike = args
        .next()
        .unwrap_or_else(|| "aes256gcm16-prfsha384-x25519".into());
    let scenario = Scenario {
        ike: ike.clone(),
        esp: "aes256gcm16".into(),
        ppk: None,
    };

    // Pass 1: build, measure the whole process, tear down.
    let (rss0, heap0) = (rss_bytes(), live());
    let mut net = Net::new(&scenario);
    let setup = net.build(n, &scenario);
    let (rss1, heap1) = (rss_bytes(), live());
    let (up_a, up_b) = (net.a_up.len(), net.b_up);
    let setup_cpu = (net.cpu.a, net.cpu.b);
    net.cpu = Cpu::default();
    let teardown = net.teardown();
    let teardown_cpu = (net.cpu.a, net.cpu.b);
    let (closed_a, closed_b, failures) = (net.a_closed, net.b_closed, net.failures);
    let left = (net.a.sa_count(), net.b.sa_count());
    drop(net);

    // Pass 2: build again; each side's heap is what dropping it frees.
    let mut net = Net::new(&scenario);
    net.build(n, &scenario);
    let Net { a, b, .. } = net;
    let before_b = live();
    drop(b);
    let heap_b = before_b - live();
    let before_a = live();
    drop(a);
    let heap_a = before_a - live();

    let rss = rss1.saturating_sub(rss0);
    let heap = heap1.saturating_sub(heap0);
    eprintln!(
        "{n} SAs ({ike}): up {up_a}/{up_b}, setup {:.2} s (cpu A {:.2} s, B {:.2} s), \
         teardown {:.2} s (cpu A {:.2} s, B {:.2} s), closed {closed_a}/{closed_b}, left {left:?}, \
         failures {failures}",
        setup.as_secs_f64(),
        setup_cpu.0.as_secs_f64(),
        setup_cpu.1.as_secs_f64(),
        teardown.as_secs_f64(),
        teardown_cpu.0.as_secs_f64(),
        teardown_cpu.1.as_secs_f64(),
    );
    eprintln!(
        "memory per SA: RSS {} B (both sides), heap {} B (both), initiator {} B, responder {} B",
        per_sa(rss, n),
        per_sa(heap, n),
        per_sa(heap_a, n),
        per_sa(heap_b, n)
    );
    println!(
        "{{\"bench\":\"sa_scale\",\"sas\":{n},\"ike\":\"{ike}\",\"established\":[{up_a},{up_b}],\
         \"setup_s\":{:.3},\"setup_cpu_s\":{{\"initiator\":{:.3},\"responder\":{:.3}}},\
         \"teardown_s\":{:.3},\"teardown_cpu_s\":{{\"initiator\":{:.3},\"responder\":{:.3}}},\
         \"closed\":[{closed_a},{closed_b}],\"left\":[{},{}],\"failures\":{failures},\
         \"rss_bytes\":{rss},\"rss_bytes_per_sa\":{},\"heap_bytes_per_sa\":{},\
         \"heap_bytes_per_sa_initiator\":{},\"heap_bytes_per_sa_responder\":{}}}",
        setup.as_secs_f64(),
        setup_cpu.0.as_secs_f64(),
        setup_cpu.1.as_secs_f64(),
        teardown.as_secs_f64(),
        teardown_cpu.0.as_secs_f64(),
        teardown_cpu.1.as_secs_f64(),
        left.0,
        left.1,
        per_sa(rss, n),
        per_sa(heap, n),
        per_sa(heap_a, n),
        per_sa(heap_b, n),
    );
}
