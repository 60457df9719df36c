//! `ikectl`: controls the `iked` daemon over its Unix socket.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use iked_control::DEFAULT_SOCKET_PATH;
use iked_control::client::{Client, ClientError};
use iked_control::proto::{
    AmfView, Command, ConnView, DownView, ErrorCode, IkeSaView, LoadView, RekeyView, StatsView,
    UeView, UpView, VersionView,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Control the iked IKEv2/IPsec daemon.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Control the iked IKEv2/IPsec daemon",
    long_about = "Control the iked IKEv2/IPsec daemon over its control socket (root only).\n\n\
        Connections are defined in the daemon's configuration file (see docs/config.md);\n\
        `ikectl load` applies an edited file without touching unaffected SAs.",
    after_help = "Examples:\n  \
        ikectl list-conns                 show configured connections\n  \
        ikectl up site-b                  bring connection 'site-b' up and wait for it\n  \
        ikectl list-sas --json            established SAs, machine-readable\n  \
        ikectl list-ues                   the N3IWF's UEs: NGAP IDs, state, inner address\n  \
        ikectl list-amfs                  the N3IWF's AMFs: SCTP association, NG Setup\n  \
        ikectl rekey site-b               rekey the IKE SA of 'site-b'\n  \
        ikectl rekey site-b --child net   rekey its Child SA 'net'\n  \
        ikectl load                       reload the configuration file\n  \
        ikectl monitor                    follow events live (Ctrl-C to stop)\n\n\
        Exit status: 0 success, 1 the daemon reported an error, 2 usage error,\n\
        3 the daemon cannot be reached (not running, wrong --socket, or not root),\n\
        4 timed out (up, rekey: the daemon may still complete it)."
)]
struct Cli {
    /// The daemon's control socket.
    #[arg(long, global = true, env = "IKED_SOCKET", default_value = DEFAULT_SOCKET_PATH, value_name = "PATH")]
    socket: PathBuf,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Reload the configuration (the daemon's file, or FILE), keeping unchanged connections' SAs.
    Load {
        /// Configuration file to load instead of the one the daemon runs with.
        file: Option<PathBuf>,
    },
    /// Bring a connection up and wait until its IKE SA is established or fails.
    Up {
        /// Connection name, as in `[connections.NAME]`.
        name: String,
        /// Seconds to wait for the IKE SA.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Close every IKE SA (and its Child SAs) of a connection.
    Down {
        /// Connection name.
        name: String,
    },
    /// Rekey a connection's IKE SA, or with --child one of its Child SAs, and wait until the
    /// new SA is in place (the old one is deleted after it).
    Rekey {
        /// Connection name.
        name: String,
        /// Rekey this Child SA (as in `[connections.NAME.children.CHILD]`) instead of the IKE SA.
        #[arg(long, value_name = "CHILD")]
        child: Option<String>,
        /// Seconds to wait for the new SA.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// List configured connections and their children.
    ListConns,
    /// List IKE SAs and their Child SAs.
    ListSas,
    /// N3IWF: list UE contexts (outer address, IKE SA, NGAP IDs, state, inner address, phase
    /// timings).
    ListUes,
    /// N3IWF: list AMFs (SCTP association, NG Setup state, counters).
    ListAmfs,
    /// Print events as they happen until interrupted.
    Monitor,
    /// Show engine counters and per-Child-SA traffic counters.
    Stats,
    /// Show the versions of ikectl, the daemon and the control protocol.
    Version,
}

/// Why ikectl failed, with its exit status.
enum Failure {
    Daemon(String),
    Unreachable(String),
    Timeout(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Daemon(msg)) => {
            eprintln!("ikectl: {msg}");
            ExitCode::from(EXIT_DAEMON)
        }
        Err(Failure::Unreachable(msg)) => {
            eprintln!("ikectl: {msg}");
            ExitCode::from(EXIT_UNREACHABLE)
        }
        Err(Failure::Timeout(msg)) => {
            eprintln!("ikectl: {msg}");
            ExitCode::from(EXIT_TIMEOUT)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let mut client = Client::connect(&cli.socket).map_err(|e| {
        Failure::Unreachable(format!(
            "cannot reach iked at {}: {e} (is it running? are you root? see --socket)",
            cli.socket.display()
        ))
    })?;
    match &cli.command {
        Cmd::Load { file } => {
            let path = match file {
                Some(f) => Some(
                    std::path::absolute(f)
                        .map_err(|e| Failure::Daemon(format!("{}: {e}", f.display())))?,
                ),
                None => None,
            };
            let v: LoadView = call(&mut client, Command::Load { path }, None)?;
            print(cli.json, &v, output::load)
        }
        Cmd::Up { name, timeout } => {
            let ms = timeout.saturating_mul(1000);
            let wait = Duration::from_secs(timeout.saturating_add(5));
            let v: UpView = call(
                &mut client,
                Command::Up {
                    name: name.clone(),
                    timeout_ms: Some(ms),
                },
                Some(wait),
            )?;
            print(cli.json, &v, output::up)
        }
        Cmd::Down { name } => {
            let v: DownView = call(&mut client, Command::Down { name: name.clone() }, None)?;
            print(cli.json, &v, |v| output::down(name, v))
        }
        Cmd::Rekey {
            name,
            child,
            timeout,
        } => {
            let v: RekeyView = call(
                &mut client,
                Command::Rekey {
                    name: name.clone(),
                    child: child.clone(),
                    timeout_ms: Some(timeout.saturating_mul(1000)),
                },
                Some(Duration::from_secs(timeout.saturating_add(5))),
            )?;
            print(cli.json, &v, output::rekey)
        }
        Cmd::ListConns => {
            let v: Vec<ConnView> = call(&mut client, Command::ListConns, None)?;
            print(cli.json, &v, |v| output::list_conns(v))
        }
        Cmd::ListSas => {
            let v: Vec<IkeSaView> = call(&mut client, Command::ListSas, None)?;
            print(cli.json, &v, |v| output::list_sas(v))
        }
        Cmd::ListUes => {
            let v: Vec<UeView> = call(&mut client, Command::ListUes, None)?;
            print(cli.json, &v, |v| output::list_ues(v))
        }
        Cmd::ListAmfs => {
            let v: Vec<AmfView> = call(&mut client, Command::ListAmfs, None)?;
            print(cli.json, &v, |v| output::list_amfs(v))
        }
        Cmd::Stats => {
            let v: StatsView = call(&mut client, Command::Stats, None)?;
            print(cli.json, &v, output::stats)
        }
        Cmd::Version => {
            let v: VersionView = call(&mut client, Command::Version, None)?;
            let both = serde_json::json!({ "ikectl": env!("CARGO_PKG_VERSION"), "daemon": v.daemon, "protocol": v.protocol });
            print(cli.json, &both, |_| {
                output::version(env!("CARGO_PKG_VERSION"), &v)
            })
        }
        Cmd::Monitor => monitor(&mut client, cli.json),
    }
}

fn monitor(client: &mut Client, json: bool) -> Result<(), Failure> {
    let _: serde_json::Value = call(client, Command::Monitor, None)?;
    loop {
        match client.next_event(None) {
            Ok(Some(line)) if json => {
                println!("{}", serde_json::to_string(&line.event).unwrap_or_default())
            }
            Ok(Some(line)) => println!("{}", output::event(&line.event)),
            Ok(None) => {
                return Err(Failure::Unreachable(
                    "the daemon closed the connection".into(),
                ));
            }
            Err(e) => return Err(failure(e)),
        }
    }
}

fn call<T: DeserializeOwned>(
    client: &mut Client,
    command: Command,
    timeout: Option<Duration>,
) -> Result<T, Failure> {
    client
        .call_as(command, timeout.or(Some(DEFAULT_TIMEOUT)))
        .map_err(failure)
}

fn failure(e: ClientError) -> Failure {
    match e {
        ClientError::Daemon(body) if body.code == ErrorCode::Forbidden => {
            Failure::Unreachable(body.message)
        }
        ClientError::Daemon(body) if body.code == ErrorCode::Timeout => {
            Failure::Timeout(body.message)
        }
        ClientError::Io(e) => Failure::Unreachable(format!("connection to iked failed: {e}")),
        other => Failure::Daemon(other.to_string()),
    }
}

fn print<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    if json {
        let text =
            serde_json::to_string_pretty(value).map_err(|e| Failure::Daemon(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", human(value));
    }
    Ok(())
}

const EXIT_DAEMON: u8 = 1;
const EXIT_UNREACHABLE: u8 = 3;
const EXIT_TIMEOUT: u8 = 4;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
