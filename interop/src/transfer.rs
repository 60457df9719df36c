//! The checked TCP transfer, the one the project's tests use (the scripts through
//! `pqlab transfer`): deterministic bytes from one namespace to another, compared exactly on
//! arrival. Each end is `pqlab` itself, run in its namespace (`pqlab tcp-recv`, `pqlab
//! tcp-send`), so no tool of the machine or of a container is needed.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::cmd::{self, Error, Result, wait_until};
use crate::lab::Node;

/// Deterministic test data (xorshift), so a mismatch is reproducible.
#[derive(Clone, Debug)]
pub struct Pattern(u64);

impl Pattern {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Fills `buf` with the next bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0 >> 24) as u8;
        }
    }
}

/// `len` bytes of the pattern for `seed`.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0; len];
    Pattern::new(seed).fill(&mut v);
    v
}

const CHUNK: usize = 64 * 1024;

/// The receiving end: listens on `at`, says `listening` on stdout once bound, accepts one
/// connection and compares everything it reads with `bytes` bytes of the pattern for `seed`.
pub fn receive(at: SocketAddr, bytes: usize, seed: u64, timeout: Duration) -> Result<usize> {
    let listener = TcpListener::bind(at).map_err(|e| Error::io(format_args!("bind {at}"), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listener", e))?;
    println!("listening");
    let _ = std::io::stdout().flush();
    let stream = wait_until(timeout, || match listener.accept() {
        Ok((s, _)) => Some(Ok(s)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
        Err(e) => Some(Err(e)),
    })
    .ok_or_else(|| Error::new(format!("no connection to {at} within {timeout:?}")))?
    .map_err(|e| Error::io("accept", e))?;
    stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(timeout)))
        .map_err(|e| Error::io("stream", e))?;
    compare(stream, bytes, seed)
}

fn compare(mut stream: TcpStream, bytes: usize, seed: u64) -> Result<usize> {
    let (mut want, mut got) = (vec![0; CHUNK], vec![0; CHUNK]);
    let mut pattern = Pattern::new(seed);
    let mut at = 0;
    loop {
        let n = stream
            .read(&mut got)
            .map_err(|e| Error::io(format_args!("reading after {at} bytes"), e))?;
        if n == 0 {
            break;
        }
        let expected = n.min(bytes.saturating_sub(at));
        pattern.fill(&mut want[..expected]);
        if let Some(i) = (0..n).find(|&i| i >= expected || got[i] != want[i]) {
            return Err(Error::new(format!(
                "TCP transfer corrupted: sent {bytes} bytes, first difference at {}",
                at + i
            )));
        }
        at += n;
    }
    if at != bytes {
        return Err(Error::new(format!(
            "TCP transfer short: sent {bytes} bytes, received {at}"
        )));
    }
    Ok(at)
}

/// The sending end: connects to `to` (from `bind` when given, so the traffic matches the
/// tunnel's selectors), sends `bytes` bytes of the pattern for `seed`, closes its side and
/// waits until the receiver has closed too.
pub fn send(
    to: SocketAddrV4,
    bind: Option<Ipv4Addr>,
    bytes: usize,
    seed: u64,
    timeout: Duration,
) -> Result<()> {
    let socket =
        Socket::new(Domain::IPV4, Type::STREAM, None).map_err(|e| Error::io("socket", e))?;
    if let Some(src) = bind {
        socket
            .bind(&SocketAddrV4::new(src, 0).into())
            .map_err(|e| Error::io(format_args!("bind {src}"), e))?;
    }
    socket
        .connect_timeout(&to.into(), timeout)
        .map_err(|e| Error::io(format_args!("connect {to}"), e))?;
    let mut stream: TcpStream = socket.into();
    stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.set_read_timeout(Some(timeout)))
        .map_err(|e| Error::io("stream", e))?;
    let (mut pattern, mut buf, mut left) = (Pattern::new(seed), vec![0; CHUNK], bytes);
    while left > 0 {
        let n = left.min(CHUNK);
        pattern.fill(&mut buf[..n]);
        stream
            .write_all(&buf[..n])
            .map_err(|e| Error::io(format_args!("sending at {}", bytes - left), e))?;
        left -= n;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| Error::io("shutdown", e))?;
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .map_err(|e| Error::io("waiting for the receiver to close", e))?;
    Ok(())
}

/// Result of [`tcp_transfer`].
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    /// Bytes received and checked.
    pub bytes: usize,
    /// From the sender's start to the receiver's exit.
    pub elapsed: Duration,
}

impl Transfer {
    /// Throughput in Mbit/s.
    pub fn mbit_per_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

/// Sends `bytes` bytes over TCP from `from`'s inner address to `to`'s inner address, port
/// `port`, through the tunnel, and checks that exactly those bytes arrived.
pub fn tcp_transfer(
    from: &Node,
    to: &Node,
    port: u16,
    bytes: usize,
    timeout: Duration,
) -> Result<Transfer> {
    let dst = SocketAddrV4::new(to.inner(), port);
    transfer_between(
        from.netns(),
        to.netns(),
        Some(from.inner()),
        dst,
        bytes,
        timeout,
    )
}

/// The checked transfer between namespaces `from_ns` and `to_ns`: `pqlab tcp-recv` listens in
/// `to_ns` on `dst`, `pqlab tcp-send` sends from `from_ns` (from `src` when given).
pub fn transfer_between(
    from_ns: &str,
    to_ns: &str,
    src: Option<Ipv4Addr>,
    dst: SocketAddrV4,
    bytes: usize,
    timeout: Duration,
) -> Result<Transfer> {
    let bin = pqlab_binary()?;
    let seed = (bytes as u64) ^ u64::from(dst.port()) ^ u64::from(std::process::id());
    let common = |c: &mut Command| {
        c.args(["--bytes", &bytes.to_string(), "--seed", &seed.to_string()])
            .args(["--timeout-ms", &timeout.as_millis().to_string()]);
    };
    let mut rx = Command::new("ip");
    rx.args(["netns", "exec", to_ns]).arg(&bin).arg("tcp-recv");
    rx.args(["--listen", &dst.to_string()]);
    common(&mut rx);
    rx.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut receiver = rx
        .spawn()
        .map_err(|e| Error::io("spawning pqlab tcp-recv", e))?;
    let mut lines = BufReader::new(receiver.stdout.take().expect("piped stdout")).lines();
    if !matches!(lines.next(), Some(Ok(l)) if l == "listening") {
        let status = cmd::wait_child(&mut receiver, Duration::from_secs(5));
        let mut err = String::new();
        if let Some(mut e) = receiver.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(Error::new(format!(
            "pqlab tcp-recv in {to_ns} did not listen on {dst} ({status:?}): {err}"
        )));
    }
    let start = Instant::now();
    let mut tx = Command::new("ip");
    tx.args(["netns", "exec", from_ns])
        .arg(&bin)
        .arg("tcp-send");
    tx.args(["--to", &dst.to_string()]);
    if let Some(src) = src {
        tx.args(["--bind", &src.to_string()]);
    }
    common(&mut tx);
    let sent = cmd::run(&mut tx, timeout + Duration::from_secs(5))
        .and_then(|out| cmd::check_status("pqlab tcp-send", out));
    let status = cmd::wait_child(
        &mut receiver,
        if sent.is_ok() {
            timeout
        } else {
            Duration::ZERO
        },
    );
    let mut err = String::new();
    if let Some(mut e) = receiver.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    sent?;
    match status {
        Some(s) if s.success() => Ok(Transfer {
            bytes,
            elapsed: start.elapsed(),
        }),
        Some(s) => Err(Error::new(format!(
            "receiver in {to_ns} ({s}): {}",
            err.trim()
        ))),
        None => Err(Error::new(format!(
            "receiver in {to_ns} did not finish within {timeout:?}"
        ))),
    }
}

/// `pqlab`, this crate's helper binary: `$PQLAB`, else next to the running executable or in
/// its parent directory (test executables live in `target/<profile>/deps/`). This crate's
/// tests get it built by cargo; others run `cargo build -p interop --bins` first.
pub fn pqlab_binary() -> Result<PathBuf> {
    sibling_binary("pqlab", "PQLAB")
}

pub(crate) fn sibling_binary(name: &str, var: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("current_exe", e))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::new(format!(
                "{name} not found next to {}; run `cargo build --release -p interop --bins` or set {var}",
                exe.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over_loopback(sent_seed: u64, want_seed: u64, bytes: usize) -> Result<usize> {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = probe.local_addr().unwrap();
        drop(probe);
        let rx = std::thread::spawn(move || receive(at, bytes, want_seed, Duration::from_secs(10)));
        let SocketAddr::V4(to) = at else {
            unreachable!()
        };
        // Until the receiver listens, connecting is refused; after that the send counts (it may
        // fail when the receiver stops reading at a difference).
        let _sent = wait_until(Duration::from_secs(5), || {
            let r = send(
                to,
                Some(Ipv4Addr::LOCALHOST),
                bytes,
                sent_seed,
                Duration::from_secs(10),
            );
            match r {
                Err(e) if e.to_string().starts_with("connect") => None,
                r => Some(r),
            }
        })
        .expect("connected");
        rx.join().unwrap()
    }

    #[test]
    fn the_same_pattern_arrives_whole() {
        assert_eq!(over_loopback(7, 7, 300_000).unwrap(), 300_000);
    }

    #[test]
    fn other_bytes_are_caught_at_the_first_difference() {
        let e = over_loopback(7, 8, 100_000).unwrap_err().to_string();
        assert!(e.contains("first difference at 0"), "{e}");
    }

    #[test]
    fn pattern_is_deterministic_per_seed() {
        assert_eq!(pattern(64, 1), pattern(64, 1));
        assert_ne!(pattern(64, 1), pattern(64, 2));
        let mut p = Pattern::new(1);
        let mut half = vec![0; 32];
        p.fill(&mut half);
        assert_eq!(half, pattern(64, 1)[..32]);
    }
}
