//! Traffic through the tunnel: ping and a first-packet probe (the checked TCP transfer is in
//! `transfer`).

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::cmd::{self, Error, Result};
use crate::lab::Node;
use crate::timing::Timestamp;

/// Result of [`ping`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingStats {
    /// Echo requests sent.
    pub transmitted: u32,
    /// Echo replies received.
    pub received: u32,
}

/// Pings `dst` from `from`'s inner address (so the packets match the traffic selectors),
/// `count` times 50 ms apart, waiting at most 1 s for each reply.
pub fn ping(from: &Node, dst: Ipv4Addr, count: u32) -> Result<PingStats> {
    let src = from.inner().to_string();
    let (dst, n) = (dst.to_string(), count.to_string());
    let mut c = from.command(&[
        "ping", "-n", "-q", "-I", &src, "-c", &n, "-i", "0.05", "-W", "1", &dst,
    ]);
    let timeout = Duration::from_millis(50) * count + Duration::from_secs(5);
    let out = cmd::run(&mut c, timeout)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let stats = text.lines().find_map(|l| {
        let (tx, rest) = l.split_once(" packets transmitted, ")?;
        let rx = rest.split_whitespace().next()?;
        Some(PingStats {
            transmitted: tx.trim().parse().ok()?,
            received: rx.parse().ok()?,
        })
    });
    stats.ok_or_else(|| {
        Error::new(format!(
            "ping {dst} from {}: no statistics: {text} {}",
            from.netns(),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

/// The probe binary built with this crate (`pqio-probe`): `$PQIO_PROBE`, else next to the
/// running executable or its parent directory (test and bench executables live in
/// `target/<profile>/deps/`). Integration tests of this crate get it built by cargo; others run
/// `cargo build -p interop --bins` first.
pub fn probe_binary() -> Result<PathBuf> {
    crate::transfer::sibling_binary("pqio-probe", "PQIO_PROBE")
}

/// When the first packet crossed the tunnel, as seen by [`FirstPacketProbe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstPacket {
    /// First moment a route to the destination existed (the tunnel's route was installed).
    pub route: Timestamp,
    /// The first answer from the far end (an ICMP port unreachable for the probe's UDP packet,
    /// which only the destination host sends).
    pub reply: Timestamp,
}

/// Measures "initiate → first packet": started before the initiation, it tries every 100 µs to
/// send a UDP datagram from the node's inner address to a closed port on `dst` and reports
/// when the first answer comes back through the tunnel.
#[derive(Debug)]
pub struct FirstPacketProbe {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
}

impl FirstPacketProbe {
    /// Starts the probe in `node`'s namespace towards `dst` (UDP port 9, discard, which nothing
    /// in the lab listens on) and waits until it runs.
    pub fn start(node: &Node, dst: Ipv4Addr, max: Duration) -> Result<Self> {
        let bin = probe_binary()?;
        let mut c: Command = node.host_command(&bin);
        c.args([
            "--src",
            &node.inner().to_string(),
            "--dst",
            &dst.to_string(),
            "--port",
            "9",
            "--interval-us",
            "100",
            "--timeout-ms",
            &max.as_millis().to_string(),
        ]);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c
            .spawn()
            .map_err(|e| Error::io(format_args!("spawning {}", bin.display()), e))?;
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take();
        thread::spawn(move || {
            if let Some(s) = stdout {
                for line in BufReader::new(s).lines().map_while(std::result::Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        });
        let probe = Self {
            child: Some(child),
            lines: rx,
        };
        match probe.lines.recv_timeout(Duration::from_secs(5)) {
            Ok(l) if l == "ready" => Ok(probe),
            other => Err(Error::new(format!("pqio-probe did not start: {other:?}"))),
        }
    }

    /// Waits (at most `timeout`) for the first answer.
    pub fn wait(mut self, timeout: Duration) -> Result<FirstPacket> {
        let deadline = Instant::now() + timeout;
        let mut route = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).map_err(|_| {
                Error::new(format!(
                    "no packet came back through the tunnel within {timeout:?}"
                ))
            })?;
            let mut it = line.split_whitespace();
            let (what, us) = (it.next(), it.next().and_then(|v| v.parse().ok()));
            match (what, us) {
                (Some("route"), Some(us)) => route = Some(Timestamp(us)),
                (Some("reply"), Some(us)) => {
                    self.stop();
                    let reply = Timestamp(us);
                    return Ok(FirstPacket {
                        route: route.unwrap_or(reply),
                        reply,
                    });
                }
                (Some("timeout"), _) => return Err(Error::new("pqio-probe timed out")),
                _ => {}
            }
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for FirstPacketProbe {
    fn drop(&mut self) {
        self.stop();
    }
}
