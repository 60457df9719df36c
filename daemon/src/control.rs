//! The control socket: a Unix stream socket speaking [`crate::proto`], one JSON object per line.
//! Only root and the daemon's own user may use it: the socket file is mode 0600 and each
//! connection's peer credentials are checked.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::Config;
use crate::driver::{DriverCommand, UpStart};
use crate::proto::{
    Command, ErrorCode, EventLine, LoadView, MAX_LINE, MonitorEvent, PROTOCOL_VERSION, Request,
    Response, UpView, VersionView,
};

/// What every control connection shares.
pub(crate) struct ControlCtx {
    pub(crate) commands: mpsc::Sender<DriverCommand>,
    pub(crate) events: broadcast::Sender<MonitorEvent>,
    /// The file `load` without a path (and SIGHUP) reads.
    pub(crate) config_path: Mutex<PathBuf>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Binds the socket: creates its directory (0700) if needed, refuses to steal the socket of a
/// running daemon, removes a stale one, and restricts the file to mode 0600.
pub(crate) fn bind(path: &Path) -> io::Result<(UnixListener, u32)> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use by a running daemon", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let owner = std::fs::metadata(path)?.uid();
    Ok((listener, owner))
}

/// Accepts control connections until shutdown.
pub(crate) async fn serve(listener: UnixListener, owner: u32, ctx: Arc<ControlCtx>) {
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, owner, Arc::clone(&ctx)));
    }
}

/// Reloads the configuration from `path` or the current file. A file that fails to load leaves
/// the running configuration in place.
pub(crate) async fn reload(
    ctx: &ControlCtx,
    path: Option<PathBuf>,
) -> Result<LoadView, (ErrorCode, String)> {
    let path = match path {
        Some(p) => p,
        None => ctx
            .config_path
            .lock()
            .map_err(|_| (ErrorCode::Engine, "lock poisoned".to_string()))?
            .clone(),
    };
    let p = path.clone();
    let loaded = tokio::task::spawn_blocking(move || Config::load(&p))
        .await
        .map_err(|e| (ErrorCode::Engine, e.to_string()))?;
    let config = loaded.map_err(|e| {
        (
            ErrorCode::Config,
            format!("{e}\nthe running configuration is unchanged"),
        )
    })?;
    let (reply, rx) = oneshot::channel();
    ctx.commands
        .send(DriverCommand::Apply {
            config: Box::new(config),
            reply,
        })
        .await
        .map_err(|_| shutting_down())?;
    let view = rx.await.map_err(|_| shutting_down())?;
    if let Ok(mut current) = ctx.config_path.lock() {
        *current = path;
    }
    Ok(view)
}

async fn connection(stream: UnixStream, owner: u32, ctx: Arc<ControlCtx>) {
    let (read, mut write) = stream.into_split();
    let allowed = write
        .as_ref()
        .peer_cred()
        .is_ok_and(|c| c.uid() == 0 || c.uid() == owner);
    if !allowed {
        tracing::warn!("control connection refused: peer is neither root nor the daemon's user");
        let _ = send(
            &mut write,
            &Response::error(
                ErrorCode::Forbidden,
                "permission denied: only root may control iked",
            ),
        )
        .await;
        return;
    }
    let mut reader = BufReader::new(read);
    loop {
        let line = match read_line(&mut reader).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(msg) => {
                let _ = send(&mut write, &Response::error(ErrorCode::BadRequest, msg)).await;
                return;
            }
        };
        let request = match parse_request(&line) {
            Ok(r) => r,
            Err(resp) => {
                if send(&mut write, &resp).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if request.command == Command::Monitor {
            monitor(&mut reader, &mut write, &ctx).await;
            return;
        }
        let response = handle(request.command, &ctx).await;
        if send(&mut write, &response).await.is_err() {
            return;
        }
    }
}

fn parse_request(line: &str) -> Result<Request, Response> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| Response::error(ErrorCode::BadRequest, format!("not JSON: {e}")))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(PROTOCOL_VERSION)) {
        return Err(Response::error(
            ErrorCode::UnsupportedVersion,
            format!(
                "this daemon speaks protocol version {PROTOCOL_VERSION}, the request has {}",
                version.map_or_else(|| "none".into(), |v| v.to_string())
            ),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| Response::error(ErrorCode::BadRequest, format!("invalid request: {e}")))
}

async fn handle(command: Command, ctx: &ControlCtx) -> Response {
    let result = match command {
        Command::Version => Ok(Response::ok(&VersionView {
            daemon: env!("CARGO_PKG_VERSION").into(),
            protocol: PROTOCOL_VERSION,
        })),
        Command::Load { path } => reload(ctx, path).await.map(|v| Response::ok(&v)),
        Command::Up { name, timeout_ms } => up(ctx, name, timeout_ms).await,
        Command::Down { name } => ask(ctx, |reply| DriverCommand::Down { name, reply })
            .await
            .and_then(|r| r.map(|v| Response::ok(&v))),
        Command::Rekey {
            name,
            child,
            timeout_ms,
        } => rekey(ctx, name, child, timeout_ms).await,
        Command::ListConns => ask(ctx, |reply| DriverCommand::ListConns { reply })
            .await
            .map(|v| Response::ok(&v)),
        Command::ListSas => ask(ctx, |reply| DriverCommand::ListSas { reply })
            .await
            .map(|v| Response::ok(&v)),
        Command::ListUes => ask(ctx, |reply| DriverCommand::ListUes { reply })
            .await
            .and_then(|r| r.map(|v| Response::ok(&v))),
        Command::ListAmfs => ask(ctx, |reply| DriverCommand::ListAmfs { reply })
            .await
            .and_then(|r| r.map(|v| Response::ok(&v))),
        Command::Stats => ask(ctx, |reply| DriverCommand::Stats { reply })
            .await
            .map(|v| Response::ok(&v)),
        #[cfg(feature = "fault-injection")]
        Command::DebugPanic => ask(ctx, |reply| DriverCommand::DebugPanic { reply })
            .await
            .map(|()| Response::ok(&())),
        Command::Monitor => Err((
            ErrorCode::BadRequest,
            "monitor is handled by the connection".into(),
        )),
    };
    result.unwrap_or_else(|(code, msg)| Response::error(code, msg))
}

async fn up(
    ctx: &ControlCtx,
    name: String,
    timeout_ms: Option<u64>,
) -> Result<Response, (ErrorCode, String)> {
    let start = ask(ctx, |reply| DriverCommand::Up {
        name: name.clone(),
        reply,
    })
    .await??;
    let rx = match start {
        UpStart::AlreadyUp(ike_sa) => {
            return Ok(Response::ok(&UpView {
                already_up: true,
                ike_sa: *ike_sa,
            }));
        }
        UpStart::Pending(rx) => rx,
    };
    let ike_sa = answer(
        rx,
        timeout_ms,
        |e| format!("connection '{name}' failed: {e}"),
        |ms| format!("connection '{name}' not up after {ms} ms; the daemon keeps trying"),
    )
    .await?;
    Ok(Response::ok(&UpView {
        already_up: false,
        ike_sa,
    }))
}

async fn rekey(
    ctx: &ControlCtx,
    name: String,
    child: Option<String>,
    timeout_ms: Option<u64>,
) -> Result<Response, (ErrorCode, String)> {
    let what = child.as_ref().map_or_else(
        || format!("IKE SA of '{name}'"),
        |c| format!("Child SA '{c}' of '{name}'"),
    );
    let rx = ask(ctx, |reply| DriverCommand::Rekey {
        name: name.clone(),
        child,
        reply,
    })
    .await??;
    let view = answer(
        rx,
        timeout_ms,
        |e| format!("rekey of the {what} failed: {e}"),
        |ms| format!("rekey of the {what} not done after {ms} ms; the exchange may still complete"),
    )
    .await?;
    Ok(Response::ok(&view))
}

/// Waits up to `timeout_ms` for the driver's outcome of a started `up` or `rekey`.
async fn answer<T>(
    rx: oneshot::Receiver<Result<T, String>>,
    timeout_ms: Option<u64>,
    failed: impl FnOnce(String) -> String,
    timed_out: impl FnOnce(u128) -> String,
) -> Result<T, (ErrorCode, String)> {
    let wait = Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_UP_TIMEOUT_MS));
    match tokio::time::timeout(wait, rx).await {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err((ErrorCode::Engine, failed(e))),
        Ok(Err(_)) => Err(shutting_down()),
        Err(_) => Err((ErrorCode::Timeout, timed_out(wait.as_millis()))),
    }
}

/// Sends a command to the driver and waits for its answer.
async fn ask<T>(
    ctx: &ControlCtx,
    make: impl FnOnce(oneshot::Sender<T>) -> DriverCommand,
) -> Result<T, (ErrorCode, String)> {
    let (reply, rx) = oneshot::channel();
    ctx.commands
        .send(make(reply))
        .await
        .map_err(|_| shutting_down())?;
    rx.await.map_err(|_| shutting_down())
}

/// Streams events until the client hangs up or the daemon stops.
async fn monitor<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    write: &mut tokio::net::unix::OwnedWriteHalf,
    ctx: &ControlCtx,
) {
    let mut events = ctx.events.subscribe();
    let mut shutdown = ctx.shutdown.clone();
    if send(
        write,
        &Response::ok(&serde_json::json!({ "monitoring": true })),
    )
    .await
    .is_err()
    {
        return;
    }
    let mut scratch = Vec::new();
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => return,
            // Anything the client sends, or EOF, ends the stream.
            _ = reader.read_until(b'\n', &mut scratch) => return,
            e = events.recv() => match e {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(missed)) => MonitorEvent::Lagged { missed },
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        if send(
            write,
            &EventLine {
                version: PROTOCOL_VERSION,
                event,
            },
        )
        .await
        .is_err()
        {
            return;
        }
    }
}

async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Result<Option<String>, String> {
    let mut buf = Vec::new();
    let n = (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE {
        return Err(format!("request longer than {MAX_LINE} bytes"));
    }
    String::from_utf8(buf)
        .map(|s| Some(s.trim_end().to_string()))
        .map_err(|_| "request is not UTF-8".into())
}

async fn send(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    value: &impl serde::Serialize,
) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
}

fn shutting_down() -> (ErrorCode, String) {
    (
        ErrorCode::ShuttingDown,
        "the daemon is shutting down".into(),
    )
}

const DEFAULT_UP_TIMEOUT_MS: u64 = 30_000;
