//! `iked`: the IKEv2/IPsec daemon. See `docs/config.md` for the configuration file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use iked::config::{Config, DEFAULT_CONFIG_PATH};
use iked::{ChildSaSink, Daemon, DataplaneSink, LoggingSink};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

/// IKEv2/IPsec daemon with hybrid post-quantum key exchange (ML-KEM) and PPKs.
///
/// Control it with `ikectl`. SIGHUP reloads the configuration; SIGTERM or SIGINT stops it.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Configuration file.
    #[arg(short, long, default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    /// Check the configuration, print any warnings and exit (0 if valid, 1 if not).
    #[arg(long)]
    check: bool,
    /// Log filter, overriding `daemon.log` (RUST_LOG overrides both), e.g. `iked=debug,info`.
    #[arg(long)]
    log: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if args.check {
        for w in &config.warnings {
            eprintln!("warning: {w}");
        }
        let n = config.connections.len();
        let n3iwf = config.n3iwf.as_ref().map_or_else(String::new, |s| {
            let amfs = s.amfs.len();
            format!(
                ", N3IWF with {amfs} AMF{}",
                if amfs == 1 { "" } else { "s" }
            )
        });
        println!(
            "{}: OK ({n} connection{}{n3iwf})",
            args.config.display(),
            if n == 1 { "" } else { "s" }
        );
        return ExitCode::SUCCESS;
    }
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or(args.log)
        .unwrap_or_else(|| config.daemon.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("iked: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("iked: cannot install signal handlers");
        return ExitCode::from(1);
    };
    let sink: Box<dyn ChildSaSink> = match &config.dataplane {
        Some(d) => {
            let (natt, rate) = (config.daemon.natt_port, config.daemon.ike_rate_per_source);
            match DataplaneSink::start(d, natt, rate, ipsec_crypto::default_provider()) {
                Ok(s) => Box::new(s),
                Err(e) => {
                    tracing::error!("cannot start the datapath: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        None => {
            tracing::warn!(
                "no [dataplane] section: Child SAs are negotiated and listed but carry no traffic"
            );
            Box::new(LoggingSink::new())
        }
    };
    let mut daemon = match Daemon::start(config, sink).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    loop {
        tokio::select! {
            _ = hup.recv() => match daemon.reload().await {
                Ok(v) => {
                    for w in &v.warnings {
                        tracing::warn!("{w}");
                    }
                }
                Err(e) => tracing::error!("reload failed, keeping the running configuration:\n{e}"),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
            why = daemon.failure() => {
                tracing::error!("{why}: iked no longer works and exits for its supervisor to restart it");
                daemon.abandon();
                return ExitCode::from(EXIT_TASK_DIED);
            }
        }
    }
    tracing::info!("shutting down");
    daemon.shutdown().await;
    ExitCode::SUCCESS
}

/// Exit status when an essential task died (BSD `EX_SOFTWARE`: an internal software error).
const EXIT_TASK_DIED: u8 = 70;
