//! Benchmark: memory and time for many IKE SAs, each side in its own process.
//!
//! Builds N IKE SAs (each with its first Child SA) from endpoint A (initiator, this process)
//! to endpoint B (responder, this binary re-executed with `--responder`, its stdin and stdout
//! carrying the datagrams), measures each side's resident memory (`/proc/self/statm`) and live
//! heap (a counting allocator) once all are established, then deletes them all (INFORMATIONAL
//! with DELETE) and times that. Separate processes make the RSS figures per side: what one
//! daemon holding N SAs as initiator, or as responder, would hold. A driver's calls are made as
//! a real one would: after each datagram it asks for the next deadline
//! ([`Endpoint::poll_timeout`]) and fires due timers, so the cost of the timer structure is
//! part of the figures. CPU per side counts only the time inside the endpoint's calls.
//!
//! `cargo run --release -p benches --bin sa_scale -- [N] [IKE-PROPOSAL]`
//!
//! Prints a human-readable summary on stderr and one JSON line on stdout.

#[path = "sa_scale/link.rs"]
mod link;
#[path = "sa_scale/responder.rs"]
mod responder;

use std::io::{self, BufReader, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{Scenario, connection};
use ikev2::{Endpoint, EndpointConfig, Event, SaId, Transmit};
use ipsec_sys::CountingAllocator;
use serde_json::json;

use self::link::{Frame, Report};

/// Counts the live heap; the unsafe `GlobalAlloc` impl lives in `ipsec-sys`.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator::new();

/// SAs connected before the datagrams are exchanged; bounded so the half-open limits of the
/// responder are never the subject of the measurement.
const BATCH: usize = 500;

/// The responder process and its pipes.
struct Peer {
    child: Child,
    tx: BufWriter<ChildStdin>,
    rx: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(n: usize, ike: &str) -> io::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--responder", &n.to_string(), ike])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let (Some(tx), Some(rx)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("responder pipes missing"));
        };
        Ok(Self {
            child,
            tx: BufWriter::new(tx),
            rx: BufReader::new(rx),
        })
    }

    /// Sends a batch and `end`; returns the responder's datagrams and its report.
    fn exchange(&mut self, out: Vec<Transmit>, end: &Frame) -> io::Result<(Vec<Transmit>, Report)> {
        for t in out {
            link::write(&mut self.tx, &Frame::Datagram(t))?;
        }
        link::write(&mut self.tx, end)?;
        self.tx.flush()?;
        let mut back = Vec::new();
        loop {
            match link::read(&mut self.rx)? {
                Frame::Datagram(t) => back.push(t),
                Frame::Report(r) => return Ok((back, r)),
                Frame::Flush | Frame::Quit => {
                    return Err(io::Error::other("unexpected frame from the responder"));
                }
            }
        }
    }
}

struct Net {
    a: Endpoint,
    peer: Peer,
    now: Instant,
    /// Time inside A's calls.
    cpu_a: Duration,
    /// The responder's last report.
    b: Report,
    a_up: Vec<SaId>,
    a_closed: usize,
    a_failures: usize,
}

impl Net {
    /// Delivers datagrams both ways until none is left (bounded rounds).
    fn pump(&mut self) -> io::Result<()> {
        for _ in 0..64 {
            let to_b: Vec<Transmit> = std::iter::from_fn(|| self.a.poll_transmit()).collect();
            let sent = to_b.len();
            let (to_a, report) = self.peer.exchange(to_b, &Frame::Flush)?;
            self.b = report;
            if sent == 0 && to_a.is_empty() {
                break;
            }
            for d in &to_a {
                let t = Instant::now();
                self.a.handle_datagram(self.now, d.remote, d.local, &d.data);
                drive_timers(&mut self.a, self.now);
                self.cpu_a += t.elapsed();
            }
            self.drain_events();
        }
        Ok(())
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.a.poll_event() {
            match e {
                Event::IkeSaEstablished { sa, .. } => self.a_up.push(sa),
                Event::IkeSaClosed { .. } => self.a_closed += 1,
                Event::IkeSaFailed { .. } => self.a_failures += 1,
                _ => {}
            }
        }
    }

    /// Builds `n` IKE SAs; returns the wall time.
    fn build(&mut self, n: usize, scenario: &Scenario) -> io::Result<Duration> {
        let conn = Arc::new(connection(scenario, true));
        let b_addr: SocketAddr = "192.0.2.2:500".parse().expect("literal address");
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
                    .connect(self.now, conn.clone(), local, b_addr)
                    .expect("connect");
            }
            self.cpu_a += t.elapsed();
            made += batch;
            self.pump()?;
        }
        Ok(start.elapsed())
    }

    /// Deletes every IKE SA A established; returns the wall time.
    fn teardown(&mut self) -> io::Result<Duration> {
        let ids = std::mem::take(&mut self.a_up);
        let start = Instant::now();
        for chunk in ids.chunks(BATCH) {
            let t = Instant::now();
            for sa in chunk {
                self.a.close(self.now, *sa).expect("the SA exists");
            }
            self.cpu_a += t.elapsed();
            self.pump()?;
        }
        Ok(start.elapsed())
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
    GLOBAL.live_bytes()
}

fn per_sa(bytes: u64, n: usize) -> u64 {
    bytes / (n.max(1) as u64)
}

fn secs(ns: u64) -> f64 {
    Duration::from_nanos(ns).as_secs_f64()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let responder = args.first().is_some_and(|a| a == "--responder");
    if responder {
        args.remove(0);
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let ike = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "aes256gcm16-prfsha384-x25519".into());
    let scenario = Scenario {
        ike: ike.clone(),
        esp: "aes256gcm16".into(),
        ppk: None,
    };
    let outcome = if responder {
        responder::run(&scenario)
    } else {
        initiate(n, &scenario)
    };
    if let Err(e) = outcome {
        eprintln!(
            "sa_scale{}: {e}",
            if responder { " (responder)" } else { "" }
        );
        std::process::exit(1);
    }
}

/// The initiator process: builds, measures both sides, tears down, prints the results.
fn initiate(n: usize, scenario: &Scenario) -> io::Result<()> {
    let peer = Peer::spawn(n, &scenario.ike)?;
    let (rss0, heap0) = (rss_bytes(), live());
    let mut net = Net {
        a: Endpoint::new(EndpointConfig::default(), ipsec_crypto::default_provider()),
        peer,
        now: Instant::now(),
        cpu_a: Duration::ZERO,
        b: Report::default(),
        a_up: Vec::new(),
        a_closed: 0,
        a_failures: 0,
    };
    let setup = net.build(n, scenario)?;
    let rss_a = rss_bytes().saturating_sub(rss0) as u64;
    let heap_a = live().saturating_sub(heap0) as u64;
    let built = net.b;
    let up_a = net.a_up.len();
    let setup_cpu_a = std::mem::take(&mut net.cpu_a);
    let teardown = net.teardown()?;
    let (_, last) = net.peer.exchange(Vec::new(), &Frame::Quit)?;
    let status = net.peer.child.wait()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "the responder exited with {status}"
        )));
    }
    let teardown_cpu_b = last.cpu_ns.saturating_sub(built.cpu_ns);
    let left = (net.a.sa_count(), last.sas);
    let failures = net.a_failures + last.failures as usize;
    let (rss_b, heap_b) = (built.rss_bytes, built.heap_bytes);
    eprintln!(
        "{n} SAs ({}), one process per side: up {up_a}/{}, setup {:.2} s (cpu A {:.2} s, B {:.2} s), \
         teardown {:.2} s (cpu A {:.2} s, B {:.2} s), closed {}/{}, left {left:?}, failures {failures}",
        scenario.ike,
        built.established,
        setup.as_secs_f64(),
        setup_cpu_a.as_secs_f64(),
        secs(built.cpu_ns),
        teardown.as_secs_f64(),
        net.cpu_a.as_secs_f64(),
        secs(teardown_cpu_b),
        net.a_closed,
        last.closed,
    );
    eprintln!(
        "memory per SA: RSS initiator {} B, responder {} B; heap initiator {} B, responder {} B",
        per_sa(rss_a, n),
        per_sa(rss_b, n),
        per_sa(heap_a, n),
        per_sa(heap_b, n)
    );
    let line = json!({
        "bench": "sa_scale",
        "sas": n,
        "ike": scenario.ike,
        "processes": "one per side",
        "established": [up_a, built.established],
        "setup_s": round3(setup.as_secs_f64()),
        "setup_cpu_s": {"initiator": round3(setup_cpu_a.as_secs_f64()), "responder": round3(secs(built.cpu_ns))},
        "teardown_s": round3(teardown.as_secs_f64()),
        "teardown_cpu_s": {"initiator": round3(net.cpu_a.as_secs_f64()), "responder": round3(secs(teardown_cpu_b))},
        "closed": [net.a_closed, last.closed],
        "left": [left.0, left.1],
        "failures": failures,
        "rss_bytes_initiator": rss_a,
        "rss_bytes_responder": rss_b,
        "rss_bytes_per_sa_initiator": per_sa(rss_a, n),
        "rss_bytes_per_sa_responder": per_sa(rss_b, n),
        "heap_bytes_per_sa_initiator": per_sa(heap_a, n),
        "heap_bytes_per_sa_responder": per_sa(heap_b, n),
    });
    println!("{line}");
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}
