//! Path and role naming of an API edition, behind a trait.
//!
//! ETSI GS QKD 014 edition 2 is reported to move to `/kdapi/v2/`, drop GET and rename
//! master/slave to initiator/target. Client and simulator reach paths and role names only
//! through [`KeyDeliveryApi`], so that an edition is one more implementation.

use std::fmt;

/// The three key delivery methods (§5, Table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Get status; the path names the slave SAE.
    Status,
    /// Get key; called by the master SAE, the path names the slave SAE.
    EncKeys,
    /// Get key with key IDs; called by the slave SAE, the path names the master SAE.
    DecKeys,
}

/// Path and role naming of one edition of the key delivery API.
pub trait KeyDeliveryApi: Send + Sync + fmt::Debug {
    /// The edition, for logs (for example "ETSI GS QKD 014 V1.1.1").
    fn edition(&self) -> &'static str;

    /// The name of the role that requests new keys ("master" in V1.1.1).
    fn initiator_role(&self) -> &'static str;

    /// The name of the role that retrieves keys by ID ("slave" in V1.1.1).
    fn responder_role(&self) -> &'static str;

    /// The request path for `op`. `peer_sae_id` is the SAE the path names: the responder for
    /// [`Operation::Status`] and [`Operation::EncKeys`], the initiator for
    /// [`Operation::DecKeys`]. The ID is percent-encoded here.
    fn path(&self, op: Operation, peer_sae_id: &str) -> String;

    /// The inverse of [`KeyDeliveryApi::path`], for a KME: the operation and the decoded SAE ID,
    /// or `None` when the path is not one of this edition's.
    fn parse_path(&self, path: &str) -> Option<(Operation, String)>;

    /// Whether `op` may be sent as GET with a query string.
    fn allows_get(&self, op: Operation) -> bool;
}

/// ETSI GS QKD 014 V1.1.1 (2019-02): `/api/v1/keys/{SAE_ID}/{status|enc_keys|dec_keys}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EtsiV1;

impl KeyDeliveryApi for EtsiV1 {
    fn edition(&self) -> &'static str {
        "ETSI GS QKD 014 V1.1.1"
    }

    fn initiator_role(&self) -> &'static str {
        "master"
    }

    fn responder_role(&self) -> &'static str {
        "slave"
    }

    fn path(&self, op: Operation, peer_sae_id: &str) -> String {
        format!(
            "{V1_PREFIX}{}/{}",
            percent_encode(peer_sae_id),
            v1_method(op)
        )
    }

    fn parse_path(&self, path: &str) -> Option<(Operation, String)> {
        let rest = path.strip_prefix(V1_PREFIX)?;
        let (sae, method) = rest.split_once('/')?;
        let op = match method {
            "status" => Operation::Status,
            "enc_keys" => Operation::EncKeys,
            "dec_keys" => Operation::DecKeys,
            _ => return None,
        };
        let sae = percent_decode(sae)?;
        (!sae.is_empty()).then_some((op, sae))
    }

    fn allows_get(&self, _op: Operation) -> bool {
        true
    }
}

/// The API edition a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApiFlavor {
    /// ETSI GS QKD 014 V1.1.1.
    #[default]
    EtsiV1,
}

impl ApiFlavor {
    /// The naming of this edition.
    pub fn api(self) -> &'static dyn KeyDeliveryApi {
        match self {
            Self::EtsiV1 => &EtsiV1,
        }
    }
}

fn v1_method(op: Operation) -> &'static str {
    match op {
        Operation::Status => "status",
        Operation::EncKeys => "enc_keys",
        Operation::DecKeys => "dec_keys",
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Decodes `%XX` escapes (paths and query values); `None` on a broken escape or a non-UTF-8
/// result.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(hex[0]).to_digit(16)?;
            let lo = char::from(hex[1]).to_digit(16)?;
            out.push(u8::try_from(hi << 4 | lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

const V1_PREFIX: &str = "/api/v1/keys/";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_paths_follow_table_2() {
        let api = ApiFlavor::EtsiV1.api();
        assert_eq!(
            api.path(Operation::Status, "bob"),
            "/api/v1/keys/bob/status"
        );
        assert_eq!(
            api.path(Operation::EncKeys, "bob"),
            "/api/v1/keys/bob/enc_keys"
        );
        assert_eq!(
            api.path(Operation::DecKeys, "alice"),
            "/api/v1/keys/alice/dec_keys"
        );
        assert_eq!(
            (api.initiator_role(), api.responder_role()),
            ("master", "slave")
        );
    }

    #[test]
    fn sae_ids_are_percent_encoded_both_ways() {
        let api = EtsiV1;
        let path = api.path(Operation::EncKeys, "sae b/ü");
        assert_eq!(path, "/api/v1/keys/sae%20b%2F%C3%BC/enc_keys");
        assert_eq!(
            api.parse_path(&path),
            Some((Operation::EncKeys, "sae b/ü".to_owned()))
        );
    }

    #[test]
    fn foreign_paths_are_refused() {
        let api = EtsiV1;
        for p in [
            "/api/v1/keys//status",
            "/api/v1/keys/bob/keys",
            "/api/v2/keys/bob/status",
            "/api/v1/keys/bob/status/x",
            "/api/v1/keys/b%zz/status",
            "/api/v1/keys/%FF/status",
        ] {
            assert_eq!(api.parse_path(p), None, "{p}");
        }
    }
}
