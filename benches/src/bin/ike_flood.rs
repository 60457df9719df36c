//! Flood generator for the flood benchmark (`scripts/bench-flood.sh`). Bounded in count and
//! time; prints one JSON line.
//!
//! ```text
//! ike_flood --mode spoof --target 10.252.0.2:500 --sources 198.18.0.0/15 --rate 20000
//! ike_flood --mode spoof --target [fd00:252::2]:4500 --sources 2001:db8:f000::/36
//! ike_flood --mode frag --target 10.252.0.2:500 --local 10.252.1.1 --local 10.252.1.2
//! ```
//!
//! `spoof`: IKE_SA_INIT requests (made by our engine, then given a random SPI per datagram)
//! from random addresses of `--sources`, sent through a raw IP socket (needs `CAP_NET_RAW`;
//! the answers go nowhere). To port 4500 they carry the non-ESP marker (RFC 3948).
//!
//! `frag`: initiators that complete IKE_SA_INIT (and IKE_INTERMEDIATE) from real `--local`
//! addresses, then send every fragment of a 30 KB IKE_AUTH request except the last, so the
//! responder holds the partial message until it gives up: the half-open memory budget's case.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::flood::{
    Args, Mode, Report, XorShift, initiator_connection, is_last_auth_fragment, random_in,
    udp_packet,
};
use benches::ike_sockets::{Datagram, IkeSockets};
use ikev2::{Endpoint, EndpointConfig, Event};
use ipsec_sys::RawIpSender;
use tokio::sync::mpsc;

/// Distinct IKE_SA_INIT templates (each with its own nonce and KE value).
const TEMPLATES: usize = 32;
/// Engine timers and pacing are served on this tick.
const TICK: Duration = Duration::from_millis(20);

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ike_flood: {e}\n{}", Args::USAGE);
            std::process::exit(2);
        }
    };
    let report = match args.mode {
        Mode::Spoof => spoof(&args),
        Mode::Frag => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(frag(&args)),
    };
    println!("{}", report.to_json());
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    let _ = ipsec_crypto::default_provider().fill_random(&mut b);
    u64::from_be_bytes(b)
}

/// IKE_SA_INIT requests from our engine, each as sent on the wire (with the non-ESP marker
/// when the target is port 4500).
fn templates(args: &Args) -> Vec<Vec<u8>> {
    let conn = Arc::new(initiator_connection(args, false));
    let mut ep = Endpoint::new(EndpointConfig::default(), ipsec_crypto::default_provider());
    let from = SocketAddr::new(args.sources.map_or_else(|| args.target.ip(), |s| s.0), 500);
    let marker = args.target.port() == 4500;
    (0..TEMPLATES)
        .filter_map(|_| {
            ep.connect(Instant::now(), Arc::clone(&conn), from, args.target)
                .ok()?;
            let t = ep.poll_transmit()?;
            let mut d = if marker { vec![0; 4] } else { Vec::new() };
            d.extend_from_slice(&t.data);
            Some(d)
        })
        .collect()
}

/// Whether pacing allows another datagram now (`rate` 0: always).
fn may_send(rate: u64, sent: u64, since: Duration) -> bool {
    rate == 0 || (sent as f64) < rate as f64 * since.as_secs_f64()
}

fn spoof(args: &Args) -> Report {
    let templates = templates(args);
    let sources = args.sources.expect("checked by Args::parse");
    let sender = RawIpSender::open(args.target.is_ipv4(), 4 << 20)
        .unwrap_or_else(|e| panic!("raw IP socket (needs CAP_NET_RAW): {e}"));
    let spi_at = if args.target.port() == 4500 { 4 } else { 0 };
    let mut rng = XorShift::new(seed());
    let mut r = report(args, "spoof");
    let start = Instant::now();
    let deadline = start + args.duration;
    let mut now = start;
    while r.sent < args.count as u64 && now < deadline {
        if !may_send(args.rate, r.sent, now - start) {
            std::thread::sleep(Duration::from_micros(200));
            now = Instant::now();
            continue;
        }
        let mut ike = templates[(r.sent as usize) % templates.len()].clone();
        ike[spi_at..spi_at + 8].copy_from_slice(&rng.next_u64().max(1).to_be_bytes());
        let src = SocketAddr::new(random_in(sources, &mut rng), args.target.port());
        let packet = udp_packet(src, args.target, &ike).expect("one address family");
        match sender.send(&packet, args.target.ip()) {
            Ok(()) => r.sent += 1,
            Err(_) => {
                r.send_errors += 1;
                std::thread::yield_now();
            }
        }
        if r.sent.is_multiple_of(64) {
            now = Instant::now();
        }
    }
    r.seconds = start.elapsed().as_secs_f64();
    r
}

fn report(args: &Args, mode: &str) -> Report {
    Report {
        label: args.label.clone(),
        mode: mode.into(),
        family: if args.target.is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        }
        .into(),
        target: args.target.to_string(),
        ..Report::default()
    }
}

async fn frag(args: &Args) -> Report {
    let (tx, mut rx) = mpsc::channel::<Datagram>(8192);
    let sockets = IkeSockets::bind(&args.locals, &tx).await;
    let conn = Arc::new(initiator_connection(args, true));
    let mut ep = Endpoint::new(EndpointConfig::default(), ipsec_crypto::default_provider());
    let mut r = report(args, "frag");
    let mut waiting: HashSet<ikev2::SaId> = HashSet::new();
    let mut held: HashSet<[u8; 8]> = HashSet::new();
    let start = Instant::now();
    let deadline = start + args.duration;
    let mut tick = tokio::time::interval(TICK);
    while Instant::now() < deadline {
        let now = Instant::now();
        while waiting.len() < args.concurrency
            && (r.initiators as usize) < args.count
            && may_send(args.rate, r.initiators, now - start)
        {
            let local = sockets.initial[r.initiators as usize % sockets.initial.len()];
            if let Ok(sa) = ep.connect(now, Arc::clone(&conn), local, args.target) {
                waiting.insert(sa);
            }
            r.initiators += 1;
        }
        while let Some(t) = ep.poll_transmit() {
            if is_last_auth_fragment(&t.data) {
                held.insert(t.data[..8].try_into().expect("8 octets"));
                continue;
            }
            r.sent += 1;
            sockets.send(&t).await;
        }
        tokio::select! {
            d = rx.recv() => {
                let Some(d) = d else { break };
                ep.handle_datagram(Instant::now(), d.local, d.from, &d.data);
            }
            _ = tick.tick() => ep.handle_timeout(Instant::now()),
        }
        forget_finished(&mut ep, &mut waiting, &held);
    }
    r.held = held.len() as u64;
    r.seconds = start.elapsed().as_secs_f64();
    r
}

/// Frees the concurrency slot of initiators that failed or whose IKE_AUTH is out (held).
fn forget_finished(ep: &mut Endpoint, waiting: &mut HashSet<ikev2::SaId>, held: &HashSet<[u8; 8]>) {
    while let Some(e) = ep.poll_event() {
        if let Event::IkeSaFailed { sa, .. } = e {
            waiting.remove(&sa);
        }
    }
    waiting.retain(|sa| !held.contains(&sa.0.0.to_be_bytes()));
}
