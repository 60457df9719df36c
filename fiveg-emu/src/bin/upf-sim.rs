//! `upf-sim`: the emulated UPF on N3, for tests and scripts that run an N3IWF's user plane
//! against it. It terminates GTP-U tunnels by the session rules it is given (on the command
//! line or from an SMF emulator on the control socket), answers Echo Requests, sends Error
//! Indications for unknown TEIDs and its own Echo Requests to its peers, and hands uplink
//! packets to N6: the built-in reflector (ICMP echo, UDP echo on port 7) or a TUN device. It
//! is an emulator: no real UPF runs on the machines this project is tested on.
//!
//! ```text
//! upf-sim --n3 10.0.3.2 --n6 reflect --control /run/upf.sock
//! upf-sim --n3 127.0.0.1:2152 --n6 tun:upf0 --json \
//!     --rule '{"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "127.0.0.1:2153", "dl_teid": 7, "qfi": 1}'
//! ```
//!
//! Once bound it prints `listening on ADDRESS` (a readiness signal for scripts) and runs until
//! SIGTERM or SIGINT, or `--run-for` seconds; with `--json` it prints its counters as one JSON
//! object on exit.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fiveg_emu::upf::UpfConfig;
use fiveg_emu::upf_sim::{N6Mode, RuleSpec, UpfSim, UpfSimConfig, parse_peer};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// The emulated UPF (GTP-U on N3).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The N3 address: IP (port 2152) or IP:PORT.
    #[arg(long, value_parser = parse_peer)]
    n3: SocketAddr,
    /// N6: `reflect` (answer ICMP echo and UDP port 7 in-process) or `tun:NAME`.
    #[arg(long, default_value = "reflect")]
    n6: N6Mode,
    /// A Unix stream socket for newline-delimited JSON commands (add, remove, stats).
    #[arg(long)]
    control: Option<PathBuf>,
    /// A session rule as JSON (repeatable): ul_teid, ue_address, peer, dl_teid, qfi, rqi.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// The most rules at once.
    #[arg(long, default_value_t = 4096)]
    max_rules: usize,
    /// Seconds between our Echo Requests to each peer (0: none).
    #[arg(long, default_value_t = 60)]
    echo_interval: u64,
    /// Error Indications per second at most.
    #[arg(long, default_value_t = 10)]
    error_indications_per_second: u32,
    /// Send Error Indications to the G-PDU's source port rather than 2152.
    #[arg(long)]
    error_indication_to_source_port: bool,
    /// Print the counters as JSON on exit.
    #[arg(long)]
    json: bool,
    /// Exit after this many seconds (a bound for scripts).
    #[arg(long)]
    run_for: Option<u64>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("upf-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let rules = args
        .rules
        .iter()
        .map(|r| RuleSpec::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let config = UpfSimConfig {
        n3: args.n3,
        n6: args.n6.clone(),
        control: args.control.clone(),
        rules,
        upf: UpfConfig {
            max_rules: args.max_rules,
            echo_interval: Duration::from_secs(args.echo_interval),
            error_indications_per_second: args.error_indications_per_second,
            error_indication_to_source_port: args.error_indication_to_source_port,
            ..UpfConfig::default()
        },
    };
    let sim = UpfSim::bind(config)
        .await
        .map_err(|e| format!("{}: {e}", args.n3))?;
    let address = sim.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {address}");
    let (stop, shutdown) = watch::channel(false);
    let server = tokio::spawn(sim.run(shutdown));
    wait_for_end(args.run_for).await?;
    let _ = stop.send(true);
    let counters = server.await.map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", counters.to_json());
    }
    Ok(())
}

async fn wait_for_end(run_for: Option<u64>) -> Result<(), String> {
    let (mut term, mut int) = (
        signal(SignalKind::terminate()).map_err(|e| e.to_string())?,
        signal(SignalKind::interrupt()).map_err(|e| e.to_string())?,
    );
    let limit = async {
        match run_for {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = limit => {}
    }
    Ok(())
}
