//! The ETSI GS QKD 014 KME simulator (`qkd-kme-sim`) in one of the lab's namespaces, and a
//! [`QkdPair`]: our daemon keyed by QKD PPKs from it, strongSwan with static PPKs.
//!
//! The simulator listens on loopback only, so it runs inside our daemon's namespace: our
//! daemon reaches its KME (B) on `127.0.0.1` there, and no KME traffic uses any address outside
//! the lab. Anything else that calls a KME (the tests, playing strongSwan's SAE) must run in
//! that namespace too.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::charon::{Charon, CharonConfig, tail};
use crate::cmd::{self, Error, Result, wait_until};
use crate::config::iked::{ConnPpk, Qkd};
use crate::iked::{Iked, IkedConfig, daemon_lab_or_skip};
use crate::lab::{Lab, Node};
use crate::peer::{StrongSwan, banner};
use crate::scenario::{Pair, Spec, iked_connection, swanctl_conf};

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// `$PQIKE_KME_SIM`, else `qkd-kme-sim` next to the running test executable (as
/// `cargo build --release -p qkd-kme-sim --bin qkd-kme-sim` leaves it).
pub fn locate_kme_sim() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PQIKE_KME_SIM") {
        let p = PathBuf::from(p);
        return if p.exists() {
            Ok(p)
        } else {
            Err(Error::new(format!(
                "PQIKE_KME_SIM={} does not exist",
                p.display()
            )))
        };
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("current_exe", e))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join("qkd-kme-sim"))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::new(format!(
                "qkd-kme-sim not found next to {} (run `cargo build --release -p qkd-kme-sim --bin qkd-kme-sim`, or set PQIKE_KME_SIM)",
                exe.display()
            ))
        })
}

/// The lab, our daemon's programs and the simulator, or `None` after a loud `SKIPPED` banner.
/// With `PQIKE_INTEROP_REQUIRED=1` every missing part is a failure instead.
pub fn kme_lab_or_skip(test: &str) -> Option<(StrongSwan, PathBuf)> {
    let (strongswan, _) = daemon_lab_or_skip(test)?;
    match locate_kme_sim() {
        Ok(sim) => Some((strongswan, sim)),
        Err(e) => {
            let required = std::env::var("PQIKE_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
            assert!(!required, "{test}: {e}");
            banner(test, "the KME simulator is not built", &e.to_string());
            None
        }
    }
}

/// How the simulator's key pools behave.
#[derive(Clone, Copy, Debug)]
pub struct KmePools {
    /// Keys per SAE pair (`--pool-size`, also the initial fill).
    pub size: u64,
    /// Refill rate in bit/s (`--key-rate-bps`): slow enough that a test sees each key taken.
    pub rate_bps: u64,
}

impl Default for KmePools {
    fn default() -> Self {
        // One 256-bit key every 256 s: the pool visibly shrinks by one per key.
        Self {
            size: 64,
            rate_bps: 1,
        }
    }
}

/// A running KME pair (`qkd-kme-sim serve`) on `127.0.0.1` of one namespace. Dropping it stops
/// the simulator by PID (SIGTERM, then SIGKILL) and removes its certificates.
#[derive(Debug)]
pub struct KmeSim {
    dir: PathBuf,
    netns: String,
    child: Option<Child>,
    pid: u32,
    addr_a: SocketAddr,
    addr_b: SocketAddr,
}

impl KmeSim {
    /// Generates certificates for `saes` (client certificates with CN = SAE ID) and starts both
    /// KMEs in `node`'s namespace on free loopback ports.
    pub fn start(sim: &Path, node: &Node, saes: &[&str], pools: KmePools) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("pqq-kme-{}", node.netns()));
        let _ = fs::remove_dir_all(&dir);
        let certs = dir.join("certs");
        let mut c = Command::new(sim);
        c.arg("certs").arg("--dir").arg(&certs);
        for sae in saes {
            c.args(["--sae", sae]);
        }
        cmd::run_ok(&mut c, START_TIMEOUT)?;
        let ports = dir.join("kme.ports");
        let log = fs::File::create(dir.join("kme.log")).map_err(|e| Error::io("kme.log", e))?;
        let log2 = log.try_clone().map_err(|e| Error::io("kme.log", e))?;
        let mut c = Command::new("setpriv");
        c.args(["--pdeathsig", "KILL", "ip", "netns", "exec", node.netns()])
            .arg(sim)
            .arg("serve")
            .arg("--certs")
            .arg(&certs)
            .args(["--listen-a", "127.0.0.1:0", "--listen-b", "127.0.0.1:0"])
            .args(["--pool-size", &pools.size.to_string()])
            .args(["--key-rate-bps", &pools.rate_bps.to_string()])
            .arg("--port-file")
            .arg(&ports);
        c.env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = c
            .spawn()
            .map_err(|e| Error::io("spawning qkd-kme-sim", e))?;
        let pid = child.id();
        let mut sim = Self {
            dir,
            netns: node.netns().to_owned(),
            child: Some(child),
            pid,
            addr_a: SocketAddr::from(([127, 0, 0, 1], 0)),
            addr_b: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let (a, b) = sim.wait_ports(&ports)?;
        (sim.addr_a, sim.addr_b) = (a, b);
        Ok(sim)
    }

    fn wait_ports(&mut self, ports: &Path) -> Result<(SocketAddr, SocketAddr)> {
        let found = wait_until(START_TIMEOUT, || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Some(Err(format!("exited with {status}")));
            }
            let text = fs::read_to_string(ports).ok()?;
            let addr = |key: &str| -> Option<SocketAddr> {
                text.lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.trim().parse().ok())
            };
            Some(Ok((addr("KME_A=")?, addr("KME_B=")?)))
        });
        let why = match found {
            Some(Ok(addrs)) => return Ok(addrs),
            Some(Err(e)) => e,
            None => format!("no port file within {START_TIMEOUT:?}"),
        };
        Err(Error::new(format!(
            "qkd-kme-sim in {}: {why}\n--- log:\n{}",
            self.netns,
            tail(&self.log(), 20)
        )))
    }

    /// `https://127.0.0.1:PORT` of KME A (the master SAE's KME in these tests).
    pub fn url_a(&self) -> String {
        format!("https://{}", self.addr_a)
    }

    /// `https://127.0.0.1:PORT` of KME B (the slave SAE's KME).
    pub fn url_b(&self) -> String {
        format!("https://{}", self.addr_b)
    }

    /// The directory written by `qkd-kme-sim certs` (`ca.pem`, `sae-<ID>.pem`, `.key`).
    pub fn certs(&self) -> PathBuf {
        self.dir.join("certs")
    }

    /// The namespace the KMEs listen in.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The simulator's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("kme.log")).unwrap_or_default()
    }

    /// The CA, certificate and key of `sae`, as files for [`IkedConfig::files`] under `qkd/`.
    pub fn sae_files(&self, sae: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let certs = self.certs();
        let read = |name: String| -> Result<(String, Vec<u8>)> {
            let path = certs.join(&name);
            let bytes = fs::read(&path).map_err(|e| Error::io(path.display(), e))?;
            Ok((format!("qkd/{name}"), bytes))
        };
        Ok(vec![
            read("ca.pem".into())?,
            read(format!("sae-{sae}.pem"))?,
            read(format!("sae-{sae}.key"))?,
        ])
    }

    /// Our daemon's `[qkd]` section for `sae` at `kme_url`, naming the files of
    /// [`Self::sae_files`].
    pub fn qkd_section(kme_url: &str, sae: &str) -> String {
        Qkd {
            kme_url: kme_url.into(),
            sae_id: sae.into(),
            ca: "qkd/ca.pem".into(),
            cert: format!("qkd/sae-{sae}.pem"),
            key: format!("qkd/sae-{sae}.key"),
            timeout: "3s".into(),
            extra: String::new(),
        }
        .render()
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        cmd::terminate(&mut child, self.pid, STOP_TIMEOUT);
        if std::thread::panicking() {
            crate::peer::report(&format!(
                "qkd-kme-sim in {} (log tail):\n{}",
                self.netns,
                tail(&self.log(), 20)
            ));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for KmeSim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Our daemon with `ppk_source = "qkd"` (its KME is the simulator's KME B, on loopback in its
/// own namespace) and strongSwan configured from a [`Spec`] (static PPKs only). Field order is
/// drop order: the simulator stops first, then the daemons, then the namespaces.
pub struct QkdPair {
    /// The KME pair, in our daemon's namespace.
    pub kme: KmeSim,
    /// Both daemons and the lab; `pair.spec.ppk.0` is unused (our PPK comes from the KME).
    pub pair: Pair,
}

impl QkdPair {
    /// Starts the lab, the simulator (SAEs `ours` and `peer`), strongSwan from `spec`, and our
    /// daemon with `spec`'s connection plus `ppk_source = "qkd"`, `qkd_peer_sae_id = peer`,
    /// `hybrid` and a `[qkd]` section for SAE `ours` at KME B. `None` after a `SKIPPED` banner.
    pub fn start(test: &str, spec: Spec, ours: &str, peer: &str, hybrid: &str) -> Option<Self> {
        let (strongswan, sim) = kme_lab_or_skip(test)?;
        let lab = Lab::for_daemon(&strongswan, &spec.tag).expect("lab");
        let kme = KmeSim::start(&sim, lab.left(), &[peer, ours], KmePools::default())
            .unwrap_or_else(|e| panic!("{test}: {e}"));
        let cfg = CharonConfig {
            raw_esp: spec.encap == crate::iked::Encap::Raw,
            crypto_test_on_add: false,
            log_levels: spec.peer_log.clone(),
            charon_options: spec.peer_charon.clone(),
            ..CharonConfig::default()
        };
        let charon = Charon::start(lab.right(), &strongswan, "strongswan", &cfg).expect("charon");
        charon
            .load_conf(&swanctl_conf(&lab, &spec))
            .expect("swanctl --load-all");
        let mut conn = iked_connection(&lab, &spec);
        conn.ppk = Some(ConnPpk::Qkd {
            peer_sae: peer.into(),
            hybrid: Some(hybrid.into()),
        });
        let toml = conn.render() + &KmeSim::qkd_section(&kme.url_b(), ours);
        let config = IkedConfig {
            encap: spec.encap,
            log: spec.ours_log.clone(),
            daemon: spec.ours_daemon.clone(),
            files: kme.sae_files(ours).expect("SAE certificates"),
        };
        let iked = Iked::start(lab.left(), lab.right(), "iked", &config, &toml)
            .unwrap_or_else(|e| panic!("{test}: starting iked: {e}"));
        Some(Self {
            kme,
            pair: Pair {
                iked,
                charon,
                lab,
                spec,
            },
        })
    }
}
