//! A Prometheus text-format endpoint (`GET /metrics`), off unless `daemon.metrics` is set. A
//! tiny HTTP/1.0-style responder: one request per connection, then close.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

use crate::driver::DriverCommand;
use crate::proto::StatsView;

mod n3iwf;

/// Serves `GET /metrics` until shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    commands: mpsc::Sender<DriverCommand>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "metrics accept failed");
                    continue;
                }
            },
        };
        let commands = commands.clone();
        tokio::spawn(async move {
            if tokio::time::timeout(REQUEST_TIMEOUT, respond(stream, commands))
                .await
                .is_err()
            {
                tracing::debug!("metrics request timed out");
            }
        });
    }
}

/// Renders the counters and gauges in the Prometheus text exposition format (version 0.0.4).
pub fn render(stats: &StatsView) -> String {
    let mut out = String::new();
    for (name, value) in &stats.engine {
        let _ = writeln!(
            out,
            "# HELP iked_ike_{name}_total IKEv2 engine counter '{name}'."
        );
        let _ = writeln!(out, "# TYPE iked_ike_{name}_total counter");
        let _ = writeln!(out, "iked_ike_{name}_total {value}");
    }
    for (prefix, what, map) in [
        ("", "daemon", &stats.daemon),
        ("datapath_", "datapath", &stats.datapath),
    ] {
        for (name, value) in map {
            let _ = writeln!(
                out,
                "# HELP iked_{prefix}{name}_total The {what} counter '{name}'."
            );
            let _ = writeln!(out, "# TYPE iked_{prefix}{name}_total counter");
            let _ = writeln!(out, "iked_{prefix}{name}_total {value}");
        }
    }
    let connecting = stats.ike_sas - stats.ike_sas_established;
    out.push_str(
        "# HELP iked_ike_sas IKE SAs tracked by the daemon, by state.\n# TYPE iked_ike_sas gauge\n",
    );
    let _ = writeln!(
        out,
        "iked_ike_sas{{state=\"established\"}} {}",
        stats.ike_sas_established
    );
    let _ = writeln!(out, "iked_ike_sas{{state=\"connecting\"}} {connecting}");
    out.push_str("# HELP iked_child_sas Child SAs installed.\n# TYPE iked_child_sas gauge\n");
    let _ = writeln!(out, "iked_child_sas {}", stats.child_sas);
    for (metric, help) in [("bytes", "Bytes"), ("packets", "Packets")] {
        let _ = writeln!(
            out,
            "# HELP iked_child_sa_{metric}_total {help} through a Child SA, by direction."
        );
        let _ = writeln!(out, "# TYPE iked_child_sa_{metric}_total counter");
        for c in &stats.children {
            let (inbound, outbound) = if metric == "bytes" {
                (c.counters.bytes_in, c.counters.bytes_out)
            } else {
                (c.counters.packets_in, c.counters.packets_out)
            };
            let labels = format!(
                "connection=\"{}\",child=\"{}\",spi=\"{}\"",
                escape(&c.connection),
                escape(&c.child),
                c.inbound_spi
            );
            let _ = writeln!(
                out,
                "iked_child_sa_{metric}_total{{{labels},direction=\"in\"}} {inbound}"
            );
            let _ = writeln!(
                out,
                "iked_child_sa_{metric}_total{{{labels},direction=\"out\"}} {outbound}"
            );
        }
    }
    out.push_str("# HELP iked_child_sa_drops_total Packets dropped on a Child SA.\n# TYPE iked_child_sa_drops_total counter\n");
    for c in &stats.children {
        let _ = writeln!(
            out,
            "iked_child_sa_drops_total{{connection=\"{}\",child=\"{}\",spi=\"{}\"}} {}",
            escape(&c.connection),
            escape(&c.child),
            c.inbound_spi,
            c.counters.drops
        );
    }
    out.push_str("# HELP iked_uptime_seconds Seconds since the daemon started.\n# TYPE iked_uptime_seconds gauge\n");
    let _ = writeln!(out, "iked_uptime_seconds {}", stats.uptime_secs);
    if let Some(n) = &stats.n3iwf {
        n3iwf::render(&mut out, n);
    }
    out
}

async fn respond(mut stream: TcpStream, commands: mpsc::Sender<DriverCommand>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) if buf.len() + n > MAX_REQUEST => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request_line = buf.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = request_line.split(|b| *b == b' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (status, body) = if method != b"GET" {
        ("405 Method Not Allowed", "only GET\n".to_string())
    } else if target != b"/metrics" {
        ("404 Not Found", "try /metrics\n".to_string())
    } else {
        let (reply, rx) = oneshot::channel();
        if commands.send(DriverCommand::Stats { reply }).await.is_err() {
            return;
        }
        match rx.await {
            Ok(stats) => ("200 OK", render(&stats)),
            Err(_) => ("503 Service Unavailable", "shutting down\n".to_string()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Label values escape backslash, quote and newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

const MAX_REQUEST: usize = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
