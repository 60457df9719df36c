//! `esp-tunnel`: brings up an ESP tunnel with manually keyed SAs (RFC 9061 IKE-less style) from
//! a TOML file, and runs until SIGINT/SIGTERM.
//!
//! ```text
//! esp-tunnel CONFIG.toml [--stats SECONDS] [--ready-file PATH] [--workers N]
//! ```
//!
//! `--ready-file` is written once the device is up and the SAs are installed (for scripts);
//! `--stats` prints counters periodically. Counters are printed on exit too.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use dataplane::manual::{self, ManualConfig};
use dataplane::{Dataplane, DataplaneHandle, SaEventReport};
use ipsec_sys::TerminationSignals;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!(
                "esp-tunnel: {msg}\nusage: esp-tunnel CONFIG.toml [--stats SECONDS] [--ready-file PATH] [--workers N]"
            );
            return ExitCode::from(2);
        }
    };
    let mut config = match manual::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("esp-tunnel: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(w) = args.workers {
        config.dataplane.workers = w;
    }
    match run(config, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("esp-tunnel: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: ManualConfig, args: &Args) -> Result<(), String> {
    // Before any thread starts, so that every thread inherits the blocked mask.
    let signals = TerminationSignals::block().map_err(|e| format!("blocking signals: {e}"))?;
    let ManualConfig {
        dataplane,
        children,
        routes,
    } = config;
    let workers = dataplane.workers;
    let (handle, events) =
        Dataplane::start(dataplane, ipsec_crypto::default_provider()).map_err(|e| e.to_string())?;
    for (addr, len) in &routes {
        let status = Command::new("ip")
            .args([
                "route",
                "replace",
                &format!("{addr}/{len}"),
                "dev",
                handle.tun_name(),
            ])
            .status()
            .map_err(|e| format!("running ip route: {e}"))?;
        if !status.success() {
            return Err(format!("ip route replace {addr}/{len} failed"));
        }
    }
    let n = children.len();
    for child in children {
        handle.install_child_sa(child).map_err(|e| e.to_string())?;
    }
    eprintln!(
        "esp-tunnel: up: device {}, {n} CHILD_SA pair(s), workers {}",
        handle.tun_name(),
        if workers == 0 {
            "one per core".to_owned()
        } else {
            workers.to_string()
        }
    );
    if let Some(path) = &args.ready_file {
        std::fs::write(path, b"ready\n").map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let mut last_stats = Instant::now();
    loop {
        if let Some(sig) = signals.wait(Duration::from_millis(500)) {
            eprintln!("esp-tunnel: signal {sig}, stopping");
            break;
        }
        // Drained so the channel never fills; SA events are collected on every round anyway.
        for _ in events.try_iter() {}
        for SaEventReport {
            spi,
            direction,
            event,
        } in handle.take_sa_events()
        {
            eprintln!("esp-tunnel: SA {spi} ({direction:?}): {event:?}");
        }
        if args.stats.is_some_and(|s| last_stats.elapsed() >= s) {
            print_stats(&handle);
            last_stats = Instant::now();
        }
    }
    print_stats(&handle);
    handle.shutdown();
    Ok(())
}

fn print_stats(handle: &DataplaneHandle) {
    eprintln!("esp-tunnel: {:?}", handle.stats());
    for s in handle.sa_stats() {
        let drops: Vec<String> = esp::DropReason::ALL
            .iter()
            .filter(|&&r| s.drops.get(r) != 0)
            .map(|&r| format!("{r}={}", s.drops.get(r)))
            .collect();
        eprintln!(
            "esp-tunnel: SA {} {:?}{}: {} packets, {} bytes, drops [{}], selector mismatches {}",
            s.spi,
            s.direction,
            if s.is_active { "" } else { " (inactive)" },
            s.packets,
            s.bytes,
            drops.join(" "),
            s.selector_mismatches
        );
    }
}

struct Args {
    config: PathBuf,
    stats: Option<Duration>,
    ready_file: Option<PathBuf>,
    workers: Option<usize>,
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut config = None;
        let mut args = Self {
            config: PathBuf::new(),
            stats: None,
            ready_file: None,
            workers: None,
        };
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "--stats" => {
                    let v = value("--stats")?;
                    let secs: u64 = v.parse().map_err(|_| format!("bad --stats value {v:?}"))?;
                    args.stats = Some(Duration::from_secs(secs.max(1)));
                }
                "--ready-file" => args.ready_file = Some(value("--ready-file")?.into()),
                "--workers" => {
                    let v = value("--workers")?;
                    args.workers = Some(
                        v.parse()
                            .map_err(|_| format!("bad --workers value {v:?}"))?,
                    );
                }
                _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
                _ if config.is_none() => config = Some(PathBuf::from(a)),
                _ => return Err(format!("unexpected argument {a}")),
            }
        }
        args.config = config.ok_or("missing CONFIG.toml")?;
        Ok(args)
    }
}
