//! The opt-in key log (`daemon.key_log`): IKE and ESP keys in the two files Wireshark reads
//! from a configuration profile, `ikev2_decryption_table` and `esp_sa`, so that captures of
//! IKE_AUTH and later exchanges and of ESP can be decrypted. Debugging only: anyone who can read
//! these files can decrypt the traffic. The files are created mode 0600 and only appended to;
//! nothing here goes to the log.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use ikev2::{ChildSa, IkeKeyExport};
use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm};

/// The two UAT files, appended to.
pub(crate) struct KeyLog {
    ike: File,
    esp: File,
}

impl KeyLog {
    /// Creates `dir` (mode 0700) if needed and opens both files for appending (created mode
    /// 0600). Refuses a directory or file that is a symbolic link, or that the group or
    /// others may access: whoever reads these files decrypts the traffic, and whoever can
    /// swap them for links makes the daemon write keys elsewhere.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        check_private_dir(dir)?;
        Ok(Self {
            ike: open_private(&dir.join("ikev2_decryption_table"))?,
            esp: open_private(&dir.join("esp_sa"))?,
        })
    }

    /// One `ikev2_decryption_table` line: SPIs, SK_ei, SK_er, cipher, SK_ai, SK_ar, integrity
    /// (byte fields as bare hex, names quoted, as Wireshark writes the table).
    pub(crate) fn ike(&mut self, keys: &IkeKeyExport) -> io::Result<()> {
        let Some((encr, integ)) = ike_algorithms(&keys.proposal) else {
            return writeln!(
                self.ike,
                "# {}: Wireshark cannot decrypt {}",
                spi_pair(keys),
                keys.proposal
            );
        };
        let line = format!(
            "{:016x},{:016x},{},{},\"{encr}\",{},{},\"{integ}\"",
            keys.spi_i.0,
            keys.spi_r.0,
            hex::encode(keys.sk_ei.expose()),
            hex::encode(keys.sk_er.expose()),
            hex::encode(keys.sk_ai.expose()),
            hex::encode(keys.sk_ar.expose()),
        );
        writeln!(self.ike, "{line}")?;
        self.ike.flush()
    }

    /// Two `esp_sa` lines, one per direction, before the keys move into the datapath.
    pub(crate) fn esp(&mut self, local: IpAddr, child: &ChildSa) -> io::Result<()> {
        let remote = child.remote.ip();
        let family = if remote.is_ipv4() { "IPv4" } else { "IPv6" };
        let transform = match (child.suite.aead(), child.suite.cbc()) {
            (Some(a), _) => esp_aead(a).map(|name| (name, 0, "NULL")),
            (None, Some((c, i))) => esp_cbc(c, i),
            (None, None) => None,
        };
        let Some((encr, encr_len, auth)) = transform else {
            writeln!(
                self.esp,
                "# SPIs {:08x}/{:08x}: Wireshark cannot decrypt {}",
                child.inbound_spi, child.outbound_spi, child.suite
            )?;
            return self.esp.flush();
        };
        for (src, dst, spi, keys) in [
            (remote, local, child.inbound_spi, &child.inbound_keys),
            (local, remote, child.outbound_spi, &child.outbound_keys),
        ] {
            let k = keys.expose();
            let (ek, ak) = if encr_len == 0 {
                (k, &[][..])
            } else {
                k.split_at(encr_len.min(k.len()))
            };
            let ak = if ak.is_empty() {
                String::new()
            } else {
                format!("0x{}", hex::encode(ak))
            };
            writeln!(
                self.esp,
                "\"{family}\",\"{src}\",\"{dst}\",\"0x{spi:08x}\",\"{encr}\",\"0x{}\",\"{auth}\",\"{ak}\"",
                hex::encode(ek)
            )?;
        }
        self.esp.flush()
    }
}

/// Opens `path` for appending without following a symbolic link, then checks what was
/// opened (not the name, which could change in between).
fn open_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "is a symbolic link"),
            _ => io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    private_mode(path, meta.mode(), false)?;
    Ok(file)
}

/// `path` must be a directory (not a link to one) that only its owner may access.
fn check_private_dir(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(refused(path, "is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refused(path, "is not a directory"));
    }
    private_mode(path, meta.mode(), true)
}

fn private_mode(path: &Path, mode: u32, dir: bool) -> io::Result<()> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let want = if dir { "0700" } else { "0600" };
    Err(refused(
        path,
        &format!(
            "has mode {:04o}: the group or others may access it (chmod {want})",
            mode & 0o7777
        ),
    ))
}

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("key log {} {why}", path.display()),
    )
}

fn spi_pair(keys: &IkeKeyExport) -> String {
    format!("{:016x}/{:016x}", keys.spi_i.0, keys.spi_r.0)
}

/// Wireshark's names for the IKE cipher and integrity algorithm of a proposal such as
/// `aes256gcm16-prfsha384-x25519-ke1_mlkem768` or `aes256-sha256-prfsha256-x25519`.
fn ike_algorithms(proposal: &str) -> Option<(&'static str, &'static str)> {
    let mut tokens = proposal.split('-');
    let encr = match tokens.next()? {
        "aes128gcm16" => "AES-GCM-128 with 16 octet ICV [RFC5282]",
        "aes256gcm16" => "AES-GCM-256 with 16 octet ICV [RFC5282]",
        "aes128" => "AES-CBC-128 [RFC3602]",
        "aes256" => "AES-CBC-256 [RFC3602]",
        _ => return None,
    };
    if encr.contains("GCM") {
        return Some((encr, "NONE [RFC4306]"));
    }
    let integ = match tokens.next()? {
        "sha1" => "HMAC_SHA1_96 [RFC2404]",
        "sha256" => "HMAC_SHA2_256_128 [RFC4868]",
        "sha384" => "HMAC_SHA2_384_192 [RFC4868]",
        "sha512" => "HMAC_SHA2_512_256 [RFC4868]",
        _ => return None,
    };
    Some((encr, integ))
}

/// Wireshark's name for an ESP AEAD (its key field takes key || salt).
fn esp_aead(a: AeadAlgorithm) -> Option<&'static str> {
    match a {
        AeadAlgorithm::Aes128Gcm16 | AeadAlgorithm::Aes256Gcm16 => {
            Some("AES-GCM with 16 octet ICV [RFC4106]")
        }
        // Wireshark 4.0 has no ESP ChaCha20-Poly1305.
        _ => None,
    }
}

/// Wireshark's names for ESP AES-CBC with HMAC, and the cipher key length.
fn esp_cbc(c: CbcAlgorithm, i: IntegAlgorithm) -> Option<(&'static str, usize, &'static str)> {
    let len = match c {
        CbcAlgorithm::Aes128Cbc => 16,
        CbcAlgorithm::Aes256Cbc => 32,
        _ => return None,
    };
    let auth = match i {
        IntegAlgorithm::HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
        IntegAlgorithm::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        IntegAlgorithm::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        IntegAlgorithm::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        _ => return None,
    };
    Some(("AES-CBC [RFC3602]", len, auth))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn error(dir: &Path) -> String {
        match KeyLog::open(dir) {
            Ok(_) => panic!("{} was accepted", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_new_key_log_is_private() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("a/wireshark");
        KeyLog::open(&dir).expect("opens");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("esp_sa")), 0o600);
        assert_eq!(mode(&dir.join("ikev2_decryption_table")), 0o600);
        KeyLog::open(&dir).expect("opens again");
    }

    #[test]
    fn a_directory_others_may_enter_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("keys");
        std::fs::create_dir(&dir).expect("mkdir");
        chmod(&dir, 0o750);
        assert_eq!(
            error(&dir),
            format!(
                "key log {} has mode 0750: the group or others may access it (chmod 0700)",
                dir.display()
            )
        );
        assert!(!dir.join("esp_sa").exists(), "nothing written");
    }

    #[test]
    fn a_file_others_may_read_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("keys");
        KeyLog::open(&dir).expect("opens");
        chmod(&dir.join("esp_sa"), 0o644);
        assert_eq!(
            error(&dir),
            format!(
                "key log {}/esp_sa has mode 0644: the group or others may access it (chmod 0600)",
                dir.display()
            )
        );
    }

    #[test]
    fn symbolic_links_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let real = tmp.path().join("real");
        KeyLog::open(&real).expect("opens");
        let link = tmp.path().join("link");
        symlink(&real, &link).expect("symlink");
        assert_eq!(
            error(&link),
            format!("key log {} is a symbolic link", link.display())
        );
        // A key file that points elsewhere: the target is neither written nor created.
        let dir = tmp.path().join("keys");
        std::fs::create_dir(&dir).expect("mkdir");
        chmod(&dir, 0o700);
        let target = tmp.path().join("elsewhere");
        symlink(&target, dir.join("ikev2_decryption_table")).expect("symlink");
        assert_eq!(
            error(&dir),
            format!(
                "key log {}/ikev2_decryption_table is a symbolic link",
                dir.display()
            )
        );
        assert!(!target.exists());
    }

    #[test]
    fn proposals_map_to_wireshark_names() {
        assert_eq!(
            ike_algorithms("aes256gcm16-prfsha384-x25519-ke1_mlkem768"),
            Some(("AES-GCM-256 with 16 octet ICV [RFC5282]", "NONE [RFC4306]"))
        );
        assert_eq!(
            ike_algorithms("aes128-sha256-prfsha256-ecp256"),
            Some(("AES-CBC-128 [RFC3602]", "HMAC_SHA2_256_128 [RFC4868]"))
        );
        assert_eq!(
            ike_algorithms("aes256-sha1-prfsha1-modp2048"),
            Some(("AES-CBC-256 [RFC3602]", "HMAC_SHA1_96 [RFC2404]"))
        );
        assert_eq!(
            esp_cbc(CbcAlgorithm::Aes256Cbc, IntegAlgorithm::HmacSha1_96),
            Some(("AES-CBC [RFC3602]", 32, "HMAC-SHA-1-96 [RFC2404]"))
        );
        assert_eq!(ike_algorithms("chacha20poly1305-prfsha256-x25519"), None);
    }
}
