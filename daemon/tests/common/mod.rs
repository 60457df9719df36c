//! Daemons started in-process on 127.0.0.1 with free ports and sockets in a temporary
//! directory.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use iked::client::{Client, ClientError};
use iked::config::Config;
use iked::proto::{Command, UpView};
use iked::{Daemon as IkedDaemon, LoggingSink};
use interop::config::iked::{AuthSide, Child, Connection, Daemon};
use tempfile::TempDir;
use tokio::runtime::Runtime;

pub const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// A daemon on its own runtime; shut down on drop.
pub struct TestDaemon {
    pub rt: Runtime,
    pub daemon: Option<IkedDaemon>,
    pub dir: TempDir,
    pub socket: PathBuf,
    pub config_path: PathBuf,
}

impl TestDaemon {
    /// Starts a daemon whose configuration is `body` after a generated `[daemon]` section.
    pub fn start(body: &str, daemon_extra: &str) -> Self {
        Self::start_on(0, body, daemon_extra)
    }

    /// As [`TestDaemon::start`], with IKE on `port` of 127.0.0.1 (0: a free one).
    pub fn start_on(port: u16, body: &str, daemon_extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("iked.sock");
        let config_path = dir.path().join("iked.toml");
        let daemon_extra = format!("ike_port = {port}\n{daemon_extra}");
        write_config(&config_path, &socket, body, &daemon_extra);
        let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let daemon = rt
            .block_on(IkedDaemon::start(config, Box::new(LoggingSink::new())))
            .expect("daemon starts");
        Self {
            rt,
            daemon: Some(daemon),
            dir,
            socket,
            config_path,
        }
    }

    pub fn daemon(&self) -> &IkedDaemon {
        self.daemon.as_ref().expect("running")
    }

    pub fn ike_port(&self) -> u16 {
        self.daemon().ike_addrs()[0].port()
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).expect("connect")
    }

    /// `up NAME`, giving the IKE SA 15 s.
    pub fn up(&self, name: &str) -> Result<UpView, ClientError> {
        let up = Command::Up {
            name: name.into(),
            timeout_ms: Some(15_000),
        };
        self.client().call_as(up, Some(Duration::from_secs(20)))
    }

    /// Rewrites the configuration file (for `load`).
    pub fn rewrite(&self, body: &str, daemon_extra: &str) {
        let daemon_extra = format!("ike_port = 0\n{daemon_extra}");
        write_config(&self.config_path, &self.socket, body, &daemon_extra);
    }

    /// Stops the daemon as a crash would: no DELETE goes out, its SAs stay with the peer.
    pub fn crash(mut self) {
        if let Some(d) = self.daemon.take() {
            // Dropping the runtime without a shutdown cancels every task mid-flight.
            std::mem::forget(d);
        }
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(d) = self.daemon.take() {
            self.rt.block_on(d.shutdown());
        }
    }
}

/// Writes `iked.toml`: a `[daemon]` section on 127.0.0.1 with `daemon_extra` (which names the
/// IKE port), then `body`, mode 0600.
pub fn write_config(path: &Path, socket: &Path, body: &str, daemon_extra: &str) {
    let daemon = Daemon {
        socket: socket.display().to_string(),
        listen: vec!["127.0.0.1".into()],
        natt_port: Some(0),
        ..Daemon::default()
    };
    // The extra lines and an empty one keep the line numbers the tests' error messages name.
    let text = format!("{}{daemon_extra}\n{body}", daemon.render());
    std::fs::write(path, text).expect("write config");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
}

/// One side of a site-to-site pair: `me` and `peer` are "a" or "b". With `peer_port` the
/// connection can initiate to 127.0.0.1 on that port; without, it only responds.
pub fn site(
    name: &str,
    me: &str,
    peer: &str,
    peer_port: Option<u16>,
    start: &str,
    ike: &str,
) -> String {
    let (local_net, remote_net) = if me == "a" {
        ("10.1.0.0/16", "10.2.0.0/16")
    } else {
        ("10.2.0.0/16", "10.1.0.0/16")
    };
    let (me_id, peer_id) = (format!("{me}.example"), format!("{peer}.example"));
    Connection {
        name: name.into(),
        remote_addrs: vec![
            if peer_port.is_some() {
                "127.0.0.1"
            } else {
                "%any"
            }
            .into(),
        ],
        remote_port: peer_port,
        proposals: vec![ike.into()],
        start_action: Some(start.into()),
        local: AuthSide::psk(Some(&me_id)),
        remote: AuthSide::psk(Some(&peer_id)),
        children: vec![Child {
            name: "net".into(),
            local_ts: vec![local_net.into()],
            remote_ts: vec![remote_net.into()],
            esp_proposals: vec!["aes256gcm16".into()],
            extra: String::new(),
        }],
        psk: Some((
            "0sVGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgZGFlbW9uIHRlc3Rz".into(),
            vec![me_id, peer_id],
        )),
        ..Connection::default()
    }
    .render()
}

/// Polls `f` every 20 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
