//! podman as the lab runs it: rootful, images imported by `interop/setup.sh` (no registry), one
//! container per charon joined to a lab namespace. The options match `scripts/lib/podman.sh`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, Result};

/// Global options: the runc runtime (crun fails on hybrid cgroup layouts), cgroupfs (no
/// systemd needed as PID 1), events in a file.
const GLOBAL: [&str; 6] = [
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
];

/// Per container: explicit rlimits (without them runc fails to set them), what charon with
/// kernel-libipsec needs (routes and addresses, raw sockets, a TUN device), and the kernel's
/// `ping_group_range`: podman's default (`0 0`) would otherwise be written into the lab's
/// namespace, which the container shares, and turn root's `ping` into datagram ICMP sockets
/// that keep fewer echo requests in flight (the rekey collision test fills a queue with them).
const RUN: [&str; 10] = [
    "--ulimit",
    "nofile=16384:16384",
    "--ulimit",
    "nproc=16384:16384",
    "--cap-add",
    "NET_ADMIN,NET_RAW",
    "--device",
    "/dev/net/tun",
    "--sysctl",
    "net.ipv4.ping_group_range=1 0",
];

const TIMEOUT: Duration = Duration::from_secs(30);

/// `podman` with the lab's global options.
pub(crate) fn podman() -> Command {
    let mut c = Command::new("podman");
    c.args(GLOBAL);
    c
}

/// `podman run -d --rm` of `image` named `name`, in network namespace `netns`, with `run_dir`
/// as its `/run`, `env` in its environment, running `program`. Returns once podman has started
/// it.
pub(crate) fn run_detached(
    name: &str,
    netns: &str,
    image: &str,
    run_dir: &Path,
    env: &[(&str, &str)],
    program: &str,
) -> Result<()> {
    let mut c = podman();
    c.args(["run", "-d", "--rm", "--pull", "never", "--name", name])
        .arg(format!("--network=ns:/run/netns/{netns}"))
        .args(RUN)
        .arg("--log-driver=k8s-file")
        .arg(format!(
            "--log-opt=path={}",
            run_dir.join("container.log").display()
        ))
        .arg("-v")
        .arg(format!("{}:/run", run_dir.display()));
    for (k, v) in env {
        c.arg("-e").arg(format!("{k}={v}"));
    }
    c.arg(image).arg(program);
    cmd::run_ok(&mut c, TIMEOUT).map(drop)
}

/// The host PID of the container's main process, 0 when it is not running.
pub(crate) fn pid(name: &str) -> Result<u32> {
    let out = cmd::run_ok(
        podman().args(["inspect", "-f", "{{.State.Pid}}", name]),
        TIMEOUT,
    )?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0))
}

/// Stops (SIGTERM, SIGKILL after `grace`) and removes a container; quiet when it is gone.
pub(crate) fn remove(name: &str, grace: Duration) {
    let t = grace.as_secs().max(1).to_string();
    let _ = cmd::run(
        podman().args(["rm", "-f", "-i", "-t", &t, name]),
        TIMEOUT + grace,
    );
}

/// Names of the containers (running or not) whose name starts with one of `prefixes`.
pub(crate) fn containers(prefixes: &[&str]) -> Vec<String> {
    let Ok(out) = cmd::run(
        podman().args(["ps", "-a", "--format", "{{.Names}}"]),
        TIMEOUT,
    ) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|n| prefixes.iter().any(|p| n.starts_with(p)))
        .map(str::to_owned)
        .collect()
}
