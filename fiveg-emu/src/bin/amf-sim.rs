//! `amf-sim`: the emulated AMF on N2, for tests and scripts that run an N3IWF against it. It
//! listens for SCTP associations (usrsctp over raw IP protocol 132 or UDP 9899, or the
//! kernel's SCTP), answers NG Setup, and runs 5G-AKA, the security mode and the Initial
//! Context Setup for every UE of its subscriber database. It is an emulator: no AMF with
//! N3IWF support runs on the machines this project is tested on.
//!
//! ```text
//! amf-sim --listen 10.0.0.1:38412 --lower raw --port-file /tmp/amf.ready
//! amf-sim --listen 127.0.0.1:38412 --lower udp --udp-port 0 --config amf.toml
//! amf-sim --listen 10.0.0.1:38412 --upf 10.0.3.2 --pdu-pool 10.60.0.0/16 \
//!     --upf-control /run/upf.sock
//! ```
//!
//! PDU sessions: the SMF behind the emulated AMF gives UE addresses from `--pdu-pool`, names
//! `--upf` as the UPF's N3 address in the setup transfers, and with `--upf-control` installs
//! and removes each session's rule in the UPF emulator (`upf-sim --control`).
//!
//! Once listening it prints `listening on ADDRESS (udp port N)` and writes the same facts to
//! `--port-file` as `sctp=ADDRESS` and `udp=PORT` lines (a readiness signal for scripts). It
//! logs each NGAP event on stderr and runs until SIGTERM or SIGINT, or `--run-for` seconds.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use fiveg_emu::amf::AmfNodeEvent;
use fiveg_emu::amf::smf::Ipv4Prefix;
use fiveg_emu::amf_sim::{AmfSim, SimConfig, UpfControl, UpfRules};
use n2_transport::{AssociationConfig, LowerLayer, NGAP_PORT, Transport, TransportKind};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

/// The emulated AMF on N2 (NGAP over SCTP).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The SCTP address to listen on.
    #[arg(long, default_value_t = SocketAddr::from(([0, 0, 0, 0], NGAP_PORT)))]
    listen: SocketAddr,
    /// SCTP stack: usrsctp over raw IP (protocol 132) or over UDP, or the kernel's SCTP.
    #[arg(long, value_enum, default_value = "raw")]
    lower: Lower,
    /// The local UDP port of SCTP over UDP (0: any free one, told in the port file).
    #[arg(long, default_value_t = n2_transport::UDP_ENCAPSULATION_PORT)]
    udp_port: u16,
    /// The AMF's identity, subscribers and faults (TOML; see the amf_sim module).
    #[arg(long)]
    config: Option<PathBuf>,
    /// PLMN (MCC-MNC) without --config.
    #[arg(long, default_value = "208-93")]
    plmn: String,
    /// Where REGISTRATION ACCEPT goes: after INITIAL CONTEXT SETUP RESPONSE (free5GC's AMF) or
    /// inside the request.
    #[arg(long)]
    accept_mode: Option<String>,
    /// Refuse the first N NG SETUP REQUESTs.
    #[arg(long)]
    ng_setup_refusals: Option<usize>,
    /// The Time to Wait of those refusals, in seconds (1, 2, 5, 10, 20 or 60).
    #[arg(long)]
    ng_setup_time_to_wait: Option<u8>,
    /// Answer UEs this many milliseconds late.
    #[arg(long)]
    answer_delay_ms: Option<u64>,
    /// Stop answering UEs after this many answers.
    #[arg(long)]
    silence_after: Option<usize>,
    /// The UPF's N3 address, the uplink end of every PDU session's tunnel.
    #[arg(long)]
    upf: Option<IpAddr>,
    /// Where UE addresses come from (IPv4 CIDR).
    #[arg(long)]
    pdu_pool: Option<Ipv4Prefix>,
    /// The UPF emulator's control socket: session rules are installed and removed there.
    #[arg(long)]
    upf_control: Option<PathBuf>,
    /// Write `sctp=ADDRESS` and `udp=PORT` here once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Exit after this many seconds (a bound for scripts).
    #[arg(long)]
    run_for: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Lower {
    Raw,
    Udp,
    Kernel,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("amf-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = config(&args)?;
    let kind = match args.lower {
        Lower::Raw => TransportKind::Usrsctp(LowerLayer::RawIp),
        Lower::Udp => TransportKind::Usrsctp(LowerLayer::Udp {
            local_port: args.udp_port,
            remote_port: 0,
        }),
        Lower::Kernel => TransportKind::Kernel,
    };
    let transport =
        Transport::new(kind, AssociationConfig::default()).map_err(|e| e.to_string())?;
    let udp = match &transport {
        Transport::Usrsctp(t) => t.local_udp_port(),
        Transport::Kernel(_) => 0,
    };
    let upf = match &args.upf_control {
        Some(path) => Some(
            UpfControl::connect(path)
                .map_err(|e| format!("--upf-control {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let (events, mut log) = mpsc::unbounded_channel();
    let sim = AmfSim::listen(&transport, args.listen, config)
        .map_err(|e| format!("listen on {}: {e}", args.listen))?
        .observe(events);
    let address = sim.local_addr();
    println!("listening on {address} (udp port {udp})");
    if let Some(path) = &args.port_file {
        std::fs::write(path, format!("sctp={address}\nudp={udp}\n"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let (stop, shutdown) = watch::channel(false);
    let server = tokio::spawn(sim.run(shutdown));
    tokio::spawn(async move {
        let mut rules = UpfRules::default();
        while let Some((association, event)) = log.recv().await {
            eprintln!("association {association}: {event:?}");
            let Some(upf) = &upf else { continue };
            match rules.line_for(association, &event) {
                Some(line) => {
                    upf.send(line);
                }
                None if matches!(event, AmfNodeEvent::PduSessionEstablished { .. }) => {
                    eprintln!("upf control: no rule for this session (tracking bound reached)");
                }
                None => {}
            }
        }
    });
    wait_for_end(args.run_for).await?;
    let _ = stop.send(true);
    let _ = server.await;
    Ok(())
}

fn config(args: &Args) -> Result<SimConfig, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            SimConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => SimConfig::new(&args.plmn).map_err(|e| e.to_string())?,
    };
    if let Some(m) = &args.accept_mode {
        config.node.accept_mode = SimConfig::accept_mode(m).map_err(|e| e.to_string())?;
    }
    if let Some(n) = args.ng_setup_refusals {
        config
            .refuse_ng_setup(n, args.ng_setup_time_to_wait)
            .map_err(|e| e.to_string())?;
    }
    if let Some(ms) = args.answer_delay_ms {
        config.node.faults.answer_delay = Duration::from_millis(ms);
    }
    if args.silence_after.is_some() {
        config.node.faults.answers_before_silence = args.silence_after;
    }
    if let Some(upf) = args.upf {
        config.node.smf.upf_n3 = upf;
    }
    if let Some(pool) = args.pdu_pool {
        config.node.smf.pool = pool;
    }
    Ok(config)
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
