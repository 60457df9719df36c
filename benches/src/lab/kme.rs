//! The ETSI GS QKD 014 KME simulator (`qkd-kme-sim`) for the lab: KME A and KME B on the left
//! namespace's loopback (the simulator serves loopback only), and a `socat` relay on the right
//! namespace's loopback so that the right gateway reaches KME B at the same address.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use interop::Node;

use super::{Result, sibling};

/// KME A's port (the left gateway, `gw-a`, the initiator).
pub(crate) const PORT_A: u16 = 8441;
/// KME B's port (the right gateway, `gw-b`).
pub(crate) const PORT_B: u16 = 8442;

/// Files written next to `iked.toml`: relative path and content.
pub(crate) type Files = Vec<(String, Vec<u8>)>;

/// The running simulator and relay; dropping it stops both (by PID) and removes the certificates.
pub(crate) struct Kme {
    dir: PathBuf,
    children: Vec<Child>,
}

impl Kme {
    /// Writes certificates for SAEs `gw-a` and `gw-b` and starts the KMEs and the relay.
    pub(crate) fn start(left: &Node, right: &Node) -> Result<Self> {
        let sim = sibling("qkd-kme-sim")?;
        let dir = std::env::temp_dir().join(format!("pqb-kme-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut kme = Self {
            dir,
            children: Vec::new(),
        };
        let d = kme.dir.display().to_string();
        interop::run_ok(
            Command::new(&sim).args(["certs", "--dir", &d, "--sae", "gw-a", "--sae", "gw-b"]),
            Duration::from_secs(30),
        )
        .map_err(|e| format!("qkd-kme-sim certs: {e}"))?;
        let ports = kme.dir.join("kme.ports");
        let mut serve = left.host_command(&sim);
        serve
            .args(["serve", "--certs", &d])
            .args(["--listen-a", &format!("127.0.0.1:{PORT_A}")])
            .args(["--listen-b", &format!("127.0.0.1:{PORT_B}")])
            .arg("--port-file")
            .arg(&ports);
        kme.spawn(serve)?;
        interop::wait_until(Duration::from_secs(10), || ports.exists().then_some(()))
            .ok_or("the KME simulator did not start")?;
        let mut relay = right.host_command("socat");
        relay
            .arg(format!("TCP-LISTEN:{PORT_B},bind=127.0.0.1,reuseaddr,fork"))
            .arg(format!(
                "EXEC:nsenter --net=/run/netns/{} -- socat STDIO TCP\\:127.0.0.1\\:{PORT_B}",
                left.netns()
            ));
        kme.spawn(relay)?;
        let listening = || {
            let out = right.host_command("ss").arg("-ltn").output().ok()?;
            String::from_utf8_lossy(&out.stdout)
                .contains(&format!("127.0.0.1:{PORT_B} "))
                .then_some(())
        };
        interop::wait_until(Duration::from_secs(10), listening)
            .ok_or("the KME relay did not start")?;
        Ok(kme)
    }

    fn spawn(&mut self, mut c: Command) -> Result<()> {
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawning {c:?}: {e}"))?;
        self.children.push(child);
        Ok(())
    }

    /// The `[qkd]` section and the files (relative path, content) for gateway `sae` (`gw-a` on
    /// the left, `gw-b` on the right).
    pub(crate) fn gateway(&self, sae: &str) -> Result<(String, Files)> {
        let port = if sae == "gw-a" { PORT_A } else { PORT_B };
        let mut files = Vec::new();
        for (src, dst) in [
            ("ca.pem".to_string(), "kme/ca.pem".to_string()),
            (format!("sae-{sae}.pem"), format!("kme/sae-{sae}.pem")),
            (format!("sae-{sae}.key"), format!("kme/sae-{sae}.key")),
        ] {
            let p = self.dir.join(&src);
            files.push((
                dst,
                std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?,
            ));
        }
        let section = format!(
            "[qkd]\nkme_url = \"https://127.0.0.1:{port}\"\nsae_id = \"{sae}\"\nca = \"kme/ca.pem\"\n\
cert = \"kme/sae-{sae}.pem\"\nkey = \"kme/sae-{sae}.key\"\ntimeout = \"3s\"\n\n"
        );
        Ok((section, files))
    }
}

impl Drop for Kme {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
