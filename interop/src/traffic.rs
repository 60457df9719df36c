//! Traffic through the tunnel: ping, a checked TCP transfer, and a first-packet probe.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::cmd::{self, Error, Result, wait_until};
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

/// Result of [`tcp_transfer`].
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    /// Bytes received and checked.
    pub bytes: usize,
    /// From the sender's start to the receiver's exit.
    pub elapsed: Duration,
}

/// Deterministic test data (xorshift), so a mismatch is reproducible.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Sends `bytes` bytes over TCP from `from`'s inner address to `to`'s inner address, port
/// `port`, with `nc` from the root filesystem, and checks that exactly those bytes arrived.
pub fn tcp_transfer(
    from: &Node,
    to: &Node,
    port: u16,
    bytes: usize,
    timeout: Duration,
) -> Result<Transfer> {
    let data = pattern(bytes, bytes as u64 ^ u64::from(port));
    let (dst, p) = (to.inner().to_string(), port.to_string());
    let mut rx = to.command(&["nc", "-l", "-n", "-N", &dst, &p]);
    rx.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut receiver = rx.spawn().map_err(|e| Error::io("spawning nc -l", e))?;
    let stdout = receiver.stdout.take();
    let collected = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = stdout {
            let _ = std::io::Read::read_to_end(&mut s, &mut buf);
        }
        buf
    });
    let result = (|| {
        let listening = format!("{dst}:{port}");
        wait_until(Duration::from_secs(5), || {
            let out = cmd::run(&mut to.command(&["ss", "-ltnH"]), Duration::from_secs(5)).ok()?;
            String::from_utf8_lossy(&out.stdout)
                .contains(&listening)
                .then_some(())
        })
        .ok_or_else(|| {
            Error::new(format!(
                "nc did not listen on {listening} in {}",
                to.netns()
            ))
        })?;
        let start = Instant::now();
        let src = from.inner().to_string();
        let mut tx = from.command(&["nc", "-N", "-n", "-s", &src, &dst, &p]);
        let out = cmd::run_with_input(&mut tx, Some(data.clone()), timeout)?;
        cmd::check_status("nc (sender)", out)?;
        let status = cmd::wait_child(&mut receiver, timeout)
            .ok_or_else(|| Error::new("nc (receiver) did not exit after the sender closed"))?;
        Ok((start.elapsed(), status))
    })();
    if result.is_err() {
        let _ = receiver.kill();
        let _ = receiver.wait();
    }
    let received = collected.join().unwrap_or_default();
    let (elapsed, status) = result?;
    if !status.success() {
        return Err(Error::new(format!("nc (receiver) exited with {status}")));
    }
    if received != data {
        let at = received
            .iter()
            .zip(&data)
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| received.len().min(data.len()));
        return Err(Error::new(format!(
            "TCP transfer corrupted: sent {} bytes, received {}, first difference at {at}",
            data.len(),
            received.len()
        )));
    }
    Ok(Transfer {
        bytes: received.len(),
        elapsed,
    })
}

/// The probe binary built with this crate (`pqio-probe`): `$PQIO_PROBE`, else next to the
/// running executable or its parent directory (test and bench executables live in
/// `target/<profile>/deps/`). Integration tests of this crate get it built by cargo; others run
/// `cargo build -p interop --bins` first.
pub fn probe_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PQIO_PROBE") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("current_exe", e))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join("pqio-probe"))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::new("pqio-probe not found; run `cargo build --release -p interop --bins`")
        })
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
