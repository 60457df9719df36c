//! Handshake-rate load generator: many concurrent IKEv2 initiators in one process, driven by
//! our engine over real UDP sockets, against one responder (iked or strongSwan's charon).
//! Bounded both in handshakes (`--count`) and in time (`--duration`). Prints one JSON line.
//!
//! ```text
//! ike_load --target 192.0.2.2:500 --local 192.0.2.10 --local 192.0.2.11 \
//!     --count 20000 --duration 10 --concurrency 64 --responder-pid PID --label iked
//! ```
//!
//! Initiators are spread over the `--local` addresses (one socket each) so that per-source
//! half-open limits of the responder do not turn the load into a COOKIE exchange. The
//! responder's CPU is the change of utime+stime in `/proc/PID/stat` over the run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::ike_sockets::{Datagram, IkeSockets};
use benches::load::{Args, Report, cpu_seconds, initiator_connection, percentile};
use ikev2::{Endpoint, EndpointConfig, Event, SaId};
use tokio::sync::mpsc;

/// Retransmission timers are served on this tick, not per datagram: `poll_timeout` looks at
/// every SA, which would make the generator slower the more SAs it holds.
const TICK: Duration = Duration::from_millis(50);

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ike_load: {e}\n{}", Args::USAGE);
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = rt.block_on(run(&args));
    println!("{}", report.to_json());
    if args.require_all && report.completed < args.count {
        eprintln!(
            "ike_load: {} of {} handshakes completed ({} failed)",
            report.completed, args.count, report.failed
        );
        std::process::exit(1);
    }
}

async fn run(args: &Args) -> Report {
    let (tx, mut rx) = mpsc::channel::<Datagram>(8192);
    let sockets = IkeSockets::bind(&args.locals, &tx).await;
    let locals = sockets.initial.clone();
    let provider = ipsec_crypto::default_provider();
    let conn = Arc::new(initiator_connection(args));
    let mut ep = Endpoint::new(EndpointConfig::default(), provider);
    let mut in_flight: HashMap<SaId, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let (mut started, mut completed, mut failed) = (0usize, 0usize, 0usize);
    let cpu0 = args.responder_pid.and_then(cpu_seconds);
    let self_cpu0 = cpu_seconds(std::process::id());
    let start = Instant::now();
    let deadline = start + args.duration;
    let mut last_done = start;
    let mut tick = tokio::time::interval(TICK);
    loop {
        let now = Instant::now();
        let paced = |started: usize| {
            args.rate == 0 || (started as f64) < args.rate as f64 * (now - start).as_secs_f64()
        };
        while in_flight.len() < args.concurrency
            && started < args.count
            && now < deadline
            && paced(started)
        {
            let local = locals[started % locals.len()];
            match ep.connect(now, Arc::clone(&conn), local, args.target) {
                Ok(sa) => {
                    in_flight.insert(sa, now);
                }
                Err(e) => panic!("connect: {e}"),
            }
            started += 1;
        }
        send_all(&mut ep, &sockets).await;
        if completed + failed >= args.count
            || now >= deadline + args.grace
            || (in_flight.is_empty() && (started >= args.count || now >= deadline))
        {
            break;
        }
        tokio::select! {
            d = rx.recv() => {
                let Some(d) = d else { break };
                let now = Instant::now();
                ep.handle_datagram(now, d.local, d.from, &d.data);
                // Take whatever else already arrived before looking at events.
                while let Ok(d) = rx.try_recv() {
                    ep.handle_datagram(now, d.local, d.from, &d.data);
                }
            }
            _ = tick.tick() => ep.handle_timeout(Instant::now()),
        }
        while let Some(e) = ep.poll_event() {
            match e {
                Event::IkeSaEstablished { sa, .. } => {
                    if let Some(t0) = in_flight.remove(&sa) {
                        completed += 1;
                        last_done = Instant::now();
                        latencies.push(last_done.duration_since(t0));
                    }
                }
                Event::IkeSaFailed { sa, error } if in_flight.remove(&sa).is_some() => {
                    failed += 1;
                    if failed <= 3 {
                        eprintln!("ike_load: handshake failed: {error}");
                    }
                }
                _ => {}
            }
        }
    }
    let elapsed = last_done.duration_since(start);
    let cpu = match (cpu0, args.responder_pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let self_cpu = match (self_cpu0, cpu_seconds(std::process::id())) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    latencies.sort();
    Report {
        label: args.label.clone(),
        target: args.target.to_string(),
        proposal: args.proposal.clone(),
        concurrency: args.concurrency,
        sources: args.locals.len(),
        requested: args.count,
        started,
        completed,
        failed,
        elapsed_s: elapsed.as_secs_f64(),
        responder_cpu_s: cpu,
        generator_cpu_s: self_cpu,
        latency_p50_ms: percentile(&latencies, 50).map(|d| d.as_secs_f64() * 1e3),
        latency_p90_ms: percentile(&latencies, 90).map(|d| d.as_secs_f64() * 1e3),
    }
}

async fn send_all(ep: &mut Endpoint, sockets: &IkeSockets) {
    while let Some(t) = ep.poll_transmit() {
        sockets.send(&t).await;
    }
}
