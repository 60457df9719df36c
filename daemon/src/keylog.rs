//! The opt-in key log (`daemon.key_log`): IKE and ESP keys in the two files Wireshark reads
//! from a configuration profile, `ikev2_decryption_table` and `esp_sa`, so that captures of
//! IKE_AUTH and later exchanges and of ESP can be decrypted. Debugging only: anyone who can read
//! these files can decrypt the traffic. The files are created mode 0600 and only appended to;
//! nothing here goes to the log.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use ikev2::{ChildSa, IkeKeyExport};
use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm};

/// The two UAT files, appended to.
pub(crate) struct KeyLog {
    ike: File,
    esp: File,
}

impl KeyLog {
    /// Creates `dir` (mode 0700) if needed and opens both files for appending.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let open = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(dir.join(name))
        };
        Ok(Self {
            ike: open("ikev2_decryption_table")?,
            esp: open("esp_sa")?,
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
        IntegAlgorithm::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        IntegAlgorithm::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        IntegAlgorithm::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        _ => return None,
    };
    Some(("AES-CBC [RFC3602]", len, auth))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ike_algorithms("chacha20poly1305-prfsha256-x25519"), None);
    }
}
