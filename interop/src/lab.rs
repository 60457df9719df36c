//! Two network namespaces joined by a veth pair.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::cmd::{self, Error, Result};
use crate::rootfs::Rootfs;

/// Prefix of every namespace the lab creates: `pqio-<tag>-<pid>-<n>-{l,r}`.
pub const NETNS_PREFIX: &str = "pqio-";
/// Prefix of the namespaces of the interop tests with our daemon ([`Lab::for_daemon`]):
/// `pqx-<tag>-<pid>-<n>-{l,r}`, so they never collide with the strongSwan-only lab's.
pub const DAEMON_NETNS_PREFIX: &str = "pqx-";
const PREFIXES: [&str; 2] = [NETNS_PREFIX, DAEMON_NETNS_PREFIX];
/// Name of the veth end inside each namespace.
pub const VETH: &str = "pq0";

const TIMEOUT: Duration = Duration::from_secs(10);

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One side of the lab: a network namespace with an outer address on the veth link and an inner
/// address on `lo` that traffic selectors name and that is reachable only through the tunnel.
#[derive(Clone, Debug)]
pub struct Node {
    netns: String,
    outer: Ipv4Addr,
    inner: Ipv4Addr,
    root: PathBuf,
}

impl Node {
    /// The network namespace's name (for `ip netns exec`).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// Address on the veth link: IKE and ESP travel between the outer addresses.
    pub fn outer(&self) -> Ipv4Addr {
        self.outer
    }

    /// Address on `lo`, for traffic through the tunnel.
    pub fn inner(&self) -> Ipv4Addr {
        self.inner
    }

    /// The strongSwan root filesystem whose tools `command` runs.
    pub fn rootfs(&self) -> &Path {
        &self.root
    }

    /// A command from the strongSwan root filesystem (`ping`, `nc`, `ip`, `tcpdump`, ...) run in
    /// this namespace: `ip netns exec NS chroot ROOTFS args...`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns, "chroot"])
            .arg(&self.root)
            .args(args);
        c.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C");
        c
    }

    /// A program of this machine (for example our daemon) run in this namespace.
    pub fn host_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns]).arg(program);
        c
    }

    /// Runs a root-filesystem tool in this namespace; a non-zero exit is an error.
    pub fn run(&self, args: &[&str], timeout: Duration) -> Result<Output> {
        cmd::run_ok(&mut self.command(args), timeout)
    }
}

/// Addresses of a lab. The defaults are documentation ranges (RFC 5737), used only inside the
/// lab's own namespaces.
#[derive(Clone, Debug)]
pub struct Addressing {
    /// Outer (veth) addresses, left and right, on one /24.
    pub outer: (Ipv4Addr, Ipv4Addr),
    /// Inner (`lo`, /32) addresses, left and right.
    pub inner: (Ipv4Addr, Ipv4Addr),
}

impl Default for Addressing {
    fn default() -> Self {
        Self {
            outer: (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)),
            inner: (
                Ipv4Addr::new(198, 51, 100, 1),
                Ipv4Addr::new(198, 51, 100, 2),
            ),
        }
    }
}

/// Two network namespaces, `left` and `right`, joined by a veth pair, IPv6 disabled. Dropping
/// the lab deletes both namespaces (drop the [`crate::Charon`]s and other processes first).
#[derive(Debug)]
pub struct Lab {
    rootfs: Rootfs,
    left: Node,
    right: Node,
    created: Vec<String>,
}

impl Lab {
    /// Creates a lab; `tag` (a short `[a-z0-9]` word) makes the namespace names recognisable.
    pub fn new(rootfs: &Rootfs, tag: &str) -> Result<Self> {
        Self::with_addressing(rootfs, tag, &Addressing::default())
    }

    /// Like [`Self::new`], with namespaces named `pqx-...` (the interop tests with our daemon).
    pub fn for_daemon(rootfs: &Rootfs, tag: &str) -> Result<Self> {
        Self::build(rootfs, DAEMON_NETNS_PREFIX, tag, &Addressing::default())
    }

    /// Creates a lab with the given addresses.
    pub fn with_addressing(rootfs: &Rootfs, tag: &str, addr: &Addressing) -> Result<Self> {
        Self::build(rootfs, NETNS_PREFIX, tag, addr)
    }

    fn build(rootfs: &Rootfs, prefix: &str, tag: &str, addr: &Addressing) -> Result<Self> {
        if tag.is_empty()
            || !tag
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(Error::new(format!("lab tag {tag:?}: use [a-z0-9]+")));
        }
        remove_stale_namespaces();
        let base = format!(
            "{prefix}{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let node = |side: &str, outer, inner| Node {
            netns: format!("{base}-{side}"),
            outer,
            inner,
            root: rootfs.root().to_owned(),
        };
        let mut lab = Self {
            rootfs: rootfs.clone(),
            left: node("l", addr.outer.0, addr.inner.0),
            right: node("r", addr.outer.1, addr.inner.1),
            created: Vec::new(),
        };
        for n in [lab.left.netns.clone(), lab.right.netns.clone()] {
            ip(&["netns", "add", &n])?;
            lab.created.push(n.clone());
            // Before any interface exists, so none gets an IPv6 (link-local) address: MOBIKE
            // would announce those. No ICMP rate limit: FirstPacketProbe counts on the far end
            // answering every run with a port unreachable.
            cmd::run_ok(
                Command::new("ip")
                    .args(["netns", "exec", &n, "sh", "-c"])
                    .arg(
                        "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && \
                     echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && \
                     echo 0 > /proc/sys/net/ipv4/icmp_ratelimit",
                    ),
                TIMEOUT,
            )?;
            ip(&["-n", &n, "link", "set", "lo", "up"])?;
        }
        let (l, r) = (lab.left.netns.clone(), lab.right.netns.clone());
        ip(&[
            "-n", &l, "link", "add", VETH, "type", "veth", "peer", "name", VETH, "netns", &r,
        ])?;
        for node in [&lab.left, &lab.right] {
            let ns = node.netns.as_str();
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/24", node.outer),
                "dev",
                VETH,
            ])?;
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/32", node.inner),
                "dev",
                "lo",
            ])?;
            ip(&["-n", ns, "link", "set", VETH, "up"])?;
        }
        Ok(lab)
    }

    /// The left namespace (by convention the initiator).
    pub fn left(&self) -> &Node {
        &self.left
    }

    /// The right namespace (by convention the responder).
    pub fn right(&self) -> &Node {
        &self.right
    }

    /// The root filesystem the lab's tools and charon come from.
    pub fn rootfs(&self) -> &Rootfs {
        &self.rootfs
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in self.created.drain(..) {
            let _ = ip(&["netns", "del", &n]);
        }
    }
}

fn ip(args: &[&str]) -> Result<Output> {
    cmd::run_ok(Command::new("ip").args(args), TIMEOUT)
}

/// The pid in a lab name `pqio-<tag>-<pid>-<seq>-...` (namespaces and charon run directories).
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))?
        .split('-')
        .nth(1)?
        .parse()
        .ok()
}

/// Deletes lab namespaces and charon run directories whose creating process is gone (a test
/// that was killed before its `Drop` ran; its charons died with it, see [`crate::Charon`]).
fn remove_stale_namespaces() {
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    if let Ok(out) = cmd::run(Command::new("ip").args(["netns", "list"]), TIMEOUT) {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(name) = line.split_whitespace().next() else {
                continue;
            };
            if owner_pid(name).is_some_and(|pid| !alive(pid)) {
                let _ = ip(&["netns", "del", name]);
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if owner_pid(&name).is_some_and(|pid| !alive(pid))
                && (entry.path().join("strongswan.conf").exists()
                    || entry.path().join("iked.toml").exists())
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
