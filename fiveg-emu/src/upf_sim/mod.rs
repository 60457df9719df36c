//! `UpfSim`: the UPF emulator ([`Upf`]) on a real N3 UDP socket, with N6 either the built-in
//! [`reflect`]or (no root needed) or a TUN device (real traffic: ping, TCP, iperf3 against the
//! kernel behind it), and an optional control socket for an SMF emulator. The `upf-sim` binary
//! wraps it; tests run it in-process.
//!
//! One task owns the [`Upf`]: the N3 socket, the TUN device, the Echo timer and the control
//! commands are multiplexed with `select!`, so the core needs no lock.

pub mod control;
mod n6;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UdpSocket, UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

pub use control::{Command, MAX_LINE, RuleSpec, parse_peer};
pub use n6::N6Mode;

use crate::upf::{N3Output, SessionRule, Upf, UpfConfig, UpfCounters, reflect};
use n6::N6;

/// The most control connections open at once.
pub const MAX_CONTROL_CONNECTIONS: usize = 16;

/// The largest datagram or packet handled (a G-PDU of a 64 KiB T-PDU fits with its header).
const BUFFER_LEN: usize = 65_536 + 64;

/// How to run the emulator.
#[derive(Clone, Debug)]
pub struct UpfSimConfig {
    /// The N3 address to bind.
    pub n3: SocketAddr,
    /// What is behind N6.
    pub n6: N6Mode,
    /// The control socket's path, if any.
    pub control: Option<PathBuf>,
    /// Rules installed at start.
    pub rules: Vec<SessionRule>,
    /// The core's settings (its `n3_address` is set from the bound socket when unspecified).
    pub upf: UpfConfig,
}

/// A bound UPF emulator.
pub struct UpfSim {
    socket: UdpSocket,
    n6: N6,
    control: Option<(UnixListener, PathBuf)>,
    upf: Upf,
}

type Request = (Command, oneshot::Sender<Value>);

impl UpfSim {
    /// Binds the N3 socket and the control socket, opens N6 and installs the rules.
    ///
    /// # Errors
    /// When a socket cannot be bound, the TUN device cannot be opened, or a rule is refused.
    pub async fn bind(config: UpfSimConfig) -> io::Result<Self> {
        let socket = UdpSocket::bind(config.n3).await?;
        let mut upf_config = config.upf;
        if upf_config.n3_address.is_unspecified() {
            upf_config.n3_address = socket.local_addr()?.ip();
        }
        let mut upf = Upf::new(upf_config);
        let now = Instant::now();
        for rule in config.rules {
            upf.add_rule(now, rule)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let control = match config.control {
            Some(path) => {
                // A stale socket from an earlier run would make bind fail.
                let _ = std::fs::remove_file(&path);
                Some((UnixListener::bind(&path)?, path))
            }
            None => None,
        };
        Ok(Self {
            socket,
            n6: N6::open(&config.n6)?,
            control,
            upf,
        })
    }

    /// The N3 socket's address.
    ///
    /// # Errors
    /// As `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Runs until `shutdown` turns true; returns the counters.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> UpfCounters {
        let (requests, mut commands) = mpsc::channel::<Request>(MAX_CONTROL_CONNECTIONS);
        let acceptor = self
            .control
            .take()
            .map(|(listener, path)| (tokio::spawn(accept(listener, requests)), path));
        let mut n3_buf = vec![0u8; BUFFER_LEN];
        let mut n6_buf = vec![0u8; BUFFER_LEN];
        let mut out = vec![0u8; BUFFER_LEN];
        loop {
            let deadline = self.upf.next_deadline();
            tokio::select! {
                r = self.socket.recv_from(&mut n3_buf) => match r {
                    Ok((len, from)) => self.on_n3(from, &n3_buf[..len], &mut out).await,
                    Err(e) => eprintln!("upf-sim: n3 receive: {e}"),
                },
                r = self.n6.recv(&mut n6_buf) => match r {
                    Ok(len) => self.on_n6(&n6_buf[..len], &mut out).await,
                    Err(e) => eprintln!("upf-sim: n6 receive: {e}"),
                },
                Some((command, answer)) = commands.recv() => {
                    let _ = answer.send(self.on_command(command));
                }
                () = sleep_until(deadline) => self.send_echoes(&mut out).await,
                _ = shutdown.changed() => if *shutdown.borrow() { break },
            }
        }
        if let Some((task, path)) = acceptor {
            task.abort();
            let _ = std::fs::remove_file(path);
        }
        self.upf.counters().clone()
    }

    async fn on_n3(&mut self, from: SocketAddr, datagram: &[u8], out: &mut [u8]) {
        match self.upf.handle_n3(Instant::now(), from, datagram, out) {
            N3Output::Reply { to, len } => self.send(to, &out[..len]).await,
            N3Output::Uplink(range) => {
                let inner = &datagram[range];
                if self.n6.is_reflector() {
                    let mut reply = vec![0u8; inner.len()];
                    match reflect(inner, &mut reply) {
                        Some(n) => self.on_n6(&reply[..n], out).await,
                        None => self.upf.count_not_reflected(),
                    }
                } else {
                    self.n6.send(inner);
                }
            }
            N3Output::Done => {}
        }
    }

    async fn on_n6(&mut self, packet: &[u8], out: &mut [u8]) {
        if let Some((to, len)) = self.upf.handle_n6(packet, out) {
            self.send(to, &out[..len]).await;
        }
    }

    async fn send_echoes(&mut self, out: &mut [u8]) {
        // Bounded: one Echo Request per peer per period, and peers are bounded by the rules.
        while let Some((to, len)) = self.upf.poll_echo(Instant::now(), out) {
            self.send(to, &out[..len]).await;
        }
    }

    async fn send(&self, to: SocketAddr, datagram: &[u8]) {
        if let Err(e) = self.socket.send_to(datagram, to).await {
            eprintln!("upf-sim: n3 send to {to}: {e}");
        }
    }

    fn on_command(&mut self, command: Command) -> Value {
        match command {
            Command::Add(rule) => match self.upf.add_rule(Instant::now(), rule) {
                Ok(()) => json!({ "ok": true }),
                Err(e) => control::error_answer(&e.to_string()),
            },
            Command::Remove(teid) => match self.upf.remove_rule(teid) {
                Some(_) => json!({ "ok": true }),
                None => control::error_answer("no rule with this ul_teid"),
            },
            Command::Stats => json!({
                "stats": self.upf.counters().to_json(),
                "rules": self.upf.rule_count(),
            }),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// Accepts control connections, at most [`MAX_CONTROL_CONNECTIONS`] at once.
async fn accept(listener: UnixListener, requests: mpsc::Sender<Request>) {
    let slots = Arc::new(Semaphore::new(MAX_CONTROL_CONNECTIONS));
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            let line = format!(
                "{}\n",
                control::error_answer("too many control connections")
            );
            let _ = stream.write_all(line.as_bytes()).await;
            continue;
        };
        let requests = requests.clone();
        tokio::spawn(async move {
            serve(stream, requests).await;
            drop(slot);
        });
    }
}

/// Answers the commands of one connection, one line each; a line longer than [`MAX_LINE`]
/// gets an error and ends the connection.
async fn serve(stream: UnixStream, requests: mpsc::Sender<Request>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = u64::try_from(MAX_LINE + 1).unwrap_or(u64::MAX);
        match (&mut reader).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let complete = line.last() == Some(&b'\n');
        if !complete && line.len() > MAX_LINE {
            let answer = control::error_answer(&format!("line longer than {MAX_LINE} octets"));
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let answer = match Command::parse(text.trim()) {
            Ok(command) => {
                let (tx, rx) = oneshot::channel();
                if requests.send((command, tx)).await.is_err() {
                    return;
                }
                let Ok(answer) = rx.await else { return };
                answer
            }
            Err(e) => control::error_answer(&e),
        };
        if write
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}
