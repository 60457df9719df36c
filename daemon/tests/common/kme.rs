//! What the QKD tests share: certificates for the SAEs `gw-a` and `gw-b`, the simulated KME pair
//! on a runtime of its own, and connections keyed with X25519 + ML-KEM-768 and a QKD PPK.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use qkd_kme_sim::{KmeSimHandle, PoolConfig, SimConfig, SimPki};
use tempfile::TempDir;
use tokio::runtime::Runtime;

use crate::common::{HYBRID, site};

/// The simulator's certificates, written to a temporary directory.
pub struct Pki {
    pub dir: TempDir,
    pub sim: SimPki,
}

impl Pki {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let sim = SimPki::generate(&["gw-a", "gw-b"], "KME_A", "KME_B").expect("pki");
        sim.write_to_dir(dir.path()).expect("write pki");
        Self { dir, sim }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The KME pair, serving until dropped or stopped. Field order is drop order: the KMEs before
/// their runtime.
pub struct Kmes {
    pub sim: KmeSimHandle,
    pub rt: Runtime,
}

impl Kmes {
    /// KME A and B with `pki`'s certificates and the default pools, or `pool`.
    pub fn start(pki: &Pki, pool: Option<PoolConfig>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = SimConfig::new(pki.sim.kme_tls());
        if let Some(pool) = pool {
            config.core.pool = pool;
        }
        let sim = rt.block_on(qkd_kme_sim::spawn(config)).expect("KMEs");
        Self { sim, rt }
    }

    /// Stops both KMEs; their listeners and kept-alive connections are closed on return.
    pub fn stop(self) {
        self.rt.block_on(self.sim.stop());
    }
}

/// Connection `name` from SAE `gw-ME` to `gw-PEER`, keyed with a QKD PPK.
pub struct QkdSite<'a> {
    pub name: &'a str,
    pub me: &'a str,
    pub peer: &'a str,
    pub peer_port: Option<u16>,
    /// `qkd_fallback`: ML-KEM alone when the KME fails.
    pub fallback: bool,
    /// `ppk_mode = "rfc9867"`: the PPK also in IKE_INTERMEDIATE and every CREATE_CHILD_SA.
    pub rfc9867: bool,
}

impl QkdSite<'_> {
    /// The connection, and the `[qkd]` section for SAE `gw-ME` at `kme_url` with the
    /// certificates in `pki`.
    pub fn render(&self, pki: &Path, kme_url: &str) -> String {
        let Self { me, peer, .. } = *self;
        let body = site(self.name, me, peer, self.peer_port, "none", HYBRID);
        let mode = if self.rfc9867 {
            "ppk_mode = \"rfc9867\"\n"
        } else {
            ""
        };
        let policy = format!(
            "hybrid = \"pqc+qkd\"\nppk_source = \"qkd\"\n{mode}qkd_peer_sae_id = \"gw-{peer}\"\nqkd_fallback = {}\n",
            self.fallback
        );
        let body = body.replacen(
            "start_action = \"none\"\n",
            &format!("start_action = \"none\"\n{policy}"),
            1,
        );
        let dir = pki.display();
        format!(
            "{body}\n[qkd]\nkme_url = \"{kme_url}\"\nsae_id = \"gw-{me}\"\nca = \"{dir}/ca.pem\"\ncert = \"{dir}/sae-gw-{me}.pem\"\nkey = \"{dir}/sae-gw-{me}.key\"\ntimeout = \"2s\"\n"
        )
    }
}
