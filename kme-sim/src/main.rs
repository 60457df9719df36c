//! `qkd-kme-sim`: a pair of ETSI GS QKD 014 V1.1.1 KMEs on loopback, and the certificates
//! they and their SAEs need.
//!
//! ```text
//! qkd-kme-sim certs --dir D --sae alice --sae bob
//! qkd-kme-sim serve --certs D --listen-a 127.0.0.1:0 --listen-b 127.0.0.1:0 \
//!     [--key-rate-bps N] [--pool-size N] [--key-size 256] [--sae-id-from cn|serial] \
//!     [--port-file F]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use qkd_kme_sim::{CoreConfig, KmeTls, PoolConfig, SaeIdSource, SimConfig, SimPki};
use tracing::{error, info};

#[derive(Parser)]
#[command(
    name = "qkd-kme-sim",
    version,
    about = "Simulated ETSI GS QKD 014 KME pair"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a CA, KME server certificates, SAE client certificates (CN = SAE ID) and a
    /// client certificate from a foreign CA.
    Certs(CertsArgs),
    /// Run KME A and KME B until SIGTERM or SIGINT.
    Serve(ServeArgs),
}

#[derive(Args)]
struct CertsArgs {
    /// Output directory.
    #[arg(long)]
    dir: PathBuf,
    /// SAE ID to issue a client certificate for (repeat).
    #[arg(long = "sae", required = true)]
    saes: Vec<String>,
    /// CN of KME A's certificate.
    #[arg(long, default_value = "KME_A")]
    kme_a_id: String,
    /// CN of KME B's certificate.
    #[arg(long, default_value = "KME_B")]
    kme_b_id: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Directory written by `certs`.
    #[arg(long)]
    certs: PathBuf,
    /// KME A's address (loopback only; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen_a: SocketAddr,
    /// KME B's address (loopback only; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen_b: SocketAddr,
    /// Key generation rate per SAE pair in bit/s; without it every pool stays full.
    #[arg(long)]
    key_rate_bps: Option<u64>,
    /// Pool capacity per SAE pair, in keys of --key-size bits (max_key_count).
    #[arg(long, default_value_t = 1000)]
    pool_size: u64,
    /// Keys in a new pool when --key-rate-bps is set (default: full).
    #[arg(long)]
    initial_keys: Option<u64>,
    /// Default key size in bits.
    #[arg(long, default_value_t = 256)]
    key_size: u32,
    /// max_key_per_request.
    #[arg(long, default_value_t = 128)]
    max_key_per_request: u32,
    /// Where the SAE ID comes from in the client certificate: cn or serial.
    #[arg(long, default_value = "cn")]
    sae_id_from: SaeIdSource,
    /// Write `KME_A=addr` and `KME_B=addr` lines here once both KMEs listen.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// KME ID of KME A.
    #[arg(long, default_value = "KME_A")]
    kme_a_id: String,
    /// KME ID of KME B.
    #[arg(long, default_value = "KME_B")]
    kme_b_id: String,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Certs(args) => certs(&args),
        Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn certs(args: &CertsArgs) -> Result<(), String> {
    let ids: Vec<&str> = args.saes.iter().map(String::as_str).collect();
    let pki = SimPki::generate(&ids, &args.kme_a_id, &args.kme_b_id)?;
    pki.write_to_dir(&args.dir)
        .map_err(|e| format!("{}: {e}", args.dir.display()))?;
    info!(dir = %args.dir.display(), saes = ?ids, "certificates written");
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), String> {
    for addr in [args.listen_a, args.listen_b] {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr}: the simulator listens on loopback addresses only"
            ));
        }
    }
    let tls =
        KmeTls::from_dir(&args.certs).map_err(|e| format!("{}: {e}", args.certs.display()))?;
    let pool = PoolConfig {
        key_size: args.key_size,
        max_key_count: args.pool_size,
        initial_key_count: args.initial_keys.unwrap_or(args.pool_size),
        key_rate_bps: args.key_rate_bps,
        max_key_per_request: args.max_key_per_request,
        ..PoolConfig::default()
    };
    let config = SimConfig {
        listen_a: args.listen_a,
        listen_b: args.listen_b,
        sae_id_from: args.sae_id_from,
        core: CoreConfig {
            kme_a_id: args.kme_a_id,
            kme_b_id: args.kme_b_id,
            pool,
            ..CoreConfig::default()
        },
        ..SimConfig::new(tls)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let handle = qkd_kme_sim::spawn(config)
            .await
            .map_err(|e| format!("cannot start KMEs: {e}"))?;
        if let Some(path) = &args.port_file {
            write_port_file(path, handle.addr_a(), handle.addr_b())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        info!(kme_a = %handle.addr_a(), kme_b = %handle.addr_b(), "KME pair running");
        wait_for_stop().await?;
        info!("stopping");
        handle.shutdown();
        Ok(())
    })
}

/// Written to a temporary name and renamed, so a reader never sees half a file.
fn write_port_file(path: &Path, a: SocketAddr, b: SocketAddr) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("KME_A={a}\nKME_B={b}\n"))?;
    std::fs::rename(tmp, path)
}

async fn wait_for_stop() -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.map_err(|e| e.to_string())?,
    }
    Ok(())
}
