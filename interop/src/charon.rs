//! A strongSwan charon in a podman container inside one of the lab's namespaces.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::cmd::{self, Error, Result, wait_until};
use crate::lab::Node;
use crate::peer::{StrongSwan, report};
use crate::podman;
use crate::sas::{IkeSa, parse_list_sas};

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on one swanctl call (blocking initiate/terminate carry their own `--timeout` below it).
const SWANCTL_TIMEOUT: Duration = Duration::from_secs(30);
/// The `--timeout` (seconds) given to blocking swanctl commands.
const SWANCTL_BLOCK_SECS: u32 = 20;

/// How to run charon. The defaults and the reasons for them are in `interop/README.md`.
#[derive(Clone, Debug)]
pub struct CharonConfig {
    /// `charon.threads`; with the default 16, five or more concurrent blocking initiates stall.
    pub threads: u32,
    /// `charon.cookie_threshold` (strongSwan's default 10; COOKIE above it).
    pub cookie_threshold: Option<u32>,
    /// `charon.block_threshold` (strongSwan's default 5 half-open SAs per peer IP).
    pub block_threshold: Option<u32>,
    /// `charon.plugins.kernel-libipsec.raw_esp`: plain ESP (IP protocol 50) when no NAT is
    /// detected. Off (strongSwan's default), kernel-libipsec fakes a NAT so that IKE moves to
    /// port 4500 and ESP is UDP-encapsulated.
    pub raw_esp: bool,
    /// Run the crypto self-tests (test vectors) on every algorithm at start; the log then shows
    /// `ML_KEM_768[ml]: passed ... test vectors`. Costs about 0.2 s per start. Ignored for a
    /// peer whose ML-KEM is OpenSSL's ([`StrongSwan::crypto_tests_work`]).
    pub crypto_test_on_add: bool,
    /// filelog levels, e.g. `("default", 1)`, `("ike", 2)`, `("esp", 2)`.
    pub log_levels: Vec<(String, i32)>,
    /// Plugins loaded after the lab's own list (which ends with `vici`).
    pub extra_plugins: Vec<String>,
    /// Extra `key = value` lines (or sections) placed inside `charon { }`, e.g.
    /// `fragment_size = 300`.
    pub charon_options: String,
}

impl Default for CharonConfig {
    fn default() -> Self {
        Self {
            threads: 32,
            cookie_threshold: None,
            block_threshold: None,
            raw_esp: false,
            crypto_test_on_add: true,
            log_levels: vec![("default".into(), 1)],
            extra_plugins: Vec::new(),
            charon_options: String::new(),
        }
    }
}

impl CharonConfig {
    /// The plugin load list: `drbg` and `test-vectors` before `ml` (or ML-KEM's self-test fails
    /// and ML-KEM is silently disabled), `kernel-libipsec` before `kernel-netlink` (userspace ESP
    /// on a TUN device; kernel-netlink still manages addresses and routes).
    pub fn plugins(&self, strongswan: &StrongSwan) -> Vec<String> {
        let mut p: Vec<String> = ["random", "nonce", "drbg", "test-vectors"]
            .map(String::from)
            .into();
        if strongswan.ke_provider() == "ml" {
            p.push("ml".into());
        }
        p.extend(
            [
                "openssl",
                "aes",
                "sha1",
                "sha2",
                "hmac",
                "kdf",
                "curve25519",
                "pem",
                "pkcs1",
                "pkcs8",
                "pubkey",
                "x509",
                "revocation",
                "constraints",
                "kernel-libipsec",
                "kernel-netlink",
                "socket-default",
                "vici",
            ]
            .map(String::from),
        );
        p.extend(self.extra_plugins.iter().cloned());
        p
    }

    /// The `strongswan.conf` this configuration gives. Paths are inside the instance's private
    /// `/run`.
    pub fn strongswan_conf(&self, strongswan: &StrongSwan) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "charon {{");
        let _ = writeln!(s, "    load = {}", self.plugins(strongswan).join(" "));
        let _ = writeln!(s, "    threads = {}", self.threads);
        if let Some(n) = self.cookie_threshold {
            let _ = writeln!(s, "    cookie_threshold = {n}");
        }
        if let Some(n) = self.block_threshold {
            let _ = writeln!(s, "    block_threshold = {n}");
        }
        let _ = writeln!(s, "    filelog {{\n        lab {{");
        let _ = writeln!(s, "            path = /run/charon.log");
        let _ = writeln!(s, "            time_format = %Y-%m-%dT%H:%M:%S");
        let _ = writeln!(s, "            time_precision = us");
        let _ = writeln!(
            s,
            "            ike_name = yes\n            flush_line = yes\n            append = no"
        );
        for (group, level) in &self.log_levels {
            let _ = writeln!(s, "            {group} = {level}");
        }
        let _ = writeln!(s, "        }}\n    }}");
        let raw_esp = if self.raw_esp { "yes" } else { "no" };
        let _ = writeln!(
            s,
            "    plugins {{\n        kernel-libipsec {{\n            raw_esp = {raw_esp}\n        }}\n    }}"
        );
        let _ = writeln!(
            s,
            "    syslog {{\n        daemon {{\n            default = -1\n        }}\n    }}"
        );
        for line in self.charon_options.lines() {
            let _ = writeln!(s, "    {line}");
        }
        let _ = writeln!(s, "}}");
        let _ = writeln!(
            s,
            "swanctl {{\n    load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints\n}}"
        );
        // OpenSSL's ML-KEM cannot take the test DRBG: with the tests on, charon disables it
        // and still offers it (and then fails IKE_INTERMEDIATE), so they stay off there.
        let tests = self.crypto_test_on_add && strongswan.crypto_tests_work();
        let on_add = if tests { "yes" } else { "no" };
        let _ = writeln!(
            s,
            "libstrongswan {{\n    crypto_test {{\n        on_add = {on_add}\n    }}\n}}"
        );
        s
    }
}

/// A running charon, in a podman container of the peer's image joined to `node`'s network
/// namespace. Its `/run` is a per-instance directory of this machine (config, pid file, vici
/// socket, log); swanctl and other tools run inside the container's namespaces.
///
/// Dropping it stops the container (SIGTERM, then SIGKILL) and removes it. A container whose
/// test was killed before its `Drop` ran is removed by the next [`crate::Lab`] (its name
/// carries the test's PID).
#[derive(Debug)]
pub struct Charon {
    name: String,
    container: String,
    netns: String,
    run_dir: PathBuf,
    pid: u32,
    running: bool,
}

impl Charon {
    /// Starts charon in `node`'s namespace and waits (bounded) until its vici socket answers.
    pub fn start(
        node: &Node,
        strongswan: &StrongSwan,
        name: &str,
        config: &CharonConfig,
    ) -> Result<Self> {
        let container = format!("{}-{name}", node.netns());
        let run_dir = std::env::temp_dir().join(&container);
        let _ = fs::remove_dir_all(&run_dir);
        fs::create_dir_all(run_dir.join("swanctl"))
            .map_err(|e| Error::io(format_args!("creating {}", run_dir.display()), e))?;
        write(
            &run_dir.join("strongswan.conf"),
            &config.strongswan_conf(strongswan),
        )?;
        podman::remove(&container, Duration::from_secs(1));
        podman::run_detached(
            &container,
            node.netns(),
            strongswan.image(),
            &run_dir,
            &ENV,
            "/usr/lib/ipsec/charon",
        )?;
        let mut charon = Self {
            name: name.to_owned(),
            container,
            netns: node.netns().to_owned(),
            run_dir,
            pid: 0,
            running: true,
        };
        charon.wait_ready()?;
        Ok(charon)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let socket = self.run_dir.join("charon.vici");
        let pid_file = self.run_dir.join("charon.pid");
        let ready = wait_until(START_TIMEOUT, || {
            (socket.exists() && pid_file.exists()).then_some(())
        });
        if ready.is_some() {
            self.pid = podman::pid(&self.container)?;
            if self.pid != 0 {
                return Ok(());
            }
        }
        Err(Error::new(format!(
            "charon {} (container {}) in {}: not ready within {START_TIMEOUT:?}\n--- container output:\n{}\n--- log:\n{}",
            self.name,
            self.container,
            self.netns,
            fs::read_to_string(self.run_dir.join("container.log")).unwrap_or_default(),
            self.log()
        )))
    }

    /// The instance name given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// charon's process id (in this machine's PID namespace).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The directory of this machine that charon sees as `/run`.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Path of charon's log file (microsecond timestamps, UTC, `<conn|id>` prefixes).
    pub fn log_path(&self) -> PathBuf {
        self.run_dir.join("charon.log")
    }

    /// The whole log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Current log length, to wait for lines written after this point with [`Self::wait_log`].
    pub fn log_mark(&self) -> usize {
        fs::metadata(self.log_path())
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    /// Waits until the log after `mark` contains a line with `needle`; returns that line.
    pub fn wait_log(&self, mark: usize, needle: &str, timeout: Duration) -> Result<String> {
        wait_until(timeout, || {
            let log = self.log();
            log.get(mark..)?
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            Error::new(format!(
                "charon {}: no log line with {needle:?} within {timeout:?}; log tail:\n{}",
                self.name,
                tail(&self.log(), 40)
            ))
        })
    }

    /// A command run inside charon's container (sees its `/run`). It enters the container's
    /// namespaces with `nsenter`, which takes milliseconds where `podman exec` takes a good
    /// part of a second; the tests poll swanctl often.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.args(["-t", &self.pid.to_string(), "-m", "-n", "-r", "-w", "--"])
            .args(args);
        c.env_clear()
            .envs(ENV)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        c
    }

    /// Runs `swanctl args...` against this charon; a non-zero exit is an error.
    pub fn swanctl(&self, args: &[&str]) -> Result<Output> {
        let mut c = self.command(&["/usr/sbin/swanctl"]);
        c.args(args);
        cmd::run_ok(&mut c, SWANCTL_TIMEOUT)
    }

    /// Writes `swanctl.conf` (connections, secrets) and loads it with `swanctl --load-all`.
    pub fn load_conf(&self, swanctl_conf: &str) -> Result<()> {
        self.write_file("swanctl/swanctl.conf", swanctl_conf)?;
        self.swanctl(&["--load-all", "--noprompt"]).map(drop)
    }

    /// Writes a file below charon's `/run` (for certificates, keys and the like).
    pub fn write_file(&self, relative: &str, content: &str) -> Result<()> {
        let path = self.run_dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
        }
        write(&path, content)
    }

    /// Initiates a CHILD_SA (and its IKE_SA) and waits until it is established.
    pub fn initiate(&self, child: &str) -> Result<()> {
        let t = SWANCTL_BLOCK_SECS.to_string();
        self.swanctl(&["--initiate", "--child", child, "--timeout", &t])
            .map(drop)
    }

    /// Initiates an IKE_SA only (no CHILD_SA) and waits until it is established.
    pub fn initiate_ike(&self, ike: &str) -> Result<()> {
        let t = SWANCTL_BLOCK_SECS.to_string();
        self.swanctl(&["--initiate", "--ike", ike, "--timeout", &t])
            .map(drop)
    }

    /// Terminates the IKE_SAs of connection `ike` and waits until they are gone.
    pub fn terminate_ike(&self, ike: &str) -> Result<()> {
        let t = SWANCTL_BLOCK_SECS.to_string();
        self.swanctl(&["--terminate", "--ike", ike, "--timeout", &t])
            .map(drop)
    }

    /// Starts rekeying the CHILD_SA named `child` (asynchronous: wait on the log or on
    /// [`Self::list_sas`]).
    pub fn rekey_child(&self, child: &str) -> Result<()> {
        self.swanctl(&["--rekey", "--child", child]).map(drop)
    }

    /// Starts rekeying the IKE_SA of connection `ike` (asynchronous).
    pub fn rekey_ike(&self, ike: &str) -> Result<()> {
        self.swanctl(&["--rekey", "--ike", ike]).map(drop)
    }

    /// The IKE_SAs and CHILD_SAs, parsed from `swanctl --list-sas --pretty`.
    pub fn list_sas(&self) -> Result<Vec<IkeSa>> {
        let out = self.swanctl(&["--list-sas", "--pretty"])?;
        parse_list_sas(&String::from_utf8_lossy(&out.stdout))
    }

    /// `swanctl --list-sas` as a person reads it.
    pub fn list_sas_text(&self) -> Result<String> {
        let out = self.swanctl(&["--list-sas"])?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `swanctl --list-algs`.
    pub fn list_algs(&self) -> Result<String> {
        let out = self.swanctl(&["--list-algs"])?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops charon (SIGTERM, then SIGKILL after a bounded wait).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if !std::mem::take(&mut self.running) {
            return;
        }
        podman::remove(&self.container, STOP_TIMEOUT);
        if std::thread::panicking() || std::env::var_os("PQIO_KEEP").is_some() {
            report(&format!(
                "charon {} kept its files in {}",
                self.name,
                self.run_dir.display()
            ));
        } else {
            let _ = fs::remove_dir_all(&self.run_dir);
        }
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// charon's and swanctl's environment in the container.
const ENV: [(&str, &str); 5] = [
    ("STRONGSWAN_CONF", "/run/strongswan.conf"),
    ("SWANCTL_DIR", "/run/swanctl"),
    ("TZ", "UTC"),
    ("LC_ALL", "C"),
    ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
];

fn write(path: &Path, content: &str) -> Result<()> {
    fs::write(path, content).map_err(|e| Error::io(format_args!("writing {}", path.display()), e))
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
