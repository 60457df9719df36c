//! Whether an IKE identity (IDi or IDr, RFC 7296 §3.5) is one its certificate vouches for
//! (RFC 4945 §3.1 in spirit): FQDN, RFC 822 and IP address identities against the
//! subjectAltName entries of the same kind, ID_DER_ASN1_DN against the subject DN.
//!
//! Names compare exactly, except that FQDNs and e-mail addresses ignore ASCII case; there are
//! no wildcards, and a DN compares by its DER octets.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::wire::{IdType, Identification};

/// `Ok` when `cert` names `id`.
///
/// # Errors
/// A static reason, reported as AUTHENTICATION_FAILED.
pub fn matches_identity(
    cert: &X509Certificate<'_>,
    id: &Identification,
) -> Result<(), &'static str> {
    const MISMATCH: &str = "peer identity does not match its certificate";
    if id.id_type == IdType::DER_ASN1_DN {
        return if cert.subject().as_raw() == id.data.as_slice() {
            Ok(())
        } else {
            Err(MISMATCH)
        };
    }
    let san = cert
        .subject_alternative_name()
        .map_err(|_| "certificate has duplicate extensions")?;
    let names = san
        .map(|s| s.value.general_names.as_slice())
        .unwrap_or_default();
    let text = std::str::from_utf8(&id.data).ok();
    let found = names.iter().any(|n| match (n, id.id_type) {
        (GeneralName::DNSName(d), IdType::FQDN) => text.is_some_and(|t| d.eq_ignore_ascii_case(t)),
        (GeneralName::RFC822Name(e), IdType::RFC822_ADDR) => {
            text.is_some_and(|t| e.eq_ignore_ascii_case(t))
        }
        (GeneralName::IPAddress(a), IdType::IPV4_ADDR | IdType::IPV6_ADDR) => {
            *a == id.data.as_slice()
        }
        _ => false,
    });
    if found { Ok(()) } else { Err(MISMATCH) }
}
