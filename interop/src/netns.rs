//! Network namespaces and veth links, the one way the project's labs and test scripts make
//! them (the scripts through `pqlab netns`).

use std::process::{Command, Output};
use std::time::Duration;

use crate::cmd::{self, Result};

const TIMEOUT: Duration = Duration::from_secs(10);

fn ip(args: &[&str]) -> Result<Output> {
    cmd::run_ok(Command::new("ip").args(args), TIMEOUT)
}

/// Creates namespace `name` with IPv6 off (before any interface exists, so none gets a
/// link-local address that MOBIKE would announce), no ICMP rate limit (probes count on an
/// answer to every packet) and `lo` up.
pub fn add(name: &str) -> Result<()> {
    ip(&["netns", "add", name])?;
    cmd::run_ok(
        Command::new("ip")
            .args(["netns", "exec", name, "sh", "-c"])
            .arg(
                "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && \
                 echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && \
                 echo 0 > /proc/sys/net/ipv4/icmp_ratelimit",
            ),
        TIMEOUT,
    )?;
    ip(&["-n", name, "link", "set", "lo", "up"]).map(drop)
}

/// One end of a veth link: its namespace, interface name and addresses (CIDR).
#[derive(Clone, Debug)]
pub struct End<'a> {
    /// The namespace.
    pub netns: &'a str,
    /// The interface name (at most 15 bytes).
    pub dev: &'a str,
    /// Addresses with prefix length, e.g. `10.250.0.1/24`.
    pub addrs: Vec<&'a str>,
}

/// A veth pair between two namespaces, addressed and up.
pub fn link(a: &End<'_>, b: &End<'_>) -> Result<()> {
    ip(&[
        "-n", a.netns, "link", "add", a.dev, "type", "veth", "peer", "name", b.dev, "netns",
        b.netns,
    ])?;
    for end in [a, b] {
        for addr in &end.addrs {
            address(end.netns, end.dev, addr)?;
        }
        ip(&["-n", end.netns, "link", "set", end.dev, "up"])?;
    }
    Ok(())
}

/// Adds `cidr` to `dev` in `netns`.
pub fn address(netns: &str, dev: &str, cidr: &str) -> Result<()> {
    ip(&["-n", netns, "addr", "add", cidr, "dev", dev]).map(drop)
}

/// Deletes namespace `name`; quiet when it does not exist.
pub fn delete(name: &str) {
    let _ = cmd::run(Command::new("ip").args(["netns", "del", name]), TIMEOUT);
}

/// The names of every namespace on this machine.
pub fn list() -> Vec<String> {
    cmd::run(Command::new("ip").args(["netns", "list"]), TIMEOUT)
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
