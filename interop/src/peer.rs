//! The strongSwan peer under test: a podman image built by `interop/setup.sh`, and the
//! root/skip checks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::{Error, Result};

/// Default cache directory of `setup.sh`.
pub const DEFAULT_CACHE: &str = "/var/cache/pqike";
/// The peers `setup.sh` builds: Debian trixie (strongSwan 6.0.1, `ml` plugin) and sid
/// (strongSwan 6.1, ML-KEM from OpenSSL).
pub const PEERS: [&str; 2] = ["trixie", "sid"];
/// The peer used when `PQIKE_SS_PEER` is not set.
pub const DEFAULT_PEER: &str = "trixie";

/// A built strongSwan peer: the image `setup.sh` imported and the `stamp` that describes it
/// (`<dir>/stamp`, next to the root filesystem the image was made from).
#[derive(Clone, Debug)]
pub struct StrongSwan {
    dir: PathBuf,
    stamp: BTreeMap<String, String>,
}

impl StrongSwan {
    /// The peer selected by the environment: `PQIKE_SS_DIR` (a directory holding `stamp`),
    /// else `$PQIKE_CACHE/strongswan-$PQIKE_SS_PEER` (defaults `/var/cache/pqike`, `trixie`).
    pub fn locate() -> Result<Self> {
        let dir = match std::env::var_os("PQIKE_SS_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                let cache = std::env::var("PQIKE_CACHE").unwrap_or_else(|_| DEFAULT_CACHE.into());
                Path::new(&cache).join(format!("strongswan-{}", selected_peer()?))
            }
        };
        Self::open(&dir)
    }

    /// Opens a build directory; fails if its stamp is missing (an incomplete build).
    pub fn open(dir: &Path) -> Result<Self> {
        let stamp_path = dir.join("stamp");
        let text = std::fs::read_to_string(&stamp_path).map_err(|e| {
            Error::io(
                format_args!("{} (run interop/setup.sh as root)", stamp_path.display()),
                e,
            )
        })?;
        let stamp: BTreeMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        if !stamp.contains_key("image") {
            return Err(Error::new(format!(
                "{}: no image (an older build; run interop/setup.sh as root)",
                stamp_path.display()
            )));
        }
        Ok(Self {
            dir: dir.to_owned(),
            stamp,
        })
    }

    /// The build directory (holds `strongswan/` and `stamp`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The podman image charon runs from, e.g. `localhost/pqike-strongswan:6.0.1-6_deb13u7`.
    pub fn image(&self) -> &str {
        self.stamp("image").unwrap_or_default()
    }

    /// A value from the stamp (`suite`, `package_version`, `strongswan_version`, `ke_provider`,
    /// `kems`, `openssl_version`, `image`, `mirror`, `source_from`, `built_at`).
    pub fn stamp(&self, key: &str) -> Option<&str> {
        self.stamp.get(key).map(String::as_str)
    }

    /// The Debian suite it comes from (`trixie`, `sid`).
    pub fn suite(&self) -> &str {
        self.stamp("suite").unwrap_or("?")
    }

    /// strongSwan's own version, e.g. `6.0.1`.
    pub fn version(&self) -> &str {
        self.stamp("strongswan_version").unwrap_or("?")
    }

    /// The Debian package version of strongSwan, e.g. `6.0.1-6+deb13u7`.
    pub fn package_version(&self) -> &str {
        self.stamp("package_version").unwrap_or("unknown")
    }

    /// The plugin that provides ML-KEM: `ml` (trixie, built from source) or `openssl` (sid).
    pub fn ke_provider(&self) -> &str {
        self.stamp("ke_provider").unwrap_or("ml")
    }

    /// Whether charon may run its crypto self-tests: OpenSSL's ML-KEM cannot take the
    /// deterministic test DRBG, and with the tests on charon disables it yet still offers it.
    pub fn crypto_tests_work(&self) -> bool {
        self.ke_provider() == "ml"
    }

    /// One line describing the build, for test output.
    pub fn describe(&self) -> String {
        format!(
            "strongSwan {} (Debian {} {}, OpenSSL {}), ML-KEM from the {} plugin, image {}",
            self.version(),
            self.suite(),
            self.package_version(),
            self.stamp("openssl_version").unwrap_or("?"),
            self.ke_provider(),
            self.image()
        )
    }

    /// Prints that `test` does not run against this peer, and why (a case that cannot work
    /// with this strongSwan). Returns `true` when the test should return.
    pub fn skip_unless(&self, test: &str, works: bool, reason: &str) -> bool {
        if !works {
            banner(
                test,
                &format!(
                    "not run against strongSwan {} ({})",
                    self.version(),
                    self.suite()
                ),
                reason,
            );
        }
        !works
    }
}

/// `PQIKE_SS_PEER` (`trixie` or `sid`), default `trixie`.
fn selected_peer() -> Result<String> {
    let peer = std::env::var("PQIKE_SS_PEER").unwrap_or_else(|_| DEFAULT_PEER.into());
    if PEERS.contains(&peer.as_str()) {
        Ok(peer)
    } else {
        Err(Error::new(format!(
            "PQIKE_SS_PEER={peer}: expected one of {PEERS:?}"
        )))
    }
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Writes to the real stderr, past the test harness's output capture, so the message is seen in
/// a plain `cargo test` run.
pub fn report(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}

pub(crate) fn banner(test: &str, reason: &str, hint: &str) {
    let bar = "!".repeat(78);
    report(&format!(
        "{bar}\n!!! SKIPPED: {reason} ({test})\n!!! {hint}\n{bar}"
    ));
}

/// The peer for a test, or `None` after printing a loud `SKIPPED` banner: when not root, or
/// when the peer has not been built. With `PQIKE_INTEROP_REQUIRED=1` (set by
/// `scripts/tests/60-interop.sh`) a missing lab is a test failure instead of a skip.
pub fn lab_or_skip(test: &str) -> Option<StrongSwan> {
    let required = std::env::var("PQIKE_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
    if !is_root() {
        assert!(
            !required,
            "{test}: PQIKE_INTEROP_REQUIRED=1 but not running as root"
        );
        banner(
            test,
            "needs root",
            "(network namespaces, podman); run `scripts/tests/60-interop.sh`",
        );
        return None;
    }
    match StrongSwan::locate() {
        Ok(r) => {
            report(&format!("{test}: against {}", r.describe()));
            Some(r)
        }
        Err(e) => {
            assert!(!required, "{test}: the strongSwan lab is not built: {e}");
            banner(test, "the strongSwan peer is not built", &format!("{e}"));
            None
        }
    }
}
