//! Two network namespaces joined by a veth pair.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::cmd::{self, Error, Result};
use crate::netns::{self, End};
use crate::peer::StrongSwan;
use crate::podman;

/// Prefix of every namespace the lab creates: `pqio-<tag>-<pid>-<n>-{l,r}`.
pub const NETNS_PREFIX: &str = "pqio-";
/// Prefix of the namespaces of the interop tests with our daemon ([`Lab::for_daemon`]):
/// `pqx-<tag>-<pid>-<n>-{l,r}`, so they never collide with the strongSwan-only lab's.
pub const DAEMON_NETNS_PREFIX: &str = "pqx-";
const PREFIXES: [&str; 2] = [NETNS_PREFIX, DAEMON_NETNS_PREFIX];
/// Name of the veth end inside each namespace.
pub const VETH: &str = "pq0";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One side of the lab: a network namespace with an outer address on the veth link and an inner
/// address on `lo` that traffic selectors name and that is reachable only through the tunnel.
#[derive(Clone, Debug)]
pub struct Node {
    netns: String,
    outer: Ipv4Addr,
    inner: Ipv4Addr,
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

    /// A program of this machine (`ping`, `ip`, `ss`, `tc`, our daemon, ...) run in this
    /// namespace with a clean environment: `ip netns exec NS args...`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = self.host_command(args[0]);
        c.args(&args[1..]);
        c.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C");
        c
    }

    /// A program of this machine run in this namespace, with this process's environment.
    pub fn host_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns]).arg(program);
        c
    }

    /// Runs a program in this namespace ([`Self::command`]); a non-zero exit is an error.
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
    strongswan: StrongSwan,
    left: Node,
    right: Node,
    created: Vec<String>,
}

impl Lab {
    /// Creates a lab; `tag` (a short `[a-z0-9]` word) makes the namespace names recognisable.
    pub fn new(strongswan: &StrongSwan, tag: &str) -> Result<Self> {
        Self::with_addressing(strongswan, tag, &Addressing::default())
    }

    /// Like [`Self::new`], with namespaces named `pqx-...` (the interop tests with our daemon).
    pub fn for_daemon(strongswan: &StrongSwan, tag: &str) -> Result<Self> {
        Self::build(strongswan, DAEMON_NETNS_PREFIX, tag, &Addressing::default())
    }

    /// Creates a lab with the given addresses.
    pub fn with_addressing(strongswan: &StrongSwan, tag: &str, addr: &Addressing) -> Result<Self> {
        Self::build(strongswan, NETNS_PREFIX, tag, addr)
    }

    fn build(strongswan: &StrongSwan, prefix: &str, tag: &str, addr: &Addressing) -> Result<Self> {
        if tag.is_empty()
            || !tag
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(Error::new(format!("lab tag {tag:?}: use [a-z0-9]+")));
        }
        remove_stale();
        let base = format!(
            "{prefix}{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let node = |side: &str, outer, inner| Node {
            netns: format!("{base}-{side}"),
            outer,
            inner,
        };
        let mut lab = Self {
            strongswan: strongswan.clone(),
            left: node("l", addr.outer.0, addr.inner.0),
            right: node("r", addr.outer.1, addr.inner.1),
            created: Vec::new(),
        };
        for n in [lab.left.netns.clone(), lab.right.netns.clone()] {
            netns::add(&n)?;
            lab.created.push(n);
        }
        let outer = |n: &Node| format!("{}/24", n.outer);
        let (l, r) = (outer(&lab.left), outer(&lab.right));
        netns::link(
            &End {
                netns: &lab.left.netns,
                dev: VETH,
                addrs: vec![&l],
            },
            &End {
                netns: &lab.right.netns,
                dev: VETH,
                addrs: vec![&r],
            },
        )?;
        for node in [&lab.left, &lab.right] {
            netns::address(&node.netns, "lo", &format!("{}/32", node.inner))?;
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

    /// The strongSwan peer the lab runs.
    pub fn strongswan(&self) -> &StrongSwan {
        &self.strongswan
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in self.created.drain(..) {
            netns::delete(&n);
        }
    }
}

/// The pid in a lab name `pqio-<tag>-<pid>-<seq>-...` (namespaces, containers, run directories).
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))?
        .split('-')
        .nth(1)?
        .parse()
        .ok()
}

/// Removes lab containers, namespaces and run directories whose creating process is gone (a
/// test that was killed before its `Drop` ran).
fn remove_stale() {
    let dead = |name: &str| {
        owner_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    };
    for c in podman::containers(&PREFIXES) {
        if dead(&c) {
            podman::remove(&c, Duration::from_secs(1));
        }
    }
    for n in netns::list() {
        if dead(&n) {
            netns::delete(&n);
        }
    }
    if let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if dead(&name)
                && (entry.path().join("strongswan.conf").exists()
                    || entry.path().join("iked.toml").exists())
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
