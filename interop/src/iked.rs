//! Our daemon (`iked`) in one of the lab's namespaces, run as a user runs it: a TOML file,
//! `iked --config FILE`, and only `ikectl` to drive and observe it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::Deserialize;

use crate::charon::tail;
use crate::cmd::{self, Error, Result, wait_until};
use crate::config::iked::{Daemon, Dataplane};
use crate::lab::Node;
use crate::peer::report;

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const IKECTL_TIMEOUT: Duration = Duration::from_secs(40);

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Where `iked` and `ikectl` are: `$PQIKE_IKED` / `$PQIKE_IKECTL`, else next to the running test
/// executable (`target/<profile>/deps/..`), as `cargo build --release -p iked -p ikectl` leaves
/// them.
#[derive(Clone, Debug)]
pub struct IkedBinaries {
    /// The daemon.
    pub iked: PathBuf,
    /// Its control tool.
    pub ikectl: PathBuf,
}

impl IkedBinaries {
    /// Finds both programs.
    pub fn locate() -> Result<Self> {
        let find = |var: &str, name: &str| -> Result<PathBuf> {
            if let Some(p) = std::env::var_os(var) {
                let p = PathBuf::from(p);
                return if p.exists() {
                    Ok(p)
                } else {
                    Err(Error::new(format!("{var}={} does not exist", p.display())))
                };
            }
            let exe = std::env::current_exe().map_err(|e| Error::io("current_exe", e))?;
            exe.ancestors()
                .skip(1)
                .take(2)
                .map(|d| d.join(name))
                .find(|p| p.exists())
                .ok_or_else(|| {
                    Error::new(format!(
                        "{name} not found next to {} (run `cargo build --release -p iked -p ikectl`, or set {var})",
                        exe.display()
                    ))
                })
        };
        Ok(Self {
            iked: find("PQIKE_IKED", "iked")?,
            ikectl: find("PQIKE_IKECTL", "ikectl")?,
        })
    }
}

/// ESP on the wire, `[dataplane] encapsulation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encap {
    /// ESP in UDP on port 4500 (RFC 3948).
    Udp,
    /// IP protocol 50.
    Raw,
}

/// The `[daemon]` and `[dataplane]` sections; connections and secrets come from the test.
#[derive(Clone, Debug)]
pub struct IkedConfig {
    /// `[dataplane] encapsulation`.
    pub encap: Encap,
    /// `[daemon] log` (a `tracing` filter).
    pub log: String,
    /// Extra lines in `[daemon]` (e.g. `retransmit_timeout = 0.25`).
    pub daemon: String,
    /// Files written next to `iked.toml` before the daemon starts (certificates, keys), mode
    /// 0600: relative path and content.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Default for IkedConfig {
    fn default() -> Self {
        Self {
            encap: Encap::Udp,
            log: "info".into(),
            daemon: String::new(),
            files: Vec::new(),
        }
    }
}

/// A running `iked`. Dropping it stops the daemon (SIGTERM, then SIGKILL) by PID; it also gets
/// SIGKILL when the thread that started it ends (`setpriv --pdeathsig`).
#[derive(Debug)]
pub struct Iked {
    name: String,
    bins: IkedBinaries,
    dir: PathBuf,
    child: Option<Child>,
    pid: u32,
}

impl Iked {
    /// Writes `iked.toml` (the daemon and datapath sections for `node`, routing `peer`'s inner
    /// address into the TUN device, then `connections`), starts `iked --config` in `node`'s
    /// namespace and waits (bounded) until `ikectl` reaches it.
    pub fn start(
        node: &Node,
        peer: &Node,
        name: &str,
        config: &IkedConfig,
        connections: &str,
    ) -> Result<Self> {
        let bins = IkedBinaries::locate()?;
        let dir = std::env::temp_dir().join(format!("{}-{name}", node.netns()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
        let toml = daemon_toml(node, peer, &dir, config) + connections;
        write_private(&dir.join("iked.toml"), &toml)?;
        for (rel, content) in &config.files {
            write_file_in(&dir, rel, content)?;
        }
        let log = File::create(dir.join("iked.log")).map_err(|e| Error::io("iked.log", e))?;
        let log2 = log.try_clone().map_err(|e| Error::io("iked.log", e))?;
        let mut c = Command::new("setpriv");
        c.args(["--pdeathsig", "KILL", "nsenter"])
            .arg(format!("--net=/run/netns/{}", node.netns()))
            .arg("--")
            .arg(&bins.iked)
            .arg("--config")
            .arg(dir.join("iked.toml"));
        c.env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = c.spawn().map_err(|e| Error::io("spawning iked", e))?;
        let pid = child.id();
        let mut iked = Self {
            name: name.to_owned(),
            bins,
            dir,
            child: Some(child),
            pid,
        };
        iked.wait_ready()?;
        Ok(iked)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let mut exited = None;
        let ready = wait_until(START_TIMEOUT, || {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                exited = Some(status);
                return Some(false);
            }
            self.ikectl_status(&["version"])
                .ok()
                .filter(|o| o.status.success())
                .map(|_| true)
        });
        if ready == Some(true) {
            return Ok(());
        }
        let why = exited.map_or_else(
            || format!("not ready within {START_TIMEOUT:?}"),
            |s| format!("exited with {s}"),
        );
        Err(Error::new(format!(
            "iked {}: {why}\n--- log:\n{}",
            self.name,
            tail(&self.log(), 40)
        )))
    }

    /// The instance name given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The directory holding `iked.toml`, `iked.log` and the control socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The daemon's log (its stderr) so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("iked.log")).unwrap_or_default()
    }

    /// Current log length, for [`Self::wait_log`].
    pub fn log_mark(&self) -> usize {
        fs::metadata(self.dir.join("iked.log")).map_or(0, |m| m.len() as usize)
    }

    /// Waits until the log after `mark` has a line containing every one of `needles`.
    pub fn wait_log(&self, mark: usize, needles: &[&str], timeout: Duration) -> Result<String> {
        wait_until(timeout, || {
            let log = self.log();
            log.get(mark..)?
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            Error::new(format!(
                "iked {}: no log line with {needles:?} within {timeout:?}; log tail:\n{}",
                self.name,
                tail(&self.log(), 40)
            ))
        })
    }

    /// Writes a file next to `iked.toml` (certificates, keys), mode 0600.
    pub fn write_file(&self, relative: &str, content: &[u8]) -> Result<()> {
        write_file_in(&self.dir, relative, content)
    }

    /// Replaces the connections part of `iked.toml` (keeping the daemon sections) and applies
    /// it with `ikectl load`.
    pub fn reload(&self, connections: &str) -> Result<Output> {
        let path = self.dir.join("iked.toml");
        let text = fs::read_to_string(&path).map_err(|e| Error::io(path.display(), e))?;
        let head = text
            .split_once(CONNECTIONS_MARK)
            .map_or(text.as_str(), |(h, _)| h);
        write_private(&path, &format!("{head}{CONNECTIONS_MARK}\n{connections}"))?;
        self.ikectl(&["load"])
    }

    /// `ikectl --socket ... ARGS`, whatever its exit status.
    pub fn ikectl_status(&self, args: &[&str]) -> Result<Output> {
        let mut c = Command::new(&self.bins.ikectl);
        c.arg("--socket").arg(self.dir.join("iked.sock")).args(args);
        cmd::run(&mut c, IKECTL_TIMEOUT)
    }

    /// `ikectl ARGS`; a non-zero exit is an error carrying its output.
    pub fn ikectl(&self, args: &[&str]) -> Result<Output> {
        let out = self.ikectl_status(args)?;
        cmd::check_status(&format!("ikectl {}", args.join(" ")), out)
    }

    /// `ikectl up NAME` (waits until the IKE SA is established or fails).
    pub fn up(&self, conn: &str) -> Result<Output> {
        self.ikectl(&["up", conn, "--timeout", "20"])
    }

    /// `ikectl --json list-sas`, parsed.
    pub fn list_sas(&self) -> Result<Vec<OurIkeSa>> {
        let out = self.ikectl(&["--json", "list-sas"])?;
        serde_json::from_slice(&out.stdout).map_err(|e| {
            Error::new(format!(
                "ikectl list-sas --json: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            ))
        })
    }

    /// `ikectl --json stats`.
    pub fn stats(&self) -> Result<serde_json::Value> {
        let out = self.ikectl(&["--json", "stats"])?;
        serde_json::from_slice(&out.stdout).map_err(|e| Error::new(format!("ikectl stats: {e}")))
    }

    /// One counter of `ikectl stats` (`engine`, `daemon` or `datapath` group); a counter that
    /// does not exist is an error, so a renamed counter cannot pass as zero.
    pub fn counter(&self, group: &str, name: &str) -> Result<u64> {
        let stats = self.stats()?;
        stats[group][name].as_u64().ok_or_else(|| {
            Error::new(format!(
                "ikectl stats has no counter {group}.{name}: {stats}"
            ))
        })
    }

    /// Waits until the IKE SAs satisfy `check`, returning what it returned.
    pub fn wait_sas<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&[OurIkeSa]) -> Option<T>,
    ) -> Result<T> {
        let mut last = Vec::new();
        wait_until(timeout, || {
            last = self.list_sas().ok()?;
            check(&last)
        })
        .ok_or_else(|| {
            Error::new(format!(
                "iked {}: condition on list-sas not met within {timeout:?}; last: {last:#?}\nlog tail:\n{}",
                self.name,
                tail(&self.log(), 30)
            ))
        })
    }

    /// Waits for one established IKE SA of `conn` with an installed Child SA.
    pub fn wait_established(&self, conn: &str, timeout: Duration) -> Result<OurIkeSa> {
        self.wait_sas(timeout, |sas| {
            sas.iter()
                .find(|s| {
                    s.connection == conn && s.state == "established" && !s.children.is_empty()
                })
                .cloned()
        })
    }

    /// Kills the daemon with SIGKILL: it dies without sending DELETE, as after a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the daemon (SIGTERM, then SIGKILL).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        cmd::terminate(&mut child, self.pid, STOP_TIMEOUT);
        if std::thread::panicking() || std::env::var_os("PQIO_KEEP").is_some() {
            report(&format!(
                "iked {} kept its files in {}; log tail:\n{}",
                self.name,
                self.dir.display(),
                tail(&self.log(), 25)
            ));
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Iked {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Separates the generated daemon sections from the test's connections in `iked.toml`.
const CONNECTIONS_MARK: &str = "# --- connections ---";

fn daemon_toml(node: &Node, peer: &Node, dir: &Path, config: &IkedConfig) -> String {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let daemon = Daemon {
        socket: dir.join("iked.sock").display().to_string(),
        listen: vec![node.outer().to_string()],
        log: Some(config.log.clone()),
        extra: config.daemon.clone(),
        ..Daemon::default()
    };
    // The inner address is already on `lo` (the lab put it there); the TUN device only needs
    // the route to the peer's inner address. 15 bytes at most: pqx + 5 digits of our pid + t
    // + sequence.
    let dataplane = Dataplane {
        tun: format!("pqx{}t{seq}", std::process::id() % 100_000),
        mtu: 1400,
        routes: vec![format!("{}/32", peer.inner())],
        local: Some(node.outer().to_string()),
        encapsulation: match config.encap {
            Encap::Udp => "udp",
            Encap::Raw => "raw",
        }
        .into(),
        workers: Some(1),
        ..Dataplane::default()
    };
    format!(
        "{}{}\n{CONNECTIONS_MARK}\n",
        daemon.render(),
        dataplane.render()
    )
}

fn write_file_in(dir: &Path, relative: &str, content: &[u8]) -> Result<()> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
    }
    fs::write(&path, content).map_err(|e| Error::io(path.display(), e))?;
    set_private(&path)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| Error::io(format_args!("writing {}", path.display()), e))?;
    set_private(path)
}

fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(path.display(), e))
}

/// An IKE SA as `ikectl --json list-sas` shows it (the fields the tests read).
#[derive(Clone, Debug, Deserialize)]
pub struct OurIkeSa {
    /// Our SPI (hex), the SA's name in every output.
    pub id: String,
    /// The connection.
    pub connection: String,
    /// `connecting` or `established`.
    pub state: String,
    /// Whether we initiated it.
    pub initiator: bool,
    /// strongSwan-style proposal name.
    pub proposal: Option<String>,
    /// Whether a PPK was mixed in.
    pub ppk_used: bool,
    /// NAT detected (or UDP encapsulation forced).
    pub nat_detected: bool,
    /// IKE_INTERMEDIATE exchanges run.
    pub intermediate_exchanges: u8,
    /// How long each exchange and step took (initiator only), in order.
    #[serde(default)]
    pub timings: Vec<OurPhase>,
    /// Child SAs.
    pub children: Vec<OurChildSa>,
}

/// One timed step in `ikectl --json list-sas` (`IKE_SA_INIT`, `IKE_INTERMEDIATE`, `IKE_AUTH`,
/// `initiate -> established`, `initiate -> child installed`).
#[derive(Clone, Debug, Deserialize)]
pub struct OurPhase {
    /// The step.
    pub phase: String,
    /// Its duration in microseconds.
    pub micros: u64,
}

/// A Child SA in `ikectl --json list-sas`.
#[derive(Clone, Debug, Deserialize)]
pub struct OurChildSa {
    /// The child's name.
    pub name: String,
    /// Inbound SPI (hex).
    pub inbound_spi: String,
    /// Outbound SPI (hex).
    pub outbound_spi: String,
    /// strongSwan-style proposal name.
    pub proposal: String,
    /// Datapath counters (inner traffic).
    pub counters: OurCounters,
}

/// Per-Child-SA datapath counters.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct OurCounters {
    /// Inner bytes received.
    pub bytes_in: u64,
    /// Inner bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Packets dropped, every reason.
    pub drops: u64,
}

/// The lab and our daemon's programs for a test, or `None` after a loud `SKIPPED` banner (not
/// root, no strongSwan root filesystem, or `iked`/`ikectl` not built). With
/// `PQIKE_INTEROP_REQUIRED=1` every one of those is a failure instead.
pub fn daemon_lab_or_skip(test: &str) -> Option<(crate::StrongSwan, IkedBinaries)> {
    let strongswan = crate::lab_or_skip(test)?;
    match IkedBinaries::locate() {
        Ok(b) => Some((strongswan, b)),
        Err(e) => {
            let required = std::env::var("PQIKE_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
            assert!(!required, "{test}: {e}");
            crate::peer::banner(test, "iked/ikectl are not built", &e.to_string());
            None
        }
    }
}
