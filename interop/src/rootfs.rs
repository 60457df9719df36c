//! The strongSwan root filesystem built by `interop/setup.sh`, and the root/skip checks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::{Error, Result};

/// Default cache directory of `setup.sh`.
pub const DEFAULT_CACHE: &str = "/var/cache/pqike";
/// Default Debian suite of `setup.sh`.
pub const DEFAULT_SUITE: &str = "trixie";

/// A built strongSwan root filesystem: `<dir>/rootfs` plus the `<dir>/stamp` setup.sh wrote.
#[derive(Clone, Debug)]
pub struct Rootfs {
    dir: PathBuf,
    root: PathBuf,
    stamp: BTreeMap<String, String>,
}

impl Rootfs {
    /// The build selected by the environment: `PQIKE_SS_DIR` (a directory holding `rootfs/` and
    /// `stamp`), else `$PQIKE_CACHE/strongswan-$PQIKE_SS_SUITE` (defaults
    /// `/var/cache/pqike/strongswan-trixie`).
    pub fn locate() -> Result<Self> {
        let dir = match std::env::var_os("PQIKE_SS_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                let cache = std::env::var("PQIKE_CACHE").unwrap_or_else(|_| DEFAULT_CACHE.into());
                let suite =
                    std::env::var("PQIKE_SS_SUITE").unwrap_or_else(|_| DEFAULT_SUITE.into());
                Path::new(&cache).join(format!("strongswan-{suite}"))
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
        let stamp = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let root = dir.join("rootfs");
        if !root.join("usr/lib/ipsec/charon").exists() {
            return Err(Error::new(format!(
                "{}: no charon in the root filesystem",
                root.display()
            )));
        }
        Ok(Self {
            dir: dir.to_owned(),
            root,
            stamp,
        })
    }

    /// The build directory (holds `rootfs/` and `stamp`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root filesystem that charon and the lab's tools run from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A value from the stamp (`suite`, `package_version`, `strongswan_version`, `ke_provider`,
    /// `kems`, `openssl_version`, `mirror`, `built_at`, `build_seconds`).
    pub fn stamp(&self, key: &str) -> Option<&str> {
        self.stamp.get(key).map(String::as_str)
    }

    /// The Debian package version of strongSwan, e.g. `6.0.1-6+deb13u7`.
    pub fn package_version(&self) -> &str {
        self.stamp("package_version").unwrap_or("unknown")
    }

    /// The plugin that provides ML-KEM: `ml` (trixie, built from source) or `openssl` (sid).
    pub fn ke_provider(&self) -> &str {
        self.stamp("ke_provider").unwrap_or("ml")
    }

    /// One line describing the build, for test output.
    pub fn describe(&self) -> String {
        format!(
            "strongSwan {} (Debian {} {}), ML-KEM from the {} plugin",
            self.stamp("strongswan_version").unwrap_or("?"),
            self.stamp("suite").unwrap_or("?"),
            self.package_version(),
            self.ke_provider()
        )
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

/// The lab for a test, or `None` after printing a loud `SKIPPED` banner: when not root, or when
/// the root filesystem has not been built. With `PQIKE_INTEROP_REQUIRED=1` (set by
/// `scripts/tests/60-interop.sh`) a missing lab is a test failure instead of a skip.
pub fn lab_or_skip(test: &str) -> Option<Rootfs> {
    let required = std::env::var("PQIKE_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
    if !is_root() {
        assert!(
            !required,
            "{test}: PQIKE_INTEROP_REQUIRED=1 but not running as root"
        );
        banner(
            test,
            "needs root",
            "(network namespaces, chroot); run `sudo scripts/tests/60-interop.sh`",
        );
        return None;
    }
    match Rootfs::locate() {
        Ok(r) => Some(r),
        Err(e) => {
            assert!(!required, "{test}: the strongSwan lab is not built: {e}");
            banner(
                test,
                "the strongSwan root filesystem is not built",
                &format!("{e}"),
            );
            None
        }
    }
}
